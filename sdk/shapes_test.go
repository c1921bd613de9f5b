package sdk_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/internal/browser"
)

// The tests here send, through the SDK in the browser, the shapes that
// Rechat's own SDK README and WordPress plugin send, and read what the
// server stored. Each lead and activity is written as JSON, which is also
// a JavaScript object literal, so that the test knows what the SDK sent.

func TestCaptureShapesOfRechatSites(t *testing.T) {
	s := newSite(t)
	page := s.page("/", "", "", "")
	tests := []struct {
		name    string
		lead    string // JSON
		phone   string // the stored phone_number
		address *leadwire.Address
		line    string // the address as a person reads it
	}{
		{
			name: "phone and an address of parts",
			lead: `{"first_name": "Jane", "phone": "(214) 555-0100", "address": {"street_number": "1200",
				"street_name": "Main", "street_suffix": "St", "city": "Dallas", "state_code": "TX", "postal_code": "75201"}}`,
			phone: "+12145550100",
			address: &leadwire.Address{StreetNumber: "1200", StreetName: "Main", StreetSuffix: "St",
				City: "Dallas", StateCode: "TX", PostalCode: "75201"},
			line: "1200 Main St, Dallas, TX 75201",
		},
		{
			name:    "address in one string",
			lead:    `{"email": "jane@example.com", "address": "1200 Main St, Dallas, TX"}`,
			address: &leadwire.Address{Text: "1200 Main St, Dallas, TX"},
			line:    "1200 Main St, Dallas, TX",
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab := browser.NewTab(t)
			navigate(t, tab, page)
			got := settle(t, tab, fmt.Sprintf(`sdk.Leads.capture({lead_channel: %s}, %s)`, jsString(s.server.ChannelID), tt.lead))
			if got.Error != nil {
				t.Fatalf("capture rejected: %v", got)
			}
			lead := s.waitLeads(i + 1)[i]
			p := lead.Payload
			if p.PhoneNumber != tt.phone {
				t.Errorf("phone_number %q, want %q", p.PhoneNumber, tt.phone)
			}
			if !reflect.DeepEqual(p.Address, tt.address) {
				t.Errorf("address %+v, want %+v", p.Address, tt.address)
			}
			if l := p.Address.Line(); l != tt.line {
				t.Errorf("address line %q, want %q", l, tt.line)
			}
			// The SDK adds the page it runs on; everything else is the
			// lead as the website wrote it.
			want := decodeObject(t, tt.lead)
			want["referer_url"] = page
			if raw := decodeObject(t, string(lead.Raw)); !reflect.DeepEqual(raw, want) {
				t.Errorf("raw_payload %s, want %v", lead.Raw, want)
			}
		})
	}
}

func TestTrackerShapesOfRechatSites(t *testing.T) {
	s := newSite(t)
	tab := browser.NewTab(t)
	navigate(t, tab, s.page("/", "", "", ""))
	if got := settle(t, tab, capture(s, "known-visitor@example.com")); got.Error != nil {
		t.Fatal(got)
	}
	tests := []struct {
		name    string
		call    string // a Tracker method with its argument, in JSON
		action  string
		listing *leadwire.Listing
		search  *leadwire.Search
		raw     string // the activity as the SDK sends it
	}{
		{
			// Rechat's WordPress plugin, on a listing page.
			name:    "listing_id without an action",
			call:    `capture({"listing_id": "1841395151"})`,
			action:  leadwire.ActionViewedListing,
			listing: &leadwire.Listing{ID: "1841395151"},
			raw:     `{"listing_id": "1841395151"}`,
		},
		{
			name:   "search with an undocumented filter",
			call:   `searchedListings({"title": "Downtown", "minimum_square_meters": 90})`,
			action: leadwire.ActionSearchedListings,
			search: &leadwire.Search{Title: "Downtown"},
			raw:    `{"action": "ContactSearchedListings", "search": {"title": "Downtown", "minimum_square_meters": 90}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(s.leads()[0].Timeline)
			if got := settle(t, tab, "sdk.Leads.Tracker."+tt.call); got.Error != nil {
				t.Fatalf("%s rejected: %v", tt.call, got)
			}
			timeline := s.leads()[0].Timeline
			if len(timeline) != before+1 {
				t.Fatalf("timeline has %d entries, want %d", len(timeline), before+1)
			}
			a := timeline[before]
			if a.Action != tt.action || !reflect.DeepEqual(a.Listing, tt.listing) || !reflect.DeepEqual(a.Search, tt.search) {
				t.Errorf("stored %s listing %+v search %+v, want %s listing %+v search %+v",
					a.Action, a.Listing, a.Search, tt.action, tt.listing, tt.search)
			}
			if raw := decodeObject(t, string(a.Raw)); !reflect.DeepEqual(raw, decodeObject(t, tt.raw)) {
				t.Errorf("raw_payload %s, want %s", a.Raw, tt.raw)
			}
		})
	}

	t.Run("neither action nor listing", func(t *testing.T) {
		before := len(s.leads()[0].Timeline)
		got := settle(t, tab, `sdk.Leads.Tracker.capture({})`)
		if got.Error == nil || got.Error.Status != 400 || got.Error.Code != leadwire.EINVALID || !strings.Contains(got.Error.Message, `"action"`) {
			t.Errorf("settled with %v, want the server's 400 naming \"action\"", got)
		}
		if n := len(s.leads()[0].Timeline); n != before {
			t.Errorf("timeline has %d entries, want %d", n, before)
		}
	})
}

// decodeObject decodes a JSON object with its numbers as written.
func decodeObject(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("decoding %s: %v", s, err)
	}
	return m
}
