package wire

import (
	"time"

	"github.com/leadwire/leadwire"
)

// APILeadDoc is a lead as the authenticated API lists it: the documented
// lead shape, so that a client of the capture API reads it unchanged, plus
// where the lead stands and who works it.
type APILeadDoc struct {
	LeadDoc
	Status    string              `json:"status"`
	Assignees []leadwire.Assignee `json:"assignees"` // [] when nobody is assigned
	// RespondedAt is when the lead first left "new"; ResponseTime is the
	// seconds from capture to then. Both are absent until it left.
	RespondedAt  *UnixTime `json:"responded_at,omitempty"`
	ResponseTime *float64  `json:"response_time,omitempty"`
	// Source is where the capture came from; SpamReasons why screening
	// quarantined it, when it did.
	Source      leadwire.Source `json:"source"`
	SpamReasons []string        `json:"spam_reasons,omitempty"`
}

// NewAPILeadDoc returns the API document of l, with its timeline when l
// has one.
func NewAPILeadDoc(l *leadwire.Lead) (APILeadDoc, error) {
	doc, err := NewLeadDoc(l)
	if err != nil {
		return APILeadDoc{}, err
	}
	d := APILeadDoc{LeadDoc: doc, Status: l.Status, Assignees: l.Payload.Assignees, Source: l.Source, SpamReasons: l.SpamReasons}
	if d.Status == "" {
		d.Status = leadwire.StatusNew
	}
	if d.Assignees == nil {
		d.Assignees = []leadwire.Assignee{}
	}
	if !l.RespondedAt.IsZero() {
		at := UnixTime(l.RespondedAt)
		seconds := ResponseTime(l)
		d.RespondedAt, d.ResponseTime = &at, &seconds
	}
	return d, nil
}

// ResponseTime is the seconds from l's capture to its first step away from
// "new", to the millisecond, or 0 while it is new.
func ResponseTime(l *leadwire.Lead) float64 {
	if l.RespondedAt.IsZero() {
		return 0
	}
	return float64(l.RespondedAt.Sub(l.CreatedAt).Round(time.Millisecond).Milliseconds()) / 1000
}

// ContactDoc is a contact as the authenticated API shows it, with leads of
// its own.
type ContactDoc struct {
	ID          string       `json:"id"`
	FirstName   string       `json:"first_name,omitempty"`
	LastName    string       `json:"last_name,omitempty"`
	Email       string       `json:"email,omitempty"`
	PhoneNumber string       `json:"phone_number,omitempty"`
	CreatedAt   UnixTime     `json:"created_at"`
	UpdatedAt   UnixTime     `json:"updated_at"`
	Leads       []APILeadDoc `json:"leads"`
	// LeadsNext is the cursor of the contact's older leads, for GET
	// /api/leads?contact=ID; null when leads holds the oldest.
	LeadsNext *string `json:"leads_next"`
}

// NewContactDoc returns the API document of c with leads, which the
// caller has chosen (the contact's newest, or those but one), and next,
// the cursor of the contact's older leads, "" for none.
func NewContactDoc(c *leadwire.Contact, leads []*leadwire.Lead, next string) (ContactDoc, error) {
	d := ContactDoc{
		ID:          c.ID,
		FirstName:   c.FirstName,
		LastName:    c.LastName,
		Email:       c.Email,
		PhoneNumber: c.PhoneNumber,
		CreatedAt:   UnixTime(c.CreatedAt),
		UpdatedAt:   UnixTime(c.UpdatedAt),
		Leads:       make([]APILeadDoc, 0, len(leads)),
	}
	if next != "" {
		d.LeadsNext = &next
	}
	for _, l := range leads {
		ld, err := NewAPILeadDoc(l)
		if err != nil {
			return ContactDoc{}, err
		}
		d.Leads = append(d.Leads, ld)
	}
	return d, nil
}

// LeadDetailDoc is one lead as GET /api/leads/{id} answers it: the listed
// shape with its whole timeline and its contact, whose leads are the
// contact's other leads. "contact" stays the contact's id, as in the
// documented shape; the contact itself is "contact_detail".
type LeadDetailDoc struct {
	APILeadDoc
	Timeline      []ActivityDoc `json:"timeline"` // oldest first; [] when empty
	ContactDetail ContactDoc    `json:"contact_detail"`
}

// NewLeadDetailDoc returns the detail document of l (with its timeline)
// and its contact c with the contact's other leads and the cursor of the
// older ones (see NewContactDoc).
func NewLeadDetailDoc(l *leadwire.Lead, c *leadwire.Contact, others []*leadwire.Lead, next string) (LeadDetailDoc, error) {
	ld, err := NewAPILeadDoc(l)
	if err != nil {
		return LeadDetailDoc{}, err
	}
	cd, err := NewContactDoc(c, others, next)
	if err != nil {
		return LeadDetailDoc{}, err
	}
	timeline := make([]ActivityDoc, 0, len(l.Timeline))
	for _, a := range l.Timeline {
		timeline = append(timeline, NewActivityDoc(a))
	}
	return LeadDetailDoc{APILeadDoc: ld, Timeline: timeline, ContactDetail: cd}, nil
}
