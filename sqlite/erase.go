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
	// The contact's leads: those contact_leads holds, and those stored
	// since the writer last filled it.
	var indexed int64
	if err := w.conn.QueryRowContext(ctx, lastIndexedQuery).Scan(&indexed); err != nil {
		return err
	}
	leadIDs, err := eraseLeads(w, now, `rowid IN (SELECT lead_rowid FROM contact_leads WHERE contact_id = ?1
		UNION ALL SELECT rowid FROM leads WHERE rowid > ?2 AND contact_id = ?1)`, o.contactKey, indexed)
	if err != nil {
		return err
	}
	if err := deleteContact(w, o.contactKey); err != nil {
		return err
	}
	return audit(w, now, o.userID, ActionContactErased, o.contactID, leadIDs)
}

// eraseLeads erases the leads where selects (a condition on leads, with
// its arguments) and everything recorded about them, and returns their
// ids. Their contacts stay. An Idempotency-Key sent again within the
// window does not bring them back: it is refused (erased_captures, and
// the writer's memory of them).
func eraseLeads(w *writer, now time.Time, where string, args ...any) ([]string, error) {
	ctx := context.Background()
	rows, err := w.conn.QueryContext(ctx, "SELECT rowid, id, channel_id, contact_id, idempotency_key, created_at FROM leads WHERE "+
		where+" ORDER BY rowid", args...)
	if err != nil {
		return nil, err
	}
	leadIDs, rowids := []string{}, []int64{}
	var contactLeads [][2]any // the leads' rows in contact_leads
	var captures [][2]string  // the channels and idempotency keys of the leads' captures
	var erased []string       // those of the window, as erased_captures keeps them
	cutoff := now.Add(-leadwire.IdempotencyWindow).UnixMilli()
	for rows.Next() {
		var rowid, created int64
		var id, channelID, contact, key string
		if err := rows.Scan(&rowid, &id, &channelID, &contact, &key, &created); err != nil {
			rows.Close()
			return nil, err
		}
		leadIDs, rowids = append(leadIDs, id), append(rowids, rowid)
		contactLeads = append(contactLeads, [2]any{contact, rowid})
		if key != "" {
			captures = append(captures, [2]string{channelID, key})
			if created > cutoff {
				erased = append(erased, erasedKey(channelID, key))
			}
		}
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil || len(leadIDs) == 0 {
		return leadIDs, err
	}
	rowidsJSON, err := json.Marshal(rowids)
	if err != nil {
		return nil, err
	}
	leadRows := string(rowidsJSON) // text: SQLite reads a blob as binary JSON
	// The words only these leads hold leave the search's word list too.
	if err := w.words.load("rowid IN (SELECT value FROM json_each(?))", leadRows); err != nil {
		return nil, err
	}
	for _, q := range []string{
		"DELETE FROM activities WHERE lead_id IN (SELECT id FROM leads WHERE rowid IN (SELECT value FROM json_each(?)))",
		`DELETE FROM delivery_attempts WHERE delivery_id IN (SELECT id FROM deliveries
			WHERE lead_id IN (SELECT id FROM leads WHERE rowid IN (SELECT value FROM json_each(?))))`,
		"DELETE FROM deliveries WHERE lead_id IN (SELECT id FROM leads WHERE rowid IN (SELECT value FROM json_each(?)))",
		"DELETE FROM lead_assignees WHERE lead_id IN (SELECT id FROM leads WHERE rowid IN (SELECT value FROM json_each(?)))",
		"DELETE FROM leads_fts WHERE rowid IN (SELECT value FROM json_each(?))",
		"DELETE FROM leads WHERE rowid IN (SELECT value FROM json_each(?))",
	} {
		if _, err := w.conn.ExecContext(ctx, q, leadRows); err != nil {
			return nil, err
		}
	}
	for _, c := range contactLeads {
		if _, err := w.conn.ExecContext(ctx, "DELETE FROM contact_leads WHERE contact_id = ? AND lead_rowid = ?", c[0], c[1]); err != nil {
			return nil, err
		}
	}
	for _, c := range captures {
		if _, err := w.conn.ExecContext(ctx, "DELETE FROM captures WHERE channel_id = ? AND idempotency_key = ?", c[0], c[1]); err != nil {
			return nil, err
		}
	}
	for _, k := range erased {
		if _, err := w.conn.ExecContext(ctx, "INSERT OR REPLACE INTO erased_captures (key_hash, created_at) VALUES (?, ?)", k, now.UnixMilli()); err != nil {
			return nil, err
		}
		if w.mem != nil {
			w.mem.erased[k] = now.UnixMilli()
		}
	}
	return leadIDs, w.words.prune()
}

// deleteContact deletes a contact and its match keys, which are its email
// and phone keys: they are filled, never replaced. A contact with keys is
// in the writer's memory, which is then read again from the database,
// inside this transaction for the next capture: exact, where taking one
// contact out would have to find which other contact each key finds now.
// Deletions are rare; reloading takes about a second per million
// contacts.
func deleteContact(w *writer, key string) error {
	var keyed bool
	err := w.conn.QueryRowContext(context.Background(), "SELECT email_key != '' OR phone_key != '' FROM contacts WHERE id = ?", key).Scan(&keyed)
	if err != nil {
		return err
	}
	if keyed {
		w.mem = nil
	}
	for _, q := range []string{
		`DELETE FROM contact_keys WHERE (brand, kind, key, contact_id) IN
			(SELECT brand, 'email', email_key, id FROM contacts WHERE id = ?1
			UNION ALL SELECT brand, 'phone', phone_key, id FROM contacts WHERE id = ?1)`,
		"DELETE FROM contacts WHERE id = ?",
	} {
		if _, err := w.conn.ExecContext(context.Background(), q, key); err != nil {
			return err
		}
	}
	return nil
}

// audit records who did what to which subject, naming the leads it
// concerned by id: never the personal data.
func audit(w *writer, now time.Time, userID, action, subject string, leadIDs []string) error {
	details, err := json.Marshal(map[string][]string{"leads": leadIDs})
	if err != nil {
		return err
	}
	_, err = w.conn.ExecContext(context.Background(), `INSERT INTO audit (id, user_id, action, subject, details, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`, newID().String(), userID, action, subject, string(details), now.UnixMilli())
	return err
}

// committed truncates the write-ahead log, whose frames still hold the
// pages as they were before the erasure.
func (o *eraseOp) committed(w *writer) error { return truncateWAL(w) }

// truncateWAL checkpoints the write-ahead log into the database and
// truncates it, so that the pages as they were before a deletion leave
// the disk.
func truncateWAL(w *writer) error {
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
