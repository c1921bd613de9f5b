package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// ActionSpamDeleted is the audit action of DeleteSpam.
const ActionSpamDeleted = "spam.deleted"

// DeleteSpam deletes the quarantined leads captured before the given time,
// with the contacts only they held; see leadwire.LeadService. It deletes
// as EraseContact does, rows and the idempotency keys of their captures,
// and the same holds of what PostgreSQL keeps after (see EraseContact).
func (s *Store) DeleteSpam(ctx context.Context, before time.Time) (int, error) {
	at := s.nowMillis()
	var deleted int
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		deleted = 0
		// Locked, so that a lead an agent restores meanwhile is read again
		// once restored, and stays. The index of worked leads
		// (leads_status) finds them.
		rows, err := tx.Query(ctx, `SELECT id::text, contact_id::text FROM leads
			WHERE status = 'spam' AND created_at < $1 ORDER BY seq FOR UPDATE`, before.UnixMilli())
		if err != nil {
			return err
		}
		leadIDs, contactIDs, seen := []string{}, []string{}, map[string]bool{}
		for rows.Next() {
			var id, contact string
			if err := rows.Scan(&id, &contact); err != nil {
				rows.Close()
				return err
			}
			leadIDs = append(leadIDs, id)
			if !seen[contact] {
				seen[contact] = true
				contactIDs = append(contactIDs, contact)
			}
		}
		if err := rows.Err(); err != nil || len(leadIDs) == 0 {
			return err
		}
		// A contact of its own (see storeBatch) has no match keys; one a
		// lead joined before an agent marked it spam has, and no capture
		// may join it while it may go.
		if err := lockContactKeys(ctx, tx, contactIDs); err != nil {
			return err
		}
		if err := forgetCaptures(ctx, tx, leadIDs, at); err != nil {
			return err
		}
		if err := deleteDeliveries(ctx, tx, leadIDs); err != nil {
			return err
		}
		for _, d := range []struct {
			query string
			ids   []string
		}{
			{"DELETE FROM activities WHERE lead_id = ANY($1::text[]::uuid[])", leadIDs},
			{"DELETE FROM leads WHERE id = ANY($1::text[]::uuid[])", leadIDs},
			// The contacts only these leads held; one with other leads
			// stays with them, and its keys.
			{`DELETE FROM contact_keys k WHERE contact_id = ANY($1::text[]::uuid[])
				AND NOT EXISTS (SELECT 1 FROM leads WHERE contact_id = k.contact_id)`, contactIDs},
			{`DELETE FROM contacts c WHERE id = ANY($1::text[]::uuid[])
				AND NOT EXISTS (SELECT 1 FROM leads WHERE contact_id = c.id)`, contactIDs},
		} {
			if _, err := tx.Exec(ctx, d.query, d.ids); err != nil {
				return err
			}
		}
		deleted = len(leadIDs)
		return audit(ctx, tx, "", ActionSpamDeleted, "", leadIDs, at)
	})
	if err != nil {
		return 0, err
	}
	return deleted, nil
}
