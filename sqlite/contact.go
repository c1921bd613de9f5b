package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/google/uuid"
	"github.com/leadwire/leadwire"
)

// FindContactByID returns the contact with the given id.
func (s *Store) FindContactByID(ctx context.Context, id string) (*leadwire.Contact, error) {
	u, err := uuid.Parse(id)
	if err != nil {
		return nil, leadwire.Errorf(leadwire.ENOTFOUND, "contact %q not found", id)
	}
	var c leadwire.Contact
	var created, updated int64
	err = s.read.QueryRowContext(ctx, `SELECT id, brand, first_name, last_name, email, phone_number,
		created_at, updated_at FROM contacts WHERE id = ?`, u.String()).
		Scan(&c.ID, &c.Brand, &c.FirstName, &c.LastName, &c.Email, &c.PhoneNumber, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, leadwire.Errorf(leadwire.ENOTFOUND, "contact %q not found", id)
	}
	if err != nil {
		return nil, err
	}
	c.CreatedAt, c.UpdatedAt = fromMillis(created), fromMillis(updated)
	return &c, nil
}

// newContactID returns a random (version 4) UUID. Unlike the time-ordered
// ids of leads, a contact id must not tell when the contact was created:
// a lead's answer carries its contact's id, and a time from long ago would
// tell whoever sent the lead that the person was already known.
func newContactID() uuid.UUID {
	return uuid.New()
}
