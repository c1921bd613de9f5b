package rechat_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/leadwire/leadwire/internal/testserver"
	"github.com/leadwire/leadwire/rechat"
)

func TestTrackerHelpersLandOnTimeline(t *testing.T) {
	s := testserver.Start(t)
	sdk := newSdk(t, s.URL, "")
	ctx := context.Background()
	res, err := sdk.Leads.Capture(ctx, rechat.Channel{LeadChannel: s.ChannelID}, rechat.Lead{Email: "visitor@example.com"})
	if err != nil {
		t.Fatal(err)
	}

	// The visitor comes back with the cookie Identify set.
	rec := httptest.NewRecorder()
	sdk.Leads.Tracker.Identify(rec, res.ID)
	req := httptest.NewRequest("GET", "/listings/1", nil)
	for _, c := range rec.Result().Cookies() {
		req.AddCookie(c)
	}
	tr := sdk.Leads.Tracker.FromRequest(req)
	if tr.LeadID != res.ID {
		t.Fatalf("tracker lead = %q, want %q", tr.LeadID, res.ID)
	}

	listing := rechat.Listing{MLSNumber: "1841395151", Price: 1250000}
	search := rechat.Search{Title: "Dallas", MinimumBedrooms: 3, PostalCodes: []string{"75201"}}
	calls := []struct {
		action string
		call   func() error
	}{
		{rechat.ContactViewedListing, func() error { return tr.ViewedListing(ctx, listing, "from email") }},
		{rechat.ContactSharedListing, func() error { return tr.SharedListing(ctx, listing, "") }},
		{rechat.ContactFavoritedListing, func() error { return tr.FavoritedListing(ctx, listing, "") }},
		{rechat.ContactRemovedFavoriteListing, func() error { return tr.RemovedFavoriteListing(ctx, listing, "") }},
		{rechat.ContactValuedListing, func() error { return tr.ValuedListing(ctx, listing, "") }},
		{rechat.ContactSearchedListings, func() error { return tr.SearchedListings(ctx, search, "") }},
		{rechat.ContactCreatedSearch, func() error { return tr.CreatedSearch(ctx, search, "") }},
		{rechat.ContactRemovedSearch, func() error { return tr.RemovedSearch(ctx, search, "") }},
		{rechat.ContactSignedUp, func() error { return tr.SignedUp(ctx, "") }},
		{rechat.ContactLoggedIn, func() error { return tr.LoggedIn(ctx, "") }},
		{"ToredTheHouse", func() error { return tr.Capture(ctx, rechat.Activity{Action: "ToredTheHouse", Notes: "custom"}) }},
	}
	for _, c := range calls {
		if err := c.call(); err != nil {
			t.Fatalf("%s: %v", c.action, err)
		}
	}

	timeline := leadByEmail(t, s, "visitor@example.com").Timeline
	if len(timeline) != len(calls) {
		t.Fatalf("timeline has %d entries, want %d", len(timeline), len(calls))
	}
	for i, c := range calls {
		if timeline[i].Action != c.action {
			t.Errorf("timeline[%d] = %s, want %s", i, timeline[i].Action, c.action)
		}
	}
	if l := timeline[0].Listing; l == nil || l.MLSNumber != "1841395151" || l.Price != 1250000 || timeline[0].Notes != "from email" {
		t.Errorf("viewed listing entry = %+v", timeline[0])
	}
	if se := timeline[5].Search; se == nil || se.Title != "Dallas" || se.MinimumBedrooms != 3 || !reflect.DeepEqual(se.PostalCodes, []string{"75201"}) {
		t.Errorf("search entry = %+v", timeline[5].Search)
	}
}

