package rechat

import (
	"context"
	"crypto/rand"
	"errors"
	"net/url"
)

// ErrMissingLeadChannel is returned by Capture (before any request) when
// the channel has no LeadChannel.
var ErrMissingLeadChannel = errors.New("rechat: channel has no LeadChannel")

// LeadsService captures leads. Get it from Sdk.Leads.
type LeadsService struct {
	// Tracker records what visitors do once they are leads.
	Tracker *TrackerService

	client *client
	sender *sender
}

// Capture sends lead to the channel and returns the lead the API created.
//
// Every capture carries a fresh Idempotency-Key. When the API cannot be
// reached (refused, DNS failure, timeout, lost answer) or answers 429 or
// 5xx, and offline sync is on, the lead is written durably to the outbox
// and Capture returns a result with Queued set and a QueueID; the
// background sender delivers it later with the same key, so it is created
// exactly once. A queued lead has no id yet, so nothing can identify the
// visitor for tracking at that point: call Tracker.Identify once the id
// is known, if it matters.
//
// Other failures are returned: an *APIError for an answer the API gave
// (400, 404, 409, ...), ErrQueueFull when the outbox is full.
func (s *LeadsService) Capture(ctx context.Context, ch Channel, lead Lead) (*CaptureResult, error) {
	if ch.LeadChannel == "" {
		return nil, ErrMissingLeadChannel
	}
	body, err := captureBody(ch, lead)
	if err != nil {
		return nil, err
	}
	r := &request{
		Path:           "/leads/channels/" + url.PathEscape(ch.LeadChannel) + "/webhook",
		Body:           body,
		IdempotencyKey: rand.Text(),
	}
	res := &CaptureResult{}
	queueID, err := send(ctx, s.client, s.sender, KindLead, r, res)
	if err != nil {
		return nil, err
	}
	if queueID != "" {
		return &CaptureResult{Queued: true, QueueID: queueID, LeadChannel: ch.LeadChannel}, nil
	}
	if res.LeadChannel == "" {
		res.LeadChannel = ch.LeadChannel
	}
	return res, nil
}

// Pending lists the captures and tracking events waiting in the outbox,
// oldest first, including those queued by other processes sharing it.
func (s *LeadsService) Pending() ([]QueuedItem, error) {
	if s.sender == nil {
		return nil, nil
	}
	return s.sender.box.pending()
}

// DeadLetters lists the queued items the API refused with a 4xx answer.
// They stay in the outbox's dead folder until someone removes them.
func (s *LeadsService) DeadLetters() ([]DeadLetter, error) {
	if s.sender == nil {
		return nil, nil
	}
	return s.sender.box.deadLetters()
}

// Flush delivers the outbox now, oldest first, and returns the failure
// that stopped it while the API is still unreachable. An item another
// sender (this Sdk's background sender, another process) is delivering at
// that moment is waited for, so that when Flush returns nil everything
// queued before the call has been delivered or dead-lettered. The
// background sender does the same on its own; Flush is for callers that
// want to wait.
func (s *LeadsService) Flush(ctx context.Context) error {
	if s.sender == nil {
		return nil
	}
	return s.sender.flush(ctx, nil, true)
}
