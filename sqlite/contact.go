package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/google/uuid"
	"github.com/leadwire/leadwire"
)

// FindContactByID returns the contact with the given id, when the caller
// may see one of its leads; see leadwire.ContactService.
func (s *Store) FindContactByID(ctx context.Context, id string) (*leadwire.Contact, error) {
	key, ok := s.contactIDs.key(id)
	if !ok {
		return nil, leadwire.Errorf(leadwire.ENOTFOUND, "contact %q not found", id)
	}
	c := leadwire.Contact{ID: id}
	var created, updated int64
	// A contact is visible to the caller when one of its leads is.
	query, args := `SELECT brand, first_name, last_name, email, phone_number,
		created_at, updated_at FROM contacts WHERE id = ?`, []any{key}
	cond, arg, err := s.visibility(ctx)
	if err != nil {
		return nil, err
	}
	if cond != "" {
		// visibility has brought contact_leads up to date.
		query, args = query+` AND EXISTS (SELECT 1 FROM leads WHERE rowid IN
			(SELECT lead_rowid FROM contact_leads WHERE contact_id = contacts.id) AND `+cond+")", append(args, arg...)
	}
	err = s.read.QueryRowContext(ctx, query, args...).
		Scan(&c.Brand, &c.FirstName, &c.LastName, &c.Email, &c.PhoneNumber, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, leadwire.Errorf(leadwire.ENOTFOUND, "contact %q not found", id)
	}
	if err != nil {
		return nil, err
	}
	c.CreatedAt, c.UpdatedAt = fromMillis(created), fromMillis(updated)
	return &c, nil
}

// newContactKey returns the key a new contact is stored under:
// time-ordered, like every key, and never shown as it is (see contactIDs).
func newContactKey() uuid.UUID {
	return newID()
}