func TestTrackerWithoutLead(t *testing.T) {
	s := testserver.Start(t)
	rc, url := startRecorder(t, s)
	ctx := context.Background()
	withCookie := func(value string) *http.Request {
		r := httptest.NewRequest("GET", "/", nil)
		r.AddCookie(&http.Cookie{Name: rechat.DefaultTrackerCookie, Value: value})
		return r
	}
	tests := []struct {
		name     string
		disabled bool
		req      *http.Request
	}{
		{"no cookie", false, httptest.NewRequest("GET", "/", nil)},
		{"garbage cookie", false, withCookie("../../channels/x")},
		{"tracker disabled", true, withCookie("0193a6f0-0000-7000-8000-000000000000")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sdk := newSdk(t, url, "", func(s *rechat.Settings) { s.DisableTracker = tt.disabled })
			tr := sdk.Leads.Tracker.FromRequest(tt.req)
			if err := tr.ViewedListing(ctx, rechat.Listing{MLSNumber: "1"}, ""); !errors.Is(err, rechat.ErrNoTrackingID) {
				t.Errorf("err = %v, want ErrNoTrackingID", err)
			}
			if err := tr.SignedUp(ctx, ""); err == nil || err.Error() != "rechat: No tracking id is found" {
				t.Errorf("err = %v", err)
			}
		})
	}
	if n := len(rc.Keys()); n != 0 {
		t.Errorf("%d requests sent without a lead", n)
	}
}

func TestTrackerReadsBrowserCookie(t *testing.T) {
	sdk := newSdk(t, deadURL(t), "", func(s *rechat.Settings) {
		s.Tracker.CookieName = "visitor"
	})
	r := httptest.NewRequest("GET", "/", nil)
	// A browser cookie library URL-encodes and may quote the value.
	r.AddCookie(&http.Cookie{Name: "visitor", Value: "%220193a6f0-0000-7000-8000-000000000001%22"})
	if got := sdk.Leads.Tracker.FromRequest(r).LeadID; got != "0193a6f0-0000-7000-8000-000000000001" {
		t.Errorf("lead id = %q", got)
	}
}

func TestTrackerUnknownLead(t *testing.T) {
	s := testserver.Start(t)
	sdk := newSdk(t, s.URL, "")
	err := sdk.Leads.Tracker.ForLead("0193a6f0-0000-7000-8000-000000000000").LoggedIn(context.Background(), "")
	var apiErr *rechat.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 404 {
		t.Errorf("err = %v, want a 404 *APIError", err)
	}
}

// TestTrackerLostAnswer loses the answer of a tracking event the server
// stored: the event is queued, the outbox replays it with the same
// Idempotency-Key, and the timeline holds it once.
func TestTrackerLostAnswer(t *testing.T) {
	s := testserver.Start(t)
	lose, rc, url := startLossy(t, s)
	sdk := newSdk(t, url, "")
	ctx := context.Background()
	res, err := sdk.Leads.Capture(ctx, rechat.Channel{LeadChannel: s.ChannelID}, rechat.Lead{Email: "lost-event@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	captureRequests := len(rc.Keys())

	lose.Store(true)
	if err := sdk.Leads.Tracker.ForLead(res.ID).ViewedListing(ctx, rechat.Listing{MLSNumber: "77"}, ""); err != nil {
		t.Fatalf("tracking with a lost answer: %v", err)
	}
	pending, err := sdk.Leads.Pending()
	if err != nil || len(pending) != 1 || pending[0].Kind != rechat.KindActivity {
		t.Fatalf("pending = %+v, %v; want the tracking event", pending, err)
	}
	if tl := leadByEmail(t, s, "lost-event@example.com").Timeline; len(tl) != 1 {
		t.Fatalf("timeline before the replay = %+v, want the event the server stored", tl)
	}

	lose.Store(false)
	if err := sdk.Leads.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	tl := leadByEmail(t, s, "lost-event@example.com").Timeline
	if len(tl) != 1 || tl[0].Action != rechat.ContactViewedListing || tl[0].Listing == nil || tl[0].Listing.MLSNumber != "77" {
		t.Errorf("timeline after the replay = %+v, want the viewed listing once", tl)
	}
	keys := rc.Keys()[captureRequests:]
	if len(keys) < 2 {
		t.Fatalf("the event was sent %d times, want the lost attempt and the replay", len(keys))
	}
	for _, k := range keys {
		if k != pending[0].IdempotencyKey {
			t.Errorf("event sent with key %q, want the queued item's %q", k, pending[0].IdempotencyKey)
		}
	}
	if p, _ := sdk.Leads.Pending(); len(p) != 0 {
		t.Errorf("pending after delivery: %+v", p)
	}
}
