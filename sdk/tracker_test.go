package sdk_test

import (
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/leadwire/leadwire/internal/browser"
)

func TestTrackerCookieAndTimeline(t *testing.T) {
	s := newSite(t)
	tab := browser.NewTab(t)
	page := s.page("/", "", "", "")
	navigate(t, tab, page)
	got := settle(t, tab, capture(s, "tracked@example.com"))
	if got.Error != nil {
		t.Fatal(got)
	}
	id := got.OK["id"].(string)

	// The cookie the script sets reaches the browser's cookie store a
	// moment later, later still on a busy machine.
	var cookies []*network.Cookie
	for deadline := time.Now().Add(5 * time.Second); len(cookies) == 0 && time.Now().Before(deadline); {
		res, err := chromedp.Call(tab, network.GetCookies, network.GetCookiesParams{URLs: []string{page}})
		if err != nil {
			t.Fatal(err)
		}
		if cookies = res.Cookies; len(cookies) == 0 {
			time.Sleep(10 * time.Millisecond)
		}
	}
	if len(cookies) != 1 {
		t.Fatalf("cookies %v, want one", cookies)
	}
	c := cookies[0]
	year := time.Now().Add(365 * 24 * time.Hour).Unix()
	if c.Name != "rechat-sdk-tracker" || c.Value != id || c.Path != "/" || c.SameSite != network.CookieSameSiteLax || c.Expires < float64(year-60) || c.Expires > float64(year+60) {
		t.Errorf("cookie %+v, want rechat-sdk-tracker=%s, path /, SameSite Lax, one year", c, id)
	}

	// A later page finds the visitor from the cookie.
	navigate(t, tab, page)
	calls := []struct{ js, action string }{
		{`viewedListing({mls_number: 'V1', price: 500000}, 'first look')`, "ContactViewedListing"},
		{`sharedListing({mls_number: 'S1'})`, "ContactSharedListing"},
		{`favoritedListing({mls_number: 'F1'})`, "ContactFavoritedListing"},
		{`removedFavoriteListing({mls_number: 'F1'})`, "ContactRemovedFavoriteListing"},
		{`valuedListing({mls_number: 'P1'})`, "ContactValuedListing"},
		{`searchedListings({title: 'Downtown', minimum_bedrooms: 2}, 'search')`, "ContactSearchedListings"},
		{`createdSearch({title: 'Saved'})`, "ContactCreatedSearch"},
		{`removedSearch({title: 'Saved'})`, "ContactRemovedSearch"},
		{`signedUp('newsletter')`, "ContactSignedUp"},
		{`loggedIn()`, "ContactLoggedIn"},
		{`capture({action: 'ContactToured', notes: 'custom'})`, "ContactToured"},
	}
	for _, c := range calls {
		if got := settle(t, tab, "sdk.Leads.Tracker."+c.js); got.Error != nil {
			t.Fatalf("%s rejected: %v", c.js, got)
		}
	}
	timeline := s.leads()[0].Timeline
	if len(timeline) != len(calls) {
		t.Fatalf("timeline has %d entries, want %d", len(timeline), len(calls))
	}
	for i, c := range calls {
		if timeline[i].Action != c.action {
			t.Errorf("entry %d is %s, want %s", i, timeline[i].Action, c.action)
		}
	}
	if a := timeline[0]; a.Listing == nil || a.Listing.MLSNumber != "V1" || a.Listing.Price != 500000 || a.Notes != "first look" {
		t.Errorf("viewedListing stored %+v", a)
	}
	if a := timeline[5]; a.Search == nil || a.Search.Title != "Downtown" || a.Search.MinimumBedrooms != 2 || a.Notes != "search" {
		t.Errorf("searchedListings stored %+v", a)
	}
	if a := timeline[8]; a.Notes != "newsletter" {
		t.Errorf("signedUp stored %+v", a)
	}
}

func TestTrackerWithoutLead(t *testing.T) {
	s := newSite(t)
	tests := []struct {
		name, settings string
		capture        bool // capture a lead first
	}{
		{"no capture yet", "", false},
		{"tracker: false", "{tracker: false}", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab := browser.NewTab(t)
			navigate(t, tab, s.page("/"+tt.name, "", tt.settings, ""))
			if tt.capture {
				if got := settle(t, tab, capture(s, "untracked@example.com")); got.Error != nil {
					t.Fatal(got)
				}
			}
			// An empty cookie jar, and getItem's null for the storage.
			if c := eval[string](t, tab, `document.cookie + localStorage.getItem('rechat-sdk-tracker')`); c != "null" {
				t.Errorf("cookie and storage %q, want nothing", c)
			}
			got := settle(t, tab, `sdk.Leads.Tracker.viewedListing({mls_number: '1'})`)
			if got.Error == nil || got.Error.Message != "No tracking id is found" {
				t.Errorf("settled with %v, want the error No tracking id is found", got)
			}
		})
	}
}

