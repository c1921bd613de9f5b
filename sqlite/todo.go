package sqlite

// Placeholders while the read model is built; the leads API replaces this
// file.

import (
	"context"

	"github.com/leadwire/leadwire"
)

func (s *Store) SearchLeads(ctx context.Context, f leadwire.LeadFilter) ([]*leadwire.Lead, string, error) {
	return nil, "", leadwire.Errorf(leadwire.EINTERNAL, "not built")
}

func (s *Store) UpdateLead(ctx context.Context, id string, u leadwire.LeadUpdate) (*leadwire.Lead, error) {
	return nil, leadwire.Errorf(leadwire.EINTERNAL, "not built")
}

func (s *Store) EraseContact(ctx context.Context, id string) error {
	return leadwire.Errorf(leadwire.EINTERNAL, "not built")
}
