package leadwire

import (
	"context"
	"time"
)

// IdempotencyWindow is how long an Idempotency-Key is remembered.
const IdempotencyWindow = 24 * time.Hour

// Capture is what one webhook request asks to store: one or more leads
// (an XML lead list may hold several) for one channel.
type Capture struct {
	ChannelID string
	// Leads carry Payload and Raw; the store sets ID, ChannelID, ContactID
	// and CreatedAt.
	Leads []*Lead
	// IdempotencyKey, when set, makes a repeat of the request within
	// IdempotencyWindow return the original leads instead of new ones.
	IdempotencyKey string
	// RequestHash identifies the request's content type and body; a repeat
	// with the same key and another hash is a conflict.
	RequestHash string
	// Source is where the request came from; every lead records it.
	Source Source
	// Controls are the screening fields the request carried.
	Controls Controls
}

// LeadService stores leads, matches them to contacts and keeps their
// timelines.
type LeadService interface {
	// CaptureLeads stores the leads of c and returns them once they are
	// durable on disk. Each lead joins the contact of its brand with the
	// same email (compared with EmailKey) or, failing that, the same phone
	// (PhoneKey); otherwise a new contact is created. A lead fills the
	// contact's empty values and never replaces one (see Contact); an
	// email or phone it fills then finds the contact too. When several
	// contacts hold a key, it finds the one updated last.
	//
	// A lead whose Status is StatusSpam is stored quarantined, with its
	// SpamReasons: out of the lead list, and with a contact of its own that
	// no later lead matches and that takes nothing from a known contact.
	// Any other lead is stored as StatusNew.
	//
	// When c.IdempotencyKey was used on the channel within
	// IdempotencyWindow with the same RequestHash, it returns the leads
	// stored then and replayed true. Errors: ENOTFOUND for an unknown
	// channel, ECONFLICT for a key used with another RequestHash.
	CaptureLeads(ctx context.Context, c *Capture) (leads []*Lead, replayed bool, err error)

	// LeadsStored returns a channel that receives a value after new leads
	// were committed, by this process or, on a database several servers
	// share, by another one; a burst of captures may be one value. The
	// server's live inbox is its one reader.
	LeadsStored() <-chan struct{}

	// AddActivity appends a to the timeline of a.LeadID once it is durable,
	// setting its ID and CreatedAt. When the lead already has an activity
	// with a.IdempotencyKey, it stores nothing and fills a with that
	// activity instead. Errors: EINVALID for an invalid activity, ENOTFOUND
	// for an unknown lead.
	AddActivity(ctx context.Context, a *Activity) error

	// FindLeads returns leads newest first, each with its timeline.
	// Errors: EINVALID for a negative limit.
	FindLeads(ctx context.Context, f LeadFilter) ([]*Lead, error)

	// FindLeadByID returns the lead without its timeline. Errors:
	// ENOTFOUND, also for an id not in canonical form (IsCanonicalID).
	FindLeadByID(ctx context.Context, id string) (*Lead, error)

	// ReplaceAssignees makes assignees the assignees of the lead's parsed
	// payload (its raw payload stays as sent) and returns the lead once
	// the change is durable. A change is recorded on the lead's timeline
	// as an ActionAssigneesChanged activity holding the lists before and
	// after, so that no assignment is lost without a trace; replacing the
	// list with an equal one changes and records nothing. When the lead
	// already has an activity with idempotencyKey, it changes nothing and
	// returns the lead as it is. Errors: ENOTFOUND for an unknown lead.
	ReplaceAssignees(ctx context.Context, leadID string, assignees []Assignee, idempotencyKey string) (*Lead, error)

	// WalkLeads calls fn with the leads FindLeads would return, one at a
	// time and in the same order, holding only a few hundred of them at
	// once: listing a million leads takes no more memory than listing a
	// thousand. It lists the leads stored when it began; each lead's
	// timeline is read with it. It stops at the first error of fn and
	// returns it. Errors: EINVALID for a negative limit.
	WalkLeads(ctx context.Context, f LeadFilter, fn func(*Lead) error) error

	// SearchLeads returns one page of the leads f selects that the caller
	// (UserFromContext) may see, newest first, without their timelines,
	// and the cursor of the next page, "" after the last. A page is stable
	// while new leads arrive. Errors: EINVALID for a malformed cursor or
	// filter.
	SearchLeads(ctx context.Context, f LeadFilter) (leads []*Lead, next string, err error)

	// UpdateLead applies u to a lead the caller may see and returns the
	// lead once the change is durable. Each change is an activity on the
	// lead's timeline naming the caller; the first status change away from
	// StatusNew sets RespondedAt. Errors: ENOTFOUND (also for a lead the
	// caller may not see), EINVALID for an unknown status.
	UpdateLead(ctx context.Context, id string, u LeadUpdate) (*Lead, error)

	// DeleteSpam deletes the leads quarantined (StatusSpam) that were
	// captured before the given time, as thoroughly as EraseContact
	// erases, with the contacts only they held, and returns how many leads
	// it deleted.
	DeleteSpam(ctx context.Context, before time.Time) (int, error)
}

// LeadFilter selects leads. Zero values select everything.
type LeadFilter struct {
	ChannelID string
	ContactID string // the leads of one contact
	LeadID    string // one lead
	// Status is one of Statuses; "" selects every lead but spam.
	Status   string
	Assignee string    // leads with an assignee of this email (case-insensitive)
	Tag      string    // leads with this tag
	Since    time.Time // created at or after
	Until    time.Time // created before
	// Query is full text over the names, email, phone (digits match
	// however the number was written), note, message and address.
	Query string
	Limit int // at most this many; 0 means no limit
	// Cursor, from a previous page, selects the leads after that page.
	Cursor string
}

// LeadUpdate is a change an agent makes to a lead; nil fields stay as
// they are.
type LeadUpdate struct {
	Status *string
	Notes  *string // a note added to the lead's timeline
}

// ChannelService manages channels.
type ChannelService interface {
	// CreateChannel validates c, gives it an ID and CreatedAt and stores it.
	// Errors: EINVALID.
	CreateChannel(ctx context.Context, c *Channel) error
	// FindChannelByID returns the channel. Errors: ENOTFOUND, also for an
	// id that is not a UUID.
	FindChannelByID(ctx context.Context, id string) (*Channel, error)
	// FindChannels returns every channel, oldest first.
	FindChannels(ctx context.Context) ([]*Channel, error)
	// UpdateChannel applies u to the channel and returns it. Errors:
	// ENOTFOUND, EINVALID for invalid settings.
	UpdateChannel(ctx context.Context, id string, u ChannelUpdate) (*Channel, error)
}

// ChannelUpdate is a change to a channel; nil fields stay as they are.
type ChannelUpdate struct {
	AllowedOrigins *[]string // an empty list lets pages of any origin post
	Screening      *ScreeningSettings
}

// ContactService reads and erases contacts.
type ContactService interface {
	// FindContactByID returns the contact. Errors: ENOTFOUND, also for a
	// contact none of whose leads the caller may see.
	FindContactByID(ctx context.Context, id string) (*Contact, error)

	// EraseContact erases a contact, its leads, their raw payloads and
	// timelines, so that none of its values can be found in the database
	// files afterwards, nor brought back by an Idempotency-Key replay, and
	// records who erased which id and when (without the personal data).
	// Only an owner may erase. Errors: ENOTFOUND, EFORBIDDEN for an agent.
	EraseContact(ctx context.Context, id string) error
}
