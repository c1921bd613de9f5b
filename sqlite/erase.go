package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/leadwire/leadwire"
)

// ActionContactErased is the audit action of EraseContact.
const ActionContactErased = "contact.erased"

// EraseContact erases a contact, its leads and everything recorded about
// them; see leadwire.ContactService.
//
// The write connection runs with secure_delete on, so SQLite overwrites
// what it deletes with zeros instead of leaving it in free space, and the
// FTS index removes the words of erased leads (its secure-delete option)
// instead of marking them deleted. Once committed, the write-ahead log,
// which still holds the pages as they were, is checkpointed into the
// database and truncated.
func (s *Store) EraseContact(ctx context.Context, id string) error {
	key, ok := s.contactIDs.key(id)
	if !ok {
		return leadwire.Errorf(leadwire.ENOTFOUND, "contact %q not found", id)
	}
	o := &eraseOp{contactKey: key, contactID: id}
	if u := leadwire.UserFromContext(ctx); u != nil {
		if u.Role != leadwire.RoleOwner {
			// Whether the contact exists is no business of an agent who
			// cannot see it.
			if _, err := s.FindContactByID(ctx, id); err != nil {
				return err
			}
			return leadwire.Errorf(leadwire.EFORBIDDEN, "only an owner may erase a contact")
		}
		o.userID = u.ID
	}
	return s.w.do(ctx, o)
}

// eraseOp erases one contact and its leads.
type eraseOp struct {
	contactKey, contactID string
	userID                string
}

func (o *eraseOp) apply(w *writer, now time.Time) error {
	ctx := context.Background() // as in run: the batch's commit is not one caller's
	var exists bool
	if err := w.conn.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM contacts WHERE id = ?)", o.contactKey).Scan(&exists); err != nil {
		return err
	}
	if !exists {
		return leadwire.Errorf(leadwire.ENOTFOUND, "contact %q not found", o.contactID)
	}
	at := now.UnixMilli()
	cutoff := now.Add(-leadwire.IdempotencyWindow).UnixMilli()
	rows, err := w.conn.QueryContext(ctx, `SELECT id, channel_id, idempotency_key, created_at
		FROM leads WHERE contact_id = ? ORDER BY rowid`, o.contactKey)
	if err != nil {
		return err
	}
	leadIDs := []string{}
	var keys []string
	for rows.Next() {
		var id, channelID, key string
		var created int64
		if err := rows.Scan(&id, &channelID, &key, &created); err != nil {
			rows.Close()
			return err
		}
		leadIDs = append(leadIDs, id)
		if key != "" && created > cutoff {
			keys = append(keys, erasedKey(channelID, key))
		}
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return err
	}
	// The words only these leads hold leave the search's word list too.
	if err := w.words.load("rowid IN (SELECT rowid FROM leads WHERE contact_id = ?)", o.contactKey); err != nil {
		return err
	}
	for _, q := range []string{
		"DELETE FROM activities WHERE lead_id IN (SELECT id FROM leads WHERE contact_id = ?)",
		`DELETE FROM delivery_attempts WHERE delivery_id IN (SELECT deliveries.id FROM deliveries
			JOIN leads ON leads.id = deliveries.lead_id WHERE contact_id = ?)`,
		"DELETE FROM deliveries WHERE lead_id IN (SELECT id FROM leads WHERE contact_id = ?)",
		"DELETE FROM lead_assignees WHERE lead_id IN (SELECT id FROM leads WHERE contact_id = ?)",
		"DELETE FROM leads_fts WHERE rowid IN (SELECT rowid FROM leads WHERE contact_id = ?)",
		"DELETE FROM leads WHERE contact_id = ?",
		"DELETE FROM contacts WHERE id = ?",
	} {
		if _, err := w.conn.ExecContext(ctx, q, o.contactKey); err != nil {
			return err
		}
	}
	if err := w.words.prune(); err != nil {
		return err
	}
	for _, k := range keys {
		if _, err := w.conn.ExecContext(ctx, "INSERT OR REPLACE INTO erased_captures (key_hash, created_at) VALUES (?, ?)", k, at); err != nil {
			return err
		}
	}
	details, err := json.Marshal(map[string][]string{"leads": leadIDs})
	if err != nil {
		return err
	}
	if _, err := w.conn.ExecContext(ctx, `INSERT INTO audit (id, user_id, action, subject, details, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`, newID().String(), o.userID, ActionContactErased, o.contactID, string(details), at); err != nil {
		return err
	}
	// The memory holds the contact's match keys and its leads'
	// idempotency keys. It is read again from the database, inside this
	// transaction for the next capture: exact, where taking one contact
	// out would have to find which other contact each key finds now.
	// Erasures are rare; reloading takes about a second per million
	// contacts.
	w.mem = nil
	return nil
}

// committed truncates the write-ahead log, whose frames still hold the
// pages as they were before the erasure.
func (o *eraseOp) committed(w *writer) error {
	var busy, logFrames, checkpointed int
	err := w.conn.QueryRowContext(context.Background(), "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logFrames, &checkpointed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil // not in WAL mode: nothing to truncate
	}
	if err != nil {
		return err
	}
	if busy != 0 {
		return fmt.Errorf("the contact is erased, but readers kept the write-ahead log from being cleared: erase it again later")
	}
	return nil
}
