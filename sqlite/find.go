package sqlite

import (
	"context"

	"github.com/leadwire/leadwire"
)

// FindLeadByID returns the lead without its timeline; see
// leadwire.LeadService.
func (s *Store) FindLeadByID(ctx context.Context, id string) (*leadwire.Lead, error) {
	if !leadwire.IsCanonicalID(id) {
		return nil, leadNotFound(id)
	}
	leads, _, err := s.queryLeads(ctx, s.read, "SELECT "+leadColumns+" FROM leads WHERE id = ?", id)
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
