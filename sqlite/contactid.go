package sqlite

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"database/sql"
	"fmt"

	"github.com/google/uuid"
	"github.com/leadwire/leadwire"
)

// contactIDs turns the key a contact is stored under into the id the API
// shows, and back. Contacts are stored under time-ordered (version 7)
// UUIDs, so that a new contact appends to the table's B-tree: with random
// keys every new contact dirties a page of its own, which cost a third of
// the capture throughput for new visitors. But a capture's answer carries
// its contact's id, and a time-ordered id would tell whoever sent the lead
// when the person became known. So the API shows the key encrypted with
// AES under a key the database keeps (table secrets): a bijection that
// looks random to anyone without the key and costs nanoseconds.
type contactIDs struct {
	block cipher.Block
}

func loadContactIDs(ctx context.Context, db *sql.DB) (contactIDs, error) {
	var key []byte
	if err := db.QueryRowContext(ctx, "SELECT value FROM secrets WHERE name = 'contact_ids'").Scan(&key); err != nil {
		return contactIDs{}, fmt.Errorf("reading the contact id key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return contactIDs{}, fmt.Errorf("the contact id key: %w", err)
	}
	return contactIDs{block}, nil
}

// public returns the id the API shows for the contact stored under key.
func (c contactIDs) public(key uuid.UUID) string {
	var id uuid.UUID
	c.block.Encrypt(id[:], key[:])
	return id.String()
}

// publicOf is public for a key as stored in the database.
func (c contactIDs) publicOf(key string) (string, error) {
	u, err := uuid.Parse(key)
	if err != nil {
		return "", fmt.Errorf("contact key %q: %w", key, err)
	}
	return c.public(u), nil
}

// key returns the key the contact with the public id is stored under; ok
// is false for an id that is not in canonical form.
func (c contactIDs) key(id string) (key string, ok bool) {
	if !leadwire.IsCanonicalID(id) {
		return "", false
	}
	var k uuid.UUID
	u := uuid.MustParse(id) // canonical, so it parses
	c.block.Decrypt(k[:], u[:])
	return k.String(), true
}
