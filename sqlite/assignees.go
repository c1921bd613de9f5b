package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/leadwire/leadwire"
)

// ReplaceAssignees replaces the assignees of a lead's parsed payload and
// records the change on its timeline; see leadwire.LeadService.
func (s *Store) ReplaceAssignees(ctx context.Context, leadID string, assignees []leadwire.Assignee, idempotencyKey string) (*leadwire.Lead, error) {
	if !leadwire.IsCanonicalID(leadID) {
		return nil, leadNotFound(leadID)
	}
	o := &assigneesOp{leadID: leadID, after: leadwire.NormalizeAssignees(slices.Clone(assignees)), key: idempotencyKey}
	var err error
	if o.visible, o.visibleArgs, err = s.visibility(ctx); err != nil {
		return nil, err
	}
	if u := leadwire.UserFromContext(ctx); u != nil {
		o.actor = u.Email
	}
	if err := s.w.do(ctx, o); err != nil {
		return nil, err
	}
	// The caller could see the lead when they changed it, and is shown
	// it even when they just handed it on to somebody else.
	return s.FindLeadByID(leadwire.NewContextWithUser(ctx, nil), leadID)
}

// assigneesChange is the details of an ActionAssigneesChanged activity:
// the notes every activity has, and both lists in full.
type assigneesChange struct {
	Notes  string              `json:"notes"`
	Before []leadwire.Assignee `json:"assignees_before"`
	After  []leadwire.Assignee `json:"assignees_after"`
	Actor  string              `json:"actor,omitempty"`
}

// assigneesOp replaces the assignees of one lead.
type assigneesOp struct {
	leadID, key string
	after       []leadwire.Assignee
	actor       string // the email of the user making the change, if any
	// visible is the caller's condition of visibility; see updateOp.
	visible     string
	visibleArgs []any
}

func (o *assigneesOp) apply(w *writer, now time.Time) error {
	ctx := context.Background() // as in run: the batch's commit is not one caller's
	if o.key != "" {
		_, err := scanActivity(w.findActivity.QueryRow(o.leadID, o.key))
		switch {
		case err == nil:
			return nil // done the first time this key was sent
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
	}
	// SQLite's JSON functions read and change the one field in place,
	// so every other value of the payload keeps the text it was stored
	// with, numbers included.
	var before sql.NullString
	query, args := "SELECT json_extract(parsed_payload, '$.assignees') FROM leads WHERE id = ?", []any{o.leadID}
	if o.visible != "" {
		query, args = query+" AND "+o.visible, append(args, o.visibleArgs...)
	}
	err := w.conn.QueryRowContext(ctx, query, args...).Scan(&before)
	if errors.Is(err, sql.ErrNoRows) {
		return leadNotFound(o.leadID)
	}
	if err != nil {
		return err
	}
	change := assigneesChange{After: o.after, Actor: o.actor}
	if before.Valid {
		if err := json.Unmarshal([]byte(before.String), &change.Before); err != nil {
			return err
		}
	}
	if slices.Equal(change.Before, change.After) {
		return nil
	}
	change.Notes = leadwire.AssigneesChangeNotes(change.Before, change.After)
	details, err := json.Marshal(change)
	if err != nil {
		return err
	}
	if len(o.after) == 0 {
		_, err = w.conn.ExecContext(ctx, "UPDATE leads SET parsed_payload = json_remove(parsed_payload, '$.assignees') WHERE id = ?", o.leadID)
	} else {
		after, _ := json.Marshal(o.after) // strings only: cannot fail
		_, err = w.conn.ExecContext(ctx, "UPDATE leads SET parsed_payload = json_set(parsed_payload, '$.assignees', json(?)) WHERE id = ?", string(after), o.leadID)
	}
	if err != nil {
		return err
	}
	// The index of who the lead is assigned to follows the payload.
	if _, err := w.conn.ExecContext(ctx, "DELETE FROM lead_assignees WHERE lead_id = ?", o.leadID); err != nil {
		return err
	}
	for _, a := range o.after {
		if k := leadwire.EmailKey(a.Email); k != "" {
			if _, err := w.insertAssignee.Exec(k, o.leadID); err != nil {
				return err
			}
		}
	}
	_, err = w.insertActivity.Exec(newID().String(), o.leadID, leadwire.ActionAssigneesChanged, string(details), now.UnixMilli(), o.key)
	return err
}
