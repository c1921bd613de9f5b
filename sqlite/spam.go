package sqlite

import (
	"context"
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
	rows, err := w.conn.QueryContext(ctx, "SELECT DISTINCT contact_id FROM leads WHERE "+spamBefore, o.before)
	if err != nil {
		return err
	}
	var contacts []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			rows.Close()
			return err
		}
		contacts = append(contacts, c)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil || len(contacts) == 0 {
		return err
	}
	var indexed int64
	if err := w.conn.QueryRowContext(ctx, lastIndexedQuery).Scan(&indexed); err != nil {
		return err
	}
	leadIDs, err := eraseLeads(w, now, spamBefore, o.before)
	if err != nil {
		return err
	}
	for _, contact := range contacts {
		// A contact of its own (see spamContact) goes with its lead; one a
		// lead joined before an agent marked it spam stays with its other
		// leads: those contact_leads holds, and those stored since the
		// writer last filled it.
		var others bool
		if err := w.conn.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM contact_leads WHERE contact_id = ?1)
			OR EXISTS (SELECT 1 FROM leads WHERE rowid > ?2 AND contact_id = ?1)`, contact, indexed).Scan(&others); err != nil {
			return err
		}
		if !others {
			if err := deleteContact(w, contact); err != nil {
				return err
			}
		}
	}
	o.deleted = len(leadIDs)
	return audit(w, now, "", ActionSpamDeleted, "", leadIDs)
}

// committed truncates the write-ahead log, as an erasure does.
func (o *deleteSpamOp) committed(w *writer) error {
	if o.deleted == 0 {
		return nil
	}
	return truncateWAL(w)
}
