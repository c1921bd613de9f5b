package sqlite

import (
	"context"

	"github.com/leadwire/leadwire"
)

// FindLeadByID returns the lead without its timeline, when the caller may
// see it; see leadwire.LeadService.
func (s *Store) FindLeadByID(ctx context.Context, id string) (*leadwire.Lead, error) {
	if !leadwire.IsCanonicalID(id) {
		return nil, leadNotFound(id)
	}
	query, args := "SELECT "+leadColumns+" FROM leads WHERE id = ?", []any{id}
	cond, arg, err := s.visibility(ctx)
	if err != nil {
		return nil, err
	}
	if cond != "" {
		query, args = query+" AND "+cond, append(args, arg...)
	}
	leads, _, err := s.queryLeads(ctx, s.read, query, args...)
	if err != nil {
		return nil, err
	}
	if len(leads) == 0 {
		return nil, leadNotFound(id)
	}
	return leads[0], nil
}

func leadNotFound(id string) error {
	return leadwire.Errorf(leadwire.ENOTFOUND, "lead %q not found", id)
}
