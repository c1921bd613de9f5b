package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/leadwire/leadwire"
)

// maxNotesLength bounds a note added through UpdateLead, in characters.
const maxNotesLength = 10000

// lockLead reads the chosen column of a lead the caller may see and locks
// the lead's row until the transaction ends, so that what the caller may
// change is decided on what is committed.
func lockLead(ctx context.Context, tx pgx.Tx, id, column string, dest any) error {
	var sel selection
	sel.where = append(sel.where, "leads.id = "+sel.arg(id)+"::uuid")
	sel.visibility(ctx)
	err := tx.QueryRow(ctx, "SELECT "+column+" FROM leads WHERE "+strings.Join(sel.where, " AND ")+" FOR UPDATE", sel.args...).Scan(dest)
	if errors.Is(err, pgx.ErrNoRows) {
		return leadNotFound(id)
	}
	return err
}

// insertActivity is the statement that adds an activity of a change.
const insertActivity = `INSERT INTO activities (id, lead_id, action, details, created_at, idempotency_key) VALUES ($1, $2, $3, $4, $5, $6)`

// UpdateLead changes a lead's status and adds notes to its timeline; see
// leadwire.LeadService.
func (s *Store) UpdateLead(ctx context.Context, id string, u leadwire.LeadUpdate) (*leadwire.Lead, error) {
	if !leadwire.IsCanonicalID(id) {
		return nil, leadNotFound(id)
	}
	var actor, status, notes string
	if user := leadwire.UserFromContext(ctx); user != nil {
		actor = user.Email
	}
	if u.Status == nil && u.Notes == nil {
		return nil, leadwire.Errorf(leadwire.EINVALID, "nothing to change: send status or notes")
	}
	if u.Status != nil {
		if !slices.Contains(leadwire.Statuses, *u.Status) {
			return nil, leadwire.Errorf(leadwire.EINVALID, "status %q is not one of %s", *u.Status, strings.Join(leadwire.Statuses, ", "))
		}
		status = *u.Status
	}
	if u.Notes != nil {
		notes = strings.TrimSpace(*u.Notes)
		if notes == "" {
			return nil, leadwire.Errorf(leadwire.EINVALID, "notes are empty")
		}
		if n := utf8.RuneCountInString(notes); n > maxNotesLength {
			return nil, leadwire.Errorf(leadwire.EINVALID, "notes are %d characters long, more than %d", n, maxNotesLength)
		}
	}
	at := s.nowMillis()
	queued := false
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		queued = false
		var before string
		if err := lockLead(ctx, tx, id, "status", &before); err != nil {
			return err
		}
		if status != "" && status != before {
			// responded_at is set once: the first time the lead leaves new.
			if _, err := tx.Exec(ctx, `UPDATE leads SET status = $1,
				responded_at = CASE WHEN responded_at = 0 AND $1 != 'new' THEN $2 ELSE responded_at END WHERE id = $3`,
				status, at, id); err != nil {
				return err
			}
			details, _ := json.Marshal(statusChange{ // strings only: cannot fail
				Notes: fmt.Sprintf("Status changed from %s to %s", before, status), Actor: actor, Before: before, After: status})
			if _, err := tx.Exec(ctx, insertActivity, newID(), id, leadwire.ActionStatusChanged, string(details), at, ""); err != nil {
				return err
			}
			// A spam lead is delivered nowhere; marked otherwise, it is
			// delivered as if captured now.
			switch {
			case status == leadwire.StatusSpam:
				if _, err := tx.Exec(ctx, `UPDATE deliveries SET status = 'canceled', claimed_until = 0,
					last_error = 'the lead was marked spam', updated_at = $1 WHERE lead_id = $2 AND status = 'pending'`, at, id); err != nil {
					return err
				}
			case before == leadwire.StatusSpam:
				tag, err := tx.Exec(ctx, leadsByID+enqueueDeliveries, []string{id}, at, leadwire.DeliveryGiveUp.Milliseconds())
				if err != nil {
					return err
				}
				queued = tag.RowsAffected() > 0
			}
		}
		if notes != "" {
			details, _ := json.Marshal(activityDetails{Notes: notes, Actor: actor})
			if _, err := tx.Exec(ctx, insertActivity, newID(), id, leadwire.ActionNoteAdded, string(details), at, ""); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if queued {
		s.deliveriesQueued()
	}
	return s.FindLeadByID(ctx, id)
}

// statusChange is the details of an ActionStatusChanged activity.
type statusChange struct {
	Notes  string `json:"notes"`
	Actor  string `json:"actor,omitempty"`
	Before string `json:"status_before"`
	After  string `json:"status_after"`
}

// assigneesChange is the details of an ActionAssigneesChanged activity:
// the notes every activity has, and both lists in full.
type assigneesChange struct {
	Notes  string              `json:"notes"`
	Before []leadwire.Assignee `json:"assignees_before"`
	After  []leadwire.Assignee `json:"assignees_after"`
	Actor  string              `json:"actor,omitempty"`
}

// ReplaceAssignees replaces the assignees of a lead's parsed payload and
// records the change on its timeline; see leadwire.LeadService.
func (s *Store) ReplaceAssignees(ctx context.Context, leadID string, assignees []leadwire.Assignee, idempotencyKey string) (*leadwire.Lead, error) {
	if !leadwire.IsCanonicalID(leadID) {
		return nil, leadNotFound(leadID)
	}
	change := assigneesChange{After: leadwire.NormalizeAssignees(slices.Clone(assignees))}
	if u := leadwire.UserFromContext(ctx); u != nil {
		change.Actor = u.Email
	}
	at := s.nowMillis()
	err := s.inTx(ctx, func(tx pgx.Tx) error { return replaceAssignees(ctx, tx, leadID, change, idempotencyKey, at) })
	if err != nil {
		return nil, err
	}
	// The caller could see the lead when they changed it, and is shown
	// it even when they just handed it on to somebody else.
	return s.FindLeadByID(leadwire.NewContextWithUser(ctx, nil), leadID)
}

// replaceAssignees makes change.After the assignees of the lead in tx and
// records the change, unless it is none or key (when given) was sent
// before; see ReplaceAssignees.
func replaceAssignees(ctx context.Context, tx pgx.Tx, leadID string, change assigneesChange, key string, at int64) error {
	var parsed string
	if err := lockLead(ctx, tx, leadID, "parsed_payload", &parsed); err != nil {
		return err
	}
	if key != "" {
		var done bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM activities WHERE lead_id = $1 AND idempotency_key = $2)",
			leadID, key).Scan(&done); err != nil || done {
			return err // done the first time this key was sent
		}
	}
	// Only the one field changes: every other value of the payload
	// keeps the text it was stored with, numbers included.
	var payload map[string]json.RawMessage
	if err := json.Unmarshal([]byte(parsed), &payload); err != nil {
		return err
	}
	if b, ok := payload["assignees"]; ok {
		if err := json.Unmarshal(b, &change.Before); err != nil {
			return err
		}
	}
	if slices.Equal(change.Before, change.After) {
		return nil
	}
	var keys []string
	if len(change.After) == 0 {
		delete(payload, "assignees")
	} else {
		payload["assignees"], _ = json.Marshal(change.After) // strings only: cannot fail
		for _, a := range change.After {
			if k := leadwire.EmailKey(a.Email); k != "" {
				keys = append(keys, k)
			}
		}
	}
	b, err := json.Marshal(payload)
	if err != nil {
		return err
	}
	if keys == nil {
		keys = []string{}
	}
	if _, err := tx.Exec(ctx, "UPDATE leads SET parsed_payload = $1, assignees = $2 WHERE id = $3", string(b), keys, leadID); err != nil {
		return err
	}
	change.Notes = leadwire.AssigneesChangeNotes(change.Before, change.After)
	details, err := json.Marshal(change)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, insertActivity, newID(), leadID, leadwire.ActionAssigneesChanged, string(details), at, key)
	return err
}
