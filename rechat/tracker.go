package rechat

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// ErrNoTrackingID is returned by tracking calls made before any lead is
// known for the visitor (no tracker cookie, or the tracker is disabled).
var ErrNoTrackingID = errors.New("rechat: No tracking id is found")

// Actions recorded by the tracker helpers. Tracker.Capture accepts custom
// actions too (letters, digits and _, at most 64).
const (
	ContactViewedListing          = "ContactViewedListing"
	ContactSharedListing          = "ContactSharedListing"
	ContactFavoritedListing       = "ContactFavoritedListing"
	ContactRemovedFavoriteListing = "ContactRemovedFavoriteListing"
	ContactValuedListing          = "ContactValuedListing"
	ContactSearchedListings       = "ContactSearchedListings"
	ContactCreatedSearch          = "ContactCreatedSearch"
	ContactRemovedSearch          = "ContactRemovedSearch"
	ContactSignedUp               = "ContactSignedUp"
	ContactLoggedIn               = "ContactLoggedIn"
)

// TrackerService finds the lead behind a visitor (the tracker cookie) and
// records the visitor's activity on that lead's timeline. Get it from
// Sdk.Leads.Tracker.
type TrackerService struct {
	settings TrackerSettings
	disabled bool
	client   *client
	sender   *sender
}

// FromRequest returns the tracker of the visitor who sent r, identified by
// the tracker cookie. Without the cookie (or with the tracker disabled)
// every call of the returned tracker returns ErrNoTrackingID.
func (t *TrackerService) FromRequest(r *http.Request) *Tracker {
	if t.disabled {
		return &Tracker{svc: t}
	}
	c, err := r.Cookie(t.settings.CookieName)
	if err != nil {
		return &Tracker{svc: t}
	}
	return &Tracker{LeadID: cookieLeadID(c.Value), svc: t}
}

// ForLead returns a tracker for a lead whose id the caller already knows,
// e.g. from its own session store.
func (t *TrackerService) ForLead(leadID string) *Tracker {
	if !validLeadID(leadID) {
		leadID = ""
	}
	return &Tracker{LeadID: leadID, svc: t}
}

// Identify sets the tracker cookie on w so that the visitor's later
// requests (and the browser SDK on their pages) are tracked as leadID. It
// does nothing when the tracker is disabled or leadID is not a lead id.
func (t *TrackerService) Identify(w http.ResponseWriter, leadID string) {
	if t.disabled || !validLeadID(leadID) {
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name:     t.settings.CookieName,
		Value:    leadID,
		Path:     t.settings.Path,
		Domain:   t.settings.Domain,
		MaxAge:   int(t.settings.MaxAge.Seconds()),
		Secure:   t.settings.Secure,
		SameSite: http.SameSiteLaxMode,
	})
}

// cookieLeadID reads a cookie value written by this SDK (the bare id) or
// by a browser cookie library (URL-encoded, possibly quoted).
func cookieLeadID(v string) string {
	if u, err := url.QueryUnescape(v); err == nil {
		v = u
	}
	v = strings.Trim(strings.TrimSpace(v), `"`)
	if !validLeadID(v) {
		return ""
	}
	return v
}

// validLeadID accepts ids made of letters, digits and -, as UUIDs are; it
// keeps anything else out of the request path.
func validLeadID(id string) bool {
	return id != "" && len(id) <= 64 && strings.Trim(id, "0123456789abcdefABCDEFghijklmnopqrstuvwxyzGHIJKLMNOPQRSTUVWXYZ-") == ""
}

// validAction matches the API's rule for action names.
func validAction(a string) bool {
	return a != "" && len(a) <= 64 && strings.Trim(a, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_") == ""
}

// Tracker records activity on one lead's timeline.
type Tracker struct {
	// LeadID is the lead the activity is recorded for; empty when the
	// visitor is not known.
	LeadID string
	svc    *TrackerService
}

// Capture records a on the lead's timeline. When the API cannot be
// reached it queues the event in the outbox and returns nil.
func (t *Tracker) Capture(ctx context.Context, a Activity) error {
	if t.LeadID == "" {
		return ErrNoTrackingID
	}
	if !validAction(a.Action) {
		return fmt.Errorf("rechat: action %q must be letters, digits or _ and at most 64 characters", a.Action)
	}
	body, err := json.Marshal(a)
	if err != nil {
		return err
	}
	r := &request{
		Path:           "/leads/" + url.PathEscape(t.LeadID) + "/timeline",
		Body:           body,
		IdempotencyKey: rand.Text(),
	}
	_, err = send(ctx, t.svc.client, t.svc.sender, KindActivity, r, nil)
	return err
}

// ViewedListing records that the visitor viewed l.
func (t *Tracker) ViewedListing(ctx context.Context, l Listing, notes string) error {
	return t.Capture(ctx, Activity{Action: ContactViewedListing, Listing: &l, Notes: notes})
}

// SharedListing records that the visitor shared l.
func (t *Tracker) SharedListing(ctx context.Context, l Listing, notes string) error {
	return t.Capture(ctx, Activity{Action: ContactSharedListing, Listing: &l, Notes: notes})
}

// FavoritedListing records that the visitor saved l as a favorite.
func (t *Tracker) FavoritedListing(ctx context.Context, l Listing, notes string) error {
	return t.Capture(ctx, Activity{Action: ContactFavoritedListing, Listing: &l, Notes: notes})
}

// RemovedFavoriteListing records that the visitor removed l from favorites.
func (t *Tracker) RemovedFavoriteListing(ctx context.Context, l Listing, notes string) error {
	return t.Capture(ctx, Activity{Action: ContactRemovedFavoriteListing, Listing: &l, Notes: notes})
}

// ValuedListing records that the visitor asked for the value of l.
func (t *Tracker) ValuedListing(ctx context.Context, l Listing, notes string) error {
	return t.Capture(ctx, Activity{Action: ContactValuedListing, Listing: &l, Notes: notes})
}

// SearchedListings records that the visitor ran s.
func (t *Tracker) SearchedListings(ctx context.Context, s Search, notes string) error {
	return t.Capture(ctx, Activity{Action: ContactSearchedListings, Search: &s, Notes: notes})
}

// CreatedSearch records that the visitor saved s.
func (t *Tracker) CreatedSearch(ctx context.Context, s Search, notes string) error {
	return t.Capture(ctx, Activity{Action: ContactCreatedSearch, Search: &s, Notes: notes})
}

// RemovedSearch records that the visitor removed the saved search s.
func (t *Tracker) RemovedSearch(ctx context.Context, s Search, notes string) error {
	return t.Capture(ctx, Activity{Action: ContactRemovedSearch, Search: &s, Notes: notes})
}

// SignedUp records that the visitor created an account.
func (t *Tracker) SignedUp(ctx context.Context, notes string) error {
	return t.Capture(ctx, Activity{Action: ContactSignedUp, Notes: notes})
}

// LoggedIn records that the visitor logged in.
func (t *Tracker) LoggedIn(ctx context.Context, notes string) error {
	return t.Capture(ctx, Activity{Action: ContactLoggedIn, Notes: notes})
}
