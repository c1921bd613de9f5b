package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"
)

// ActionSpamDeleted is the audit action of DeleteSpam.
const ActionSpamDeleted = "spam.deleted"

// spamBefore selects the quarantined leads captured before a time; the
// index of worked leads (leads_status) finds them.
const spamBefore = "status = 'spam' AND created_at < ?"

// DeleteSpam deletes the quarantined leads captured before the given time;
// see leadwire.LeadService. It erases as EraseContact does: what is
// deleted is overwritten, and the write-ahead log is truncated after.
func (s *Store) DeleteSpam(ctx context.Context, before time.Time) (int, error) {
	o := &deleteSpamOp{before: before.UnixMilli()}
	if err := s.w.do(ctx, o); err != nil {
		return 0, err
	}
	return o.deleted, nil
}

// deleteSpamOp deletes old spam and the contacts only it held.
type deleteSpamOp struct {
	before  int64
	deleted int
}

func (o *deleteSpamOp) apply(w *writer, now time.Time) error {
	ctx := context.Background() // as in run: the batch's commit is not one caller's
	var indexed int64
	if err := w.conn.QueryRowContext(ctx, lastIndexedQuery).Scan(&indexed); err != nil {
		return err
	}
	rows, err := w.conn.QueryContext(ctx, "SELECT rowid, id, contact_id FROM leads WHERE "+spamBefore+" ORDER BY rowid", o.before)
	if err != nil {
		return err
	}
	leadIDs, rowids, contacts := []string{}, []int64{}, map[string]bool{}
	var pairs [][2]any // the leads' rows in contact_leads
	for rows.Next() {
		var rowid int64
		var id, contact string
		if err := rows.Scan(&rowid, &id, &contact); err != nil {
			rows.Close()
			return err
		}
		leadIDs, rowids, contacts[contact] = append(leadIDs, id), append(rowids, rowid), true
		pairs = append(pairs, [2]any{contact, rowid})
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil || len(leadIDs) == 0 {
		return err
	}
	rowidsJSON, err := json.Marshal(rowids)
	if err != nil {
		return err
	}
	leadRows := string(rowidsJSON) // text: SQLite reads a blob as binary JSON
	if err := w.words.load("rowid IN (SELECT value FROM json_each(?))", leadRows); err != nil {
		return err
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
			return err
		}
	}
	for _, p := range pairs {
		if _, err := w.conn.ExecContext(ctx, "DELETE FROM contact_leads WHERE contact_id = ? AND lead_rowid = ?", p[0], p[1]); err != nil {
			return err
		}
	}
	if err := w.words.prune(); err != nil {
		return err
	}
	for contact := range contacts {
		// A contact of its own (see spamContact) goes with its lead; one a
		// lead joined before an agent marked it spam stays with its other
		// leads: those contact_leads holds, and those stored since the
		// writer last filled it. A contact with match keys is in the
		// writer's memory, which is then read again.
		var keyed bool
		err := w.conn.QueryRowContext(ctx, `DELETE FROM contacts WHERE id = ?1
			AND NOT EXISTS (SELECT 1 FROM contact_leads WHERE contact_id = ?1)
			AND NOT EXISTS (SELECT 1 FROM leads WHERE rowid > ?2 AND contact_id = ?1)
			RETURNING email_key != '' OR phone_key != ''`, contact, indexed).Scan(&keyed)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			continue
		case err != nil:
			return err
		}
		if _, err := w.conn.ExecContext(ctx, "DELETE FROM contact_keys WHERE contact_id = ?", contact); err != nil {
			return err
		}
		if keyed {
			w.mem = nil
		}
	}
	details, err := json.Marshal(map[string][]string{"leads": leadIDs})
	if err != nil {
		return err
	}
	if _, err := w.conn.ExecContext(ctx, `INSERT INTO audit (id, user_id, action, subject, details, created_at)
		VALUES (?, '', ?, '', ?, ?)`, newID().String(), ActionSpamDeleted, string(details), now.UnixMilli()); err != nil {
		return err
	}
	o.deleted = len(leadIDs)
	return nil
}

// committed truncates the write-ahead log, as an erasure does.
func (o *deleteSpamOp) committed(w *writer) error {
	if o.deleted == 0 {
		return nil
	}
	return truncateWAL(w)
}