func TestTrackerCustomCookieAndIdentify(t *testing.T) {
	s := newSite(t)
	tab := browser.NewTab(t)
	navigate(t, tab, s.page("/", "", `{tracker: {cookie: {name: 'visitor', options: {maxAge: 60}}}}`, ""))
	got := settle(t, tab, capture(s, "first@example.com"))
	first := got.OK["id"].(string)
	if c := eval[string](t, tab, `document.cookie`); c != "visitor="+first {
		t.Errorf("cookie %q, want visitor=%s", c, first)
	}
	// identify points the tracker at another lead; the activity lands there.
	second := settle(t, tab, capture(s, "second@example.com")).OK["id"].(string)
	eval[chromedp.Void](t, tab, `sdk.Leads.Tracker.identify(`+jsString(first)+`)`)
	if got := settle(t, tab, `sdk.Leads.Tracker.loggedIn()`); got.Error != nil {
		t.Fatal(got)
	}
	for _, l := range s.leads() {
		want := map[string]int{first: 1, second: 0}[l.ID]
		if len(l.Timeline) != want {
			t.Errorf("lead %s has %d timeline entries, want %d", l.ID, len(l.Timeline), want)
		}
	}
}

func TestDemoPageCreatesLead(t *testing.T) {
	s := newSite(t)
	tab := browser.NewTab(t)
	// The server serves the demo at / and the SDK from the same origin.
	navigate(t, tab, s.api+"/")
	if err := chromedp.Do(tab,
		chromedp.SendKeys(chromedp.ID("first_name"), "Ada"),
		chromedp.SendKeys(chromedp.ID("last_name"), "Lovelace"),
		chromedp.SendKeys(chromedp.ID("email"), "ada@example.com"),
		chromedp.SendKeys(chromedp.ID("phone_number"), "(818) 919-1212"),
		chromedp.SendKeys(chromedp.ID("message"), "I would like a tour on Saturday."),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
	); err != nil {
		t.Fatal(err)
	}
	waitTrue(t, tab, `document.querySelector('#result').textContent != ''`)
	lead := s.waitLeads(1)[0]
	result, err := chromedp.Run(tab, chromedp.Text(chromedp.ID("result")))
	if err != nil {
		t.Fatal(err)
	}
	if want := "Created lead " + lead.ID; result != want {
		t.Errorf("the page shows %q, want %q", result, want)
	}
	p := lead.Payload
	if p.FirstName != "Ada" || p.LastName != "Lovelace" || p.PhoneNumber != "+18189191212" || p.Extra["message"] != "I would like a tour on Saturday." {
		t.Errorf("stored %+v", p)
	}
	if err := chromedp.Do(tab, chromedp.EmulateViewport(800, 900)); err != nil {
		t.Fatal(err)
	}
	png, err := chromedp.Run(tab, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("/tmp/leadwire-demo.png", png, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestOfflineTrackingIsDeliveredOnce(t *testing.T) {
	s := newSite(t)
	tab := browser.NewTab(t)
	page := s.page("/", "", "", "")
	navigate(t, tab, page)
	if got := settle(t, tab, capture(s, "offline-visitor@example.com")); got.Error != nil {
		t.Fatal(got)
	}
	setOffline(t, tab, true, s.apiPattern())
	calls := []struct{ js, action string }{
		{`viewedListing({mls_number: 'O1'})`, "ContactViewedListing"},
		{`searchedListings({title: 'Offline'})`, "ContactSearchedListings"},
		{`signedUp('offline')`, "ContactSignedUp"},
	}
	var keys []string
	for _, c := range calls {
		got := settle(t, tab, "sdk.Leads.Tracker."+c.js)
		key, _ := got.OK["idempotency_key"].(string)
		if got.OK["queued"] != true || !isUUID(key) || slices.Contains(keys, key) {
			t.Fatalf("offline %s settled with %v, want queued under a key of its own", c.js, got)
		}
		keys = append(keys, key)
	}
	navigate(t, tab, page)
	if n := queued(t, tab); n != len(calls) {
		t.Fatalf("%d items queued after the reload, want %d", n, len(calls))
	}

	// The server stores the first event but its answer is lost: the retry
	// must carry the same key, so that the server stores it only once.
	s.loseNext(1)
	setOffline(t, tab, false, "")
	waitTrue(t, tab, fmt.Sprintf(`delivered.length == %d`, len(calls)))
	timeline := s.leads()[0].Timeline
	if len(timeline) != len(calls) {
		t.Fatalf("timeline has %d entries, want %d", len(timeline), len(calls))
	}
	for i, c := range calls {
		if timeline[i].Action != c.action {
			t.Errorf("entry %d is %s, want %s: the queue is sent in order", i, timeline[i].Action, c.action)
		}
		want := 1
		if i == 0 {
			want = 2
		}
		if n := s.sentWith(keys[i]); n != want {
			t.Errorf("%s was sent %d times under its key, want %d", c.js, n, want)
		}
	}
	if n := queued(t, tab); n != 0 {
		t.Errorf("%d items still queued", n)
	}
}
