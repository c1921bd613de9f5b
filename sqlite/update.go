package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/leadwire/leadwire"
)

// maxNotesLength bounds a note added through UpdateLead, in characters.
const maxNotesLength = 10000

// UpdateLead changes a lead's status and adds notes to its timeline; see
// leadwire.LeadService.
func (s *Store) UpdateLead(ctx context.Context, id string, u leadwire.LeadUpdate) (*leadwire.Lead, error) {
	if !leadwire.IsCanonicalID(id) {
		return nil, leadNotFound(id)
	}
	o := &updateOp{leadID: id}
	var err error
	if o.visible, o.visibleArgs, err = s.visibility(ctx); err != nil {
		return nil, err
	}
	if user := leadwire.UserFromContext(ctx); user != nil {
		o.actor = user.Email
	}
	if u.Status == nil && u.Notes == nil {
		return nil, leadwire.Errorf(leadwire.EINVALID, "nothing to change: send status or notes")
	}
	if u.Status != nil {
		if !slices.Contains(leadwire.Statuses, *u.Status) {
			return nil, leadwire.Errorf(leadwire.EINVALID, "status %q is not one of %s", *u.Status, strings.Join(leadwire.Statuses, ", "))
		}
		o.status = *u.Status
	}
	if u.Notes != nil {
		o.notes = strings.TrimSpace(*u.Notes)
		if o.notes == "" {
			return nil, leadwire.Errorf(leadwire.EINVALID, "notes are empty")
		}
		if n := utf8.RuneCountInString(o.notes); n > maxNotesLength {
			return nil, leadwire.Errorf(leadwire.EINVALID, "notes are %d characters long, more than %d", n, maxNotesLength)
		}
	}
	if err := s.w.do(ctx, o); err != nil {
		return nil, err
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

// updateOp applies a LeadUpdate to one lead.
type updateOp struct {
	leadID        string
	status, notes string // "" for no change
	actor         string
	// visible is the condition of visibility for the caller, checked in
	// the write transaction itself, so that what the caller may change is
	// decided on what is committed.
	visible     string
	visibleArgs []any
}

func (o *updateOp) apply(w *writer, now time.Time) error {
	ctx := context.Background() // as in run: the batch's commit is not one caller's
	query, args := "SELECT status, channel_id FROM leads WHERE id = ?", []any{o.leadID}
	if o.visible != "" {
		query, args = query+" AND "+o.visible, append(args, o.visibleArgs...)
	}
	var status, channelID string
	err := w.conn.QueryRowContext(ctx, query, args...).Scan(&status, &channelID)
	if errors.Is(err, sql.ErrNoRows) {
		return leadNotFound(o.leadID)
	}
	if err != nil {
		return err
	}
	at := now.UnixMilli()
	if o.status != "" && o.status != status {
		// responded_at is set once: the first time the lead leaves new.
		if _, err := w.conn.ExecContext(ctx, `UPDATE leads SET status = ?1,
			responded_at = iif(responded_at = 0 AND ?1 != 'new', ?2, responded_at) WHERE id = ?3`,
			o.status, at, o.leadID); err != nil {
			return err
		}
		details, _ := json.Marshal(statusChange{ // strings only: cannot fail
			Notes: fmt.Sprintf("Status changed from %s to %s", status, o.status), Actor: o.actor,
			Before: status, After: o.status})
		if _, err := w.insertActivity.Exec(newID().String(), o.leadID, leadwire.ActionStatusChanged, string(details), at, ""); err != nil {
			return err
		}
		// A spam lead is delivered nowhere; marked otherwise, it is
		// delivered as if captured now.
		switch {
		case o.status == leadwire.StatusSpam:
			err = w.cancelDeliveries(o.leadID, at)
		case status == leadwire.StatusSpam:
			err = w.enqueueDeliveries(o.leadID, channelID, at)
		}
		if err != nil {
			return err
		}
	}
	if o.notes != "" {
		details, _ := json.Marshal(activityDetails{Notes: o.notes, Actor: o.actor})
		if _, err := w.insertActivity.Exec(newID().String(), o.leadID, leadwire.ActionNoteAdded, string(details), at, ""); err != nil {
			return err
		}
	}
	return nil
}
