package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/leadwire/leadwire"
)

// ActionContactErased is the audit action of EraseContact.
const ActionContactErased = "contact.erased"

// FindContactByID returns the contact with the given id, when the caller
// may see one of its leads; see leadwire.ContactService.
func (s *Store) FindContactByID(ctx context.Context, id string) (*leadwire.Contact, error) {
	if !leadwire.IsCanonicalID(id) {
		return nil, leadwire.Errorf(leadwire.ENOTFOUND, "contact %q not found", id)
	}
	// A contact is visible to the caller when one of its leads is.
	var sel selection
	sel.where = append(sel.where, "c.id = "+sel.arg(id)+"::uuid")
	var visible selection
	visible.args = sel.args
	visible.visibility(ctx)
	if len(visible.where) > 0 {
		sel.args = visible.args
		sel.where = append(sel.where, "EXISTS (SELECT 1 FROM leads WHERE leads.contact_id = c.id AND "+visible.where[0]+")")
	}
	c := leadwire.Contact{ID: id}
	var created, updated int64
	err := s.pool.QueryRow(ctx, `SELECT brand, first_name, last_name, email, phone_number, created_at, updated_at
		FROM contacts c WHERE `+strings.Join(sel.where, " AND "), sel.args...).
		Scan(&c.Brand, &c.FirstName, &c.LastName, &c.Email, &c.PhoneNumber, &created, &updated)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, leadwire.Errorf(leadwire.ENOTFOUND, "contact %q not found", id)
	}
	if err != nil {
		return nil, storageFault(err)
	}
	c.CreatedAt, c.UpdatedAt = fromMillis(created), fromMillis(updated)
	return &c, nil
}

// EraseContact erases a contact, its leads and everything recorded about
// them; see leadwire.ContactService.
//
// The rows are deleted, with no copy left in another table: the contact's
// match keys, its leads with their payloads, search words and assignees,
// their timelines, and the idempotency keys of their captures (kept only
// as hashes, for the idempotency window, so a retry is refused). Unlike
// SQLite's secure_delete, PostgreSQL leaves deleted rows in its data
// files until VACUUM reuses the space, and in the write-ahead log and its
// archives until they are recycled: what can be done from SQL is done
// here, and the database's operator keeps the rest (vacuum, WAL
// retention, backups) within the time erasure allows.
func (s *Store) EraseContact(ctx context.Context, id string) error {
	if !leadwire.IsCanonicalID(id) {
		return leadwire.Errorf(leadwire.ENOTFOUND, "contact %q not found", id)
	}
	userID := ""
	if u := leadwire.UserFromContext(ctx); u != nil {
		if u.Role != leadwire.RoleOwner {
			// Whether the contact exists is no business of an agent who
			// cannot see it.
			if _, err := s.FindContactByID(ctx, id); err != nil {
				return err
			}
			return leadwire.Errorf(leadwire.EFORBIDDEN, "only an owner may erase a contact")
		}
		userID = u.ID
	}
	at := s.nowMillis()
	return s.inTx(ctx, func(tx pgx.Tx) error {
		// No capture can join the contact while it goes.
		if err := lockContactKeys(ctx, tx, []string{id}); err != nil {
			return err
		}
		var exists bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM contacts WHERE id = $1 FOR UPDATE)", id).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return leadwire.Errorf(leadwire.ENOTFOUND, "contact %q not found", id)
		}
		var leadIDs []string
		if err := tx.QueryRow(ctx, "SELECT coalesce(array_agg(id::text ORDER BY seq), '{}') FROM leads WHERE contact_id = $1", id).Scan(&leadIDs); err != nil {
			return err
		}
		if err := forgetCaptures(ctx, tx, leadIDs, at); err != nil {
			return err
		}
		if err := deleteDeliveries(ctx, tx, leadIDs); err != nil {
			return err
		}
		for _, q := range []string{
			"DELETE FROM activities WHERE lead_id IN (SELECT id FROM leads WHERE contact_id = $1)",
			"DELETE FROM leads WHERE contact_id = $1",
			"DELETE FROM contact_keys WHERE contact_id = $1",
			"DELETE FROM contacts WHERE id = $1",
		} {
			if _, err := tx.Exec(ctx, q, id); err != nil {
				return err
			}
		}
		return audit(ctx, tx, userID, ActionContactErased, id, leadIDs, at)
	})
}

// lockContactKeys takes the locks a capture takes on the match keys of
// the contacts (see lockID), so that no capture joins them until the
// transaction ends. A capture holding one of their keys may have given
// them another one (an email or phone filled) before its commit let the
// locks be taken: the keys are read again, under the locks, until no new
// one appears. A key can only come through a capture holding a key the
// contact has, so once all are held, none comes.
func lockContactKeys(ctx context.Context, tx pgx.Tx, contactIDs []string) error {
	held := map[int64]bool{}
	for {
		rows, err := tx.Query(ctx, "SELECT brand, kind, key FROM contact_keys WHERE contact_id = ANY($1::text[]::uuid[])", contactIDs)
		if err != nil {
			return err
		}
		var locks []int64
		for rows.Next() {
			var k matchKey
			if err := rows.Scan(&k.brand, &k.kind, &k.key); err != nil {
				rows.Close()
				return err
			}
			if id := k.lockID(); !held[id] {
				held[id] = true
				locks = append(locks, id)
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if len(locks) == 0 {
			return nil
		}
		// Sorted, as a capture takes them. Keys found on a second read
		// come after the first ones, out of that order: PostgreSQL then
		// breaks a deadlock with a capture, and the transaction runs again.
		slices.Sort(locks)
		if _, err := tx.Exec(ctx, lockKeys, slices.Compact(locks)); err != nil {
			return err
		}
	}
}

// forgetCaptures deletes the idempotency keys of the captures of the
// leads, which are about to be deleted. A key used within the idempotency
// window is kept as a hash (erased_captures) until the window ends, so
// that a retry of the capture is refused rather than stored again.
func forgetCaptures(ctx context.Context, tx pgx.Tx, leadIDs []string, at int64) error {
	rows, err := tx.Query(ctx, `DELETE FROM idempotency_keys
		WHERE capture_id IN (SELECT capture_id FROM leads WHERE id = ANY($1::text[]::uuid[]))
		RETURNING channel_id::text, key, created_at`, leadIDs)
	if err != nil {
		return err
	}
	cutoff := at - leadwire.IdempotencyWindow.Milliseconds()
	var erased []string
	for rows.Next() {
		var channelID, key string
		var created int64
		if err := rows.Scan(&channelID, &key, &created); err != nil {
			rows.Close()
			return err
		}
		if created > cutoff {
			erased = append(erased, erasedKey(channelID, key))
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO erased_captures (key_hash, created_at) SELECT k, $2 FROM unnest($1::text[]) AS k
		ON CONFLICT (key_hash) DO UPDATE SET created_at = excluded.created_at`, erased, at)
	return err
}

// audit records that the user ("" for the command line) deleted the
// leads: their ids only, never the personal data deleted.
func audit(ctx context.Context, tx pgx.Tx, userID, action, subject string, leadIDs []string, at int64) error {
	details, err := json.Marshal(map[string][]string{"leads": leadIDs})
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO audit (id, user_id, action, subject, details, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, newID(), userID, action, subject, string(details), at)
	return err
}
