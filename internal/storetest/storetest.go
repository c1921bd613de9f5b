// Package storetest is the test suite every leadwire store passes: it
// checks the service contracts of the root package through the interfaces
// alone, so each store implementation runs the same tests.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/wire"
)

// Store is what a leadwire store implements.
type Store interface {
	leadwire.LeadService
	leadwire.ChannelService
	leadwire.ContactService
	leadwire.UserService
	leadwire.DeliveryService
}

// Open returns a new, empty store that is closed when t ends, and a
// function that sets the time the store takes as now. Until the first call
// of the setter the store's clock must read Start.
type Open func(t *testing.T) (s Store, setNow func(time.Time))

// Start is the time a store's clock reads when the suite begins.
var Start = time.Date(2026, 3, 14, 9, 26, 53, 589_000_000, time.UTC)

// Run runs the whole suite, each test on a store of its own.
func Run(t *testing.T, open Open) {
	cases := []storeCase{
		{"Channels", testChannels},
		{"CaptureRoundTrip", testCaptureRoundTrip},
		{"ContactMatching", testContactMatching},
		{"ContactUpdates", testContactUpdates},
		{"ContactIDs", testContactIDs},
		{"Idempotency", testIdempotency},
		{"Activities", testActivities},
		{"ActivityIdempotency", testActivityIdempotency},
		{"FindLeads", testFindLeads},
		{"WalkLeads", testWalkLeads},
		{"ConcurrentCaptures", testConcurrentCaptures},
		{"IDs", testIDs}, {"FindLeadByID", testFindLeadByID}, {"Assignees", testAssignees},
		{"LeadsStored", testLeadsStored}, {"LongValues", testLongValues}, {"OddValues", testOddValues},
	}
	for _, tc := range slices.Concat(cases, userCases, readCases, spamCases, deliveryCases) {
		t.Run(tc.name, func(t *testing.T) { tc.test(t, open) })
	}
}

// testLeadsStored: a committed capture signals LeadsStored, which the
// live inbox waits on; a refused one does not.
func testLeadsStored(t *testing.T, open Open) {
	s, _ := open(t)
	ch := mustChannel(t, s, leadwire.Channel{Name: "Site"})
	_, _, err := s.CaptureLeads(context.Background(), &leadwire.Capture{ChannelID: "0190b0a8-0000-7000-8000-000000000000",
		Leads: []*leadwire.Lead{{Payload: leadwire.Payload{Email: "nobody@example.com"}, Raw: []byte(`{}`)}}})
	wantCode(t, err, leadwire.ENOTFOUND)
	select {
	case <-s.LeadsStored():
		t.Fatal("LeadsStored was signaled without a lead stored")
	case <-time.After(200 * time.Millisecond):
	}
	capture(t, s, ch, leadwire.Payload{Email: "ann@example.com"})
	select {
	case <-s.LeadsStored():
	case <-time.After(time.Second):
		t.Error("LeadsStored was not signaled within a second of a capture")
	}
}

// testLongValues: a lead whose email, name, phone and words are longer
// than anyone's (a form that put its message in the wrong field) is
// stored, and found by its other words; its email matches no contact.
func testLongValues(t *testing.T, open Open) {
	s, _ := open(t)
	ch := mustChannel(t, s, leadwire.Channel{Name: "Site"})
	long := strings.Repeat("w", 3000)
	p := leadwire.Payload{FirstName: long, Email: long + "@example.com", PhoneNumber: strings.Repeat("1", 3000),
		Note: "findme " + long}
	p.Normalize()
	first := capture(t, s, ch, p)
	second := capture(t, s, ch, p)
	if first.ContactID == second.ContactID {
		t.Error("two leads joined one contact by an email longer than any address")
	}
	found, _, err := s.SearchLeads(context.Background(), leadwire.LeadFilter{Query: "findme"})
	if err != nil || len(found) != 2 {
		t.Errorf("search: %d leads, %v; want 2", len(found), err)
	}
}

// testOddValues: whatever lead the wire decoding accepts, the store
// stores: scripts of every kind, emoji, control characters, numbers no
// float holds, deep extra fields, tags and assignees by the hundred.
func testOddValues(t *testing.T, open Open) {
	s, _ := open(t)
	ch := mustChannel(t, s, leadwire.Channel{Name: "Site"})
	many := func(n int, item string) string {
		items := make([]string, n)
		for i := range items {
			items[i] = fmt.Sprintf(item, i)
		}
		return strings.Join(items, ",")
	}
	for i, body := range []string{
		`{"first_name":"Zoë 😀","last_name":"O'Brien-Ñúñez","email":"zoë@例え.jp","note":"שלום مرحبا 你好 \t\u0007\u001f"}`,
		`{"first_name":"x","budget":1e999,"id":123456789012345678901234567890,"extra":{"a":{"b":{"c":[1,[2,[3,{"d":null}]]]}}}}`,
		`{"email":"tags@example.com","tag":[` + many(300, `"tag-%d"`) + `]}`,
		`{"email":"assigned@example.com","assignees":[` + many(200, `{"email":"agent-%d@example.com"}`) + `,{"email":"not an email"},{"email":""}]}`,
		`{"first_name":"\\u0000 is text","phone_number":"+44 20 7946 0958 ext. 12","address":{"line1":"1 Main St","city":"","postal_code":75024}}`,
		`{"message":"` + strings.Repeat("word ", 10000) + `"}`,
	} {
		leads, err := wire.DecodeLeads("application/json", []byte(body), 0)
		if err != nil {
			t.Fatalf("body %d: %v", i, err)
		}
		if _, _, err := s.CaptureLeads(context.Background(), &leadwire.Capture{ChannelID: ch.ID, Leads: leads}); err != nil {
			t.Errorf("body %d: %v", i, err)
		}
	}
}

// storeCase is one test of the suite.
type storeCase struct {
	name string
	test func(t *testing.T, open Open)
}

// clock is a store plus the time it reads, moved forward by the tests.
type clock struct {
	Store
	now    time.Time
	setNow func(time.Time)
}

func openClock(t *testing.T, open Open) *clock {
	s, setNow := open(t)
	return &clock{Store: s, now: Start, setNow: setNow}
}

func (c *clock) advance(d time.Duration) time.Time {
	c.now = c.now.Add(d)
	c.setNow(c.now)
	return c.now
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := leadwire.ErrorCode(err); err == nil || got != code {
		t.Fatalf("error = %v (code %q), want code %q", err, got, code)
	}
}

func mustChannel(t *testing.T, s Store, c leadwire.Channel) *leadwire.Channel {
	t.Helper()
	if err := s.CreateChannel(context.Background(), &c); err != nil {
		t.Fatalf("CreateChannel(%q): %v", c.Name, err)
	}
	return &c
}

// capture stores one lead with the payload p on channel ch and returns it.
func capture(t *testing.T, s Store, ch *leadwire.Channel, p leadwire.Payload) *leadwire.Lead {
	t.Helper()
	leads, replayed, err := s.CaptureLeads(context.Background(), &leadwire.Capture{
		ChannelID: ch.ID, Leads: []*leadwire.Lead{{Payload: p, Raw: rawOf(t, p)}},
	})
	if err != nil || replayed || len(leads) != 1 {
		t.Fatalf("CaptureLeads = %d leads, replayed %v, error %v; want 1 new lead", len(leads), replayed, err)
	}
	return leads[0]
}

func rawOf(t *testing.T, v any) json.RawMessage {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func findLeads(t *testing.T, s Store, f leadwire.LeadFilter) []*leadwire.Lead {
	t.Helper()
	leads, err := s.FindLeads(context.Background(), f)
	if err != nil {
		t.Fatalf("FindLeads(%+v): %v", f, err)
	}
	return leads
}

func findContact(t *testing.T, s Store, id string) *leadwire.Contact {
	t.Helper()
	c, err := s.FindContactByID(context.Background(), id)
	if err != nil {
		t.Fatalf("FindContactByID(%q): %v", id, err)
	}
	return c
}

func testChannels(t *testing.T, open Open) {
	ctx := context.Background()
	s := openClock(t, open)

	t.Run("new store has none", func(t *testing.T) {
		channels, err := s.FindChannels(ctx)
		if err != nil || len(channels) != 0 {
			t.Fatalf("FindChannels of a new store = %s, %v; want none", dump(channels), err)
		}
	})

	var created []*leadwire.Channel
	t.Run("create and find", func(t *testing.T) {
		for i, c := range []leadwire.Channel{
			{Name: " Open house ", BrandID: "brand-1", UserID: "user-1",
				AllowedOrigins: []string{"https://example.com/", "http://localhost:8080"}},
			{Name: "Zillow"},
		} {
			now := s.advance(time.Minute)
			got := mustChannel(t, s, c)
			if _, err := uuid.Parse(got.ID); err != nil {
				t.Errorf("channel id %q is not a UUID", got.ID)
			}
			if !got.CreatedAt.Equal(now) {
				t.Errorf("CreatedAt = %v, want %v", got.CreatedAt, now)
			}
			if i == 0 && (got.Name != "Open house" || !reflect.DeepEqual(got.AllowedOrigins, []string{"https://example.com", "http://localhost:8080"})) {
				t.Errorf("channel not normalized: %+v", got)
			}
			found, err := s.FindChannelByID(ctx, got.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !sameChannel(found, got) {
				t.Errorf("FindChannelByID = %+v, want %+v", found, got)
			}
			created = append(created, got)
		}
		channels, err := s.FindChannels(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(channels) != 2 || !sameChannel(channels[0], created[0]) || !sameChannel(channels[1], created[1]) {
			t.Errorf("FindChannels = %s, want %s", dump(channels), dump(created))
		}
	})

	t.Run("default channel", func(t *testing.T) {
		if len(created) == 0 {
			t.Skip("no channel was created")
		}
		def, isNew, err := leadwire.EnsureDefaultChannel(ctx, s)
		if err != nil || isNew || !sameChannel(def, created[0]) {
			t.Errorf("EnsureDefaultChannel on a store with channels = %+v, new %v, %v; want the oldest", def, isNew, err)
		}
		fresh := openClock(t, open)
		def, isNew, err = leadwire.EnsureDefaultChannel(ctx, fresh)
		if err != nil || !isNew || def.Name != leadwire.DefaultChannelName {
			t.Fatalf("EnsureDefaultChannel on a new store = %+v, new %v, %v", def, isNew, err)
		}
		again, isNew, err := leadwire.EnsureDefaultChannel(ctx, fresh)
		if err != nil || isNew || again.ID != def.ID {
			t.Errorf("second EnsureDefaultChannel = %+v, new %v, %v; want %s", again, isNew, err, def.ID)
		}
	})

	t.Run("found channel is a copy", func(t *testing.T) {
		if len(created) == 0 {
			t.Skip("no channel was created")
		}
		found, err := s.FindChannelByID(ctx, created[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		found.Name, found.AllowedOrigins[0] = "changed", "https://changed.example"
		again, err := s.FindChannelByID(ctx, created[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if !sameChannel(again, created[0]) {
			t.Errorf("changing a found channel changed the store: %+v", again)
		}
	})

	t.Run("invalid", func(t *testing.T) {
		for _, c := range []leadwire.Channel{
			{Name: ""},
			{Name: "   "},
			{Name: "x", AllowedOrigins: []string{"example.com"}},
			{Name: "x", AllowedOrigins: []string{"ftp://example.com"}},
			{Name: "x", AllowedOrigins: []string{"https://example.com/form"}},
		} {
			wantCode(t, s.CreateChannel(ctx, &c), leadwire.EINVALID)
		}
	})

	t.Run("not found", func(t *testing.T) {
		for _, id := range []string{"", "not-a-uuid", uuid.NewString(), "'; DROP TABLE channels; --"} {
			_, err := s.FindChannelByID(ctx, id)
			wantCode(t, err, leadwire.ENOTFOUND)
		}
	})
}

func sameChannel(a, b *leadwire.Channel) bool {
	return a.ID == b.ID && a.Name == b.Name && a.BrandID == b.BrandID && a.UserID == b.UserID &&
		a.CreatedAt.Equal(b.CreatedAt) && reflect.DeepEqual(a.AllowedOrigins, b.AllowedOrigins)
}

// fullPayload sets every field of a payload.
func fullPayload() leadwire.Payload {
	return leadwire.Payload{
		FirstName: "John", LastName: "Doe", Email: "john-doe@gmail.com",
		PhoneNumber: "+18189191212", PhoneNumberOriginal: "(818) 919-1212",
		Tag: []string{"buyer", "open-house"}, LeadSource: "Open house sign-in", Note: "Wants a <b>yard</b> & garage",
		RefererURL: "https://example.com/listings/1?utm=x", MLSID: "NTREIS", ListingID: "L-1", AgentMLSID: "A-7",
		SourceType: "Website",
		Address: &leadwire.Address{StreetAddress: "1 Main St", City: "Dallas", StateCode: "TX",
			Extra: map[string]any{"lat": json.Number("32.78")}},
		Assignees: []leadwire.Assignee{{Email: "agent@example.com", PhoneNumber: "+12145550100",
			FirstName: "Ann", LastName: "Agent", MLSID: "A-7", MLS: "NTREIS"}},
		Listing: &leadwire.Listing{ID: "l1", URL: "https://example.com/l/1", MLS: "NTREIS", MLSNumber: "123",
			Price: 525000.5, CoverImageURL: "https://example.com/1.jpg",
			Property: map[string]any{"bedrooms": json.Number("3"), "address": map[string]any{"city": "Dallas", "state_code": "TX"}}},
		Attribution: leadwire.Attribution{UserID: "u1", BrandID: "b1", AdCampaignID: "ad1",
			EmailCampaignID: "ec1", EmailCampaignEmailID: "ece1"},
		// Numbers are json.Number, as the decoders build them, and keep
		// their text even where no float64 could hold them.
		Extra: map[string]any{"message": "Call me after 5pm ☎", "budget": json.Number("600000"),
			"rooms": []any{"kitchen", json.Number("2"), nil, true}, "huge": json.Number("1e999"),
			"tiny": []any{map[string]any{"x": json.Number("-1e-400")}}},
	}
}

func testCaptureRoundTrip(t *testing.T, open Open) {
	ctx := context.Background()
	s := openClock(t, open)
	ch := mustChannel(t, s, leadwire.Channel{Name: "Site", BrandID: "brand-1"})
	now := s.advance(time.Second)

	full := fullPayload()
	raw := json.RawMessage(`{"first_name":"John",  "phone_number":"(818) 919-1212", "rooms":["kitchen",2,null,true],"x":1e3}`)
	minimal := leadwire.Payload{Email: "only@example.com"}
	in := []*leadwire.Lead{{Payload: full, Raw: raw}, {Payload: minimal, Raw: json.RawMessage(`{"email":"only@example.com"}`)}}
	leads, replayed, err := s.CaptureLeads(ctx, &leadwire.Capture{ChannelID: ch.ID, Leads: in})
	if err != nil || replayed || len(leads) != 2 {
		t.Fatalf("CaptureLeads = %d leads, replayed %v, error %v", len(leads), replayed, err)
	}
	for i, l := range leads {
		if _, err := uuid.Parse(l.ID); err != nil {
			t.Errorf("lead id %q is not a UUID", l.ID)
		}
		if l.ChannelID != ch.ID || !l.CreatedAt.Equal(now) || l.ContactID == "" {
			t.Errorf("lead %d = channel %q, created %v, contact %q; want %q, %v, a contact", i, l.ChannelID, l.CreatedAt, l.ContactID, ch.ID, now)
		}
	}
	if leads[0].ID == leads[1].ID || leads[0].ContactID == leads[1].ContactID {
		t.Errorf("two people share lead or contact ids: %+v %+v", leads[0], leads[1])
	}

	found := findLeads(t, s, leadwire.LeadFilter{ChannelID: ch.ID})
	if len(found) != 2 {
		t.Fatalf("FindLeads returned %d leads, want 2", len(found))
	}
	byID := map[string]*leadwire.Lead{found[0].ID: found[0], found[1].ID: found[1]}
	for i, want := range []struct {
		payload leadwire.Payload
		raw     json.RawMessage
	}{{fullPayload(), raw}, {minimal, in[1].Raw}} {
		got := byID[leads[i].ID]
		if got == nil {
			t.Fatalf("lead %s not found", leads[i].ID)
		}
		if !reflect.DeepEqual(got.Payload, want.payload) {
			t.Errorf("payload round trip:\n got %#v\nwant %#v", got.Payload, want.payload)
		}
		if string(got.Raw) != string(want.raw) {
			t.Errorf("raw = %s, want %s", got.Raw, want.raw)
		}
		if got.ChannelID != ch.ID || got.ContactID != leads[i].ContactID || !got.CreatedAt.Equal(now) || len(got.Timeline) != 0 {
			t.Errorf("found lead %+v differs from captured %+v", got, leads[i])
		}
	}

	c := findContact(t, s, leads[0].ContactID)
	want := leadwire.Contact{ID: leads[0].ContactID, Brand: "brand-1", FirstName: "John", LastName: "Doe",
		Email: "john-doe@gmail.com", PhoneNumber: "+18189191212"}
	if c.ID != want.ID || c.Brand != want.Brand || c.FirstName != want.FirstName || c.LastName != want.LastName ||
		c.Email != want.Email || c.PhoneNumber != want.PhoneNumber || !c.CreatedAt.Equal(now) || !c.UpdatedAt.Equal(now) {
		t.Errorf("contact = %+v, want %+v created and updated %v", c, want, now)
	}

	t.Run("errors", func(t *testing.T) {
		for _, c := range []struct {
			name    string
			capture leadwire.Capture
			code    string
		}{
			{"unknown channel", leadwire.Capture{ChannelID: uuid.NewString(), Leads: []*leadwire.Lead{{}}}, leadwire.ENOTFOUND},
			{"channel not a uuid", leadwire.Capture{ChannelID: "website", Leads: []*leadwire.Lead{{}}}, leadwire.ENOTFOUND},
			{"no leads", leadwire.Capture{ChannelID: ch.ID}, leadwire.EINVALID},
		} {
			t.Run(c.name, func(t *testing.T) {
				_, _, err := s.CaptureLeads(ctx, &c.capture)
				wantCode(t, err, c.code)
			})
		}
		for _, id := range []string{"nope", uuid.NewString()} {
			_, err := s.FindContactByID(ctx, id)
			wantCode(t, err, leadwire.ENOTFOUND)
		}
	})
}

func testContactMatching(t *testing.T, open Open) {
	s := openClock(t, open)
	brandA1 := mustChannel(t, s, leadwire.Channel{Name: "A1", BrandID: "brand-a"})
	brandA2 := mustChannel(t, s, leadwire.Channel{Name: "A2", BrandID: "brand-a"})
	brandB := mustChannel(t, s, leadwire.Channel{Name: "B", BrandID: "brand-b"})
	bare1 := mustChannel(t, s, leadwire.Channel{Name: "No brand 1"})
	bare2 := mustChannel(t, s, leadwire.Channel{Name: "No brand 2"})

	type step struct {
		ch *leadwire.Channel
		p  leadwire.Payload
	}
	for _, tc := range []struct {
		name  string
		first step
		then  step
		same  bool
	}{
		{"email ignores case and spaces", step{brandA1, leadwire.Payload{Email: "Jane@Example.com"}},
			step{brandA1, leadwire.Payload{Email: "  jane@example.COM "}}, true},
		{"phone in other formats", step{brandA1, leadwire.Payload{PhoneNumber: "+1 214 555 0101"}},
			step{brandA1, leadwire.Payload{PhoneNumber: "(214) 555-0101"}}, true},
		{"phone when emails differ", step{brandA1, leadwire.Payload{Email: "p1@example.com", PhoneNumber: "+12145550102"}},
			step{brandA1, leadwire.Payload{Email: "p2@example.com", PhoneNumber: "214.555.0102"}}, true},
		{"same brand on another channel", step{brandA1, leadwire.Payload{Email: "brand@example.com"}},
			step{brandA2, leadwire.Payload{Email: "brand@example.com"}}, true},
		{"other brand", step{brandA1, leadwire.Payload{Email: "other@example.com"}},
			step{brandB, leadwire.Payload{Email: "other@example.com"}}, false},
		{"channels without brand are their own brand", step{bare1, leadwire.Payload{Email: "bare@example.com"}},
			step{bare2, leadwire.Payload{Email: "bare@example.com"}}, false},
		{"same channel without brand", step{bare1, leadwire.Payload{PhoneNumber: "+12145550103"}},
			step{bare1, leadwire.Payload{PhoneNumber: "2145550103"}}, true},
		{"different email and phone", step{brandA1, leadwire.Payload{Email: "x@example.com", PhoneNumber: "+12145550104"}},
			step{brandA1, leadwire.Payload{Email: "y@example.com", PhoneNumber: "+12145550105"}}, false},
		{"no email or phone", step{brandA1, leadwire.Payload{FirstName: "Anon"}},
			step{brandA1, leadwire.Payload{FirstName: "Anon"}}, false},
		{"unparseable phones never match", step{brandA1, leadwire.Payload{PhoneNumber: "call me"}},
			step{brandA1, leadwire.Payload{PhoneNumber: "call me"}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := capture(t, s, tc.first.ch, tc.first.p)
			b := capture(t, s, tc.then.ch, tc.then.p)
			if same := a.ContactID == b.ContactID; same != tc.same {
				t.Fatalf("same contact = %v, want %v", same, tc.same)
			}
			for _, l := range []*leadwire.Lead{a, b} {
				ch := tc.first.ch
				if l == b {
					ch = tc.then.ch
				}
				if c := findContact(t, s, l.ContactID); c.Brand != ch.Brand() {
					t.Errorf("contact brand = %q, want %q", c.Brand, ch.Brand())
				}
			}
		})
	}

	t.Run("email wins over phone", func(t *testing.T) {
		x := capture(t, s, brandA1, leadwire.Payload{Email: "x1@example.com", PhoneNumber: "+12145550111"})
		y := capture(t, s, brandA1, leadwire.Payload{Email: "y1@example.com", PhoneNumber: "+12145550112"})
		l := capture(t, s, brandA1, leadwire.Payload{Email: "X1@example.com", PhoneNumber: "+12145550112"})
		if l.ContactID != x.ContactID || l.ContactID == y.ContactID {
			t.Errorf("lead matched %s, want the email's contact %s (phone's is %s)", l.ContactID, x.ContactID, y.ContactID)
		}
	})

	t.Run("one new person twice in one capture", func(t *testing.T) {
		leads, _, err := s.CaptureLeads(context.Background(), &leadwire.Capture{ChannelID: brandB.ID, Leads: []*leadwire.Lead{
			{Payload: leadwire.Payload{Email: "twice@example.com"}},
			{Payload: leadwire.Payload{Email: "TWICE@example.com", PhoneNumber: "+12145550120"}},
			{Payload: leadwire.Payload{PhoneNumber: "214-555-0120"}},
		}})
		if err != nil {
			t.Fatal(err)
		}
		if leads[0].ContactID != leads[1].ContactID || leads[1].ContactID != leads[2].ContactID {
			t.Errorf("contacts %s %s %s, want one", leads[0].ContactID, leads[1].ContactID, leads[2].ContactID)
		}
	})

	t.Run("one new person in concurrent captures", func(t *testing.T) {
		const n = 20
		ids := make([]string, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				leads, _, err := s.CaptureLeads(context.Background(), &leadwire.Capture{ChannelID: brandB.ID,
					Leads: []*leadwire.Lead{{Payload: leadwire.Payload{Email: "crowd@example.com"}}}})
				if err != nil {
					t.Error(err)
					return
				}
				ids[i] = leads[0].ContactID
			})
		}
		wg.Wait()
		for _, id := range ids {
			if id != ids[0] {
				t.Fatalf("concurrent leads of one person got contacts %v, want one", ids)
			}
		}
	})
}

// testContactUpdates: a capture fills a contact's empty values and never
// replaces one, since anyone who knows a channel id can send a lead naming
// a known email; the lead keeps what it was sent; and updated_at moves only
// when a value was filled.
func testContactUpdates(t *testing.T, open Open) {
	s := openClock(t, open)
	ch := mustChannel(t, s, leadwire.Channel{Name: "Site"})
	created := s.advance(time.Second)
	first := capture(t, s, ch, leadwire.Payload{FirstName: "Alice", Email: "alice@example.com"})

	for _, tc := range []struct {
		name    string
		p       leadwire.Payload
		want    leadwire.Contact
		updated bool
	}{
		{"nothing new", leadwire.Payload{FirstName: "Alice", Email: "alice@example.com"},
			leadwire.Contact{FirstName: "Alice", Email: "alice@example.com"}, false},
		{"another name is not taken", leadwire.Payload{FirstName: "Mallory", Email: "ALICE@example.com"},
			leadwire.Contact{FirstName: "Alice", Email: "alice@example.com"}, false},
		{"empty values are filled", leadwire.Payload{FirstName: "Mallory", LastName: "Roe", Email: "alice@example.com", PhoneNumber: "+12145550130"},
			leadwire.Contact{FirstName: "Alice", LastName: "Roe", Email: "alice@example.com", PhoneNumber: "+12145550130"}, true},
		{"another email is not taken, matched by phone", leadwire.Payload{LastName: "Doe", Email: "mallory@example.com", PhoneNumber: "+12145550130"},
			leadwire.Contact{FirstName: "Alice", LastName: "Roe", Email: "alice@example.com", PhoneNumber: "+12145550130"}, false},
		{"another phone is not taken", leadwire.Payload{Email: "alice@example.com", PhoneNumber: "+12145550131"},
			leadwire.Contact{FirstName: "Alice", LastName: "Roe", Email: "alice@example.com", PhoneNumber: "+12145550130"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := findContact(t, s, first.ContactID)
			now := s.advance(time.Hour)
			l := capture(t, s, ch, tc.p)
			if l.ContactID != first.ContactID {
				t.Fatalf("lead joined contact %s, want %s", l.ContactID, first.ContactID)
			}
			c := findContact(t, s, l.ContactID)
			if c.FirstName != tc.want.FirstName || c.LastName != tc.want.LastName || c.Email != tc.want.Email || c.PhoneNumber != tc.want.PhoneNumber {
				t.Errorf("contact = %+v, want %+v", c, tc.want)
			}
			wantUpdated := before.UpdatedAt
			if tc.updated {
				wantUpdated = now
			}
			if !c.UpdatedAt.Equal(wantUpdated) || !c.CreatedAt.Equal(created) {
				t.Errorf("contact created %v updated %v, want %v and %v", c.CreatedAt, c.UpdatedAt, created, wantUpdated)
			}
			if found := findLeads(t, s, leadwire.LeadFilter{Limit: 1}); found[0].ID != l.ID || !reflect.DeepEqual(found[0].Payload, tc.p) {
				t.Errorf("stored lead = %s, want the payload sent %s", dump(found[0].Payload), dump(tc.p))
			}
		})
	}

	t.Run("an email not taken finds no contact", func(t *testing.T) {
		if l := capture(t, s, ch, leadwire.Payload{Email: "mallory@example.com"}); l.ContactID == first.ContactID {
			t.Errorf("the email the contact did not take joined it")
		}
	})

	t.Run("a filled email finds the contact", func(t *testing.T) {
		bob := capture(t, s, ch, leadwire.Payload{PhoneNumber: "+12145550140"})
		capture(t, s, ch, leadwire.Payload{Email: "bob@example.com", PhoneNumber: "+12145550140"})
		if l := capture(t, s, ch, leadwire.Payload{Email: "BOB@example.com"}); l.ContactID != bob.ContactID {
			t.Errorf("the filled email joined contact %s, want %s", l.ContactID, bob.ContactID)
		}
		if c := findContact(t, s, bob.ContactID); c.Email != "bob@example.com" {
			t.Errorf("contact email = %q, want the one filled", c.Email)
		}
	})
}

// testContactIDs: a contact id tells nothing of when the contact was
// created (it comes back to whoever sends a lead, and a time from long ago
// would tell them the person was already known): ids of contacts created
// one after the other are in no order, and none holds the time of its
// creation where a time-ordered (version 7) UUID keeps it.
func testContactIDs(t *testing.T, open Open) {
	s := openClock(t, open)
	ch := mustChannel(t, s, leadwire.Channel{Name: "Site"})
	var ids []string
	for i := range 20 {
		s.advance(time.Hour)
		l := capture(t, s, ch, leadwire.Payload{Email: fmt.Sprintf("person%d@example.com", i)})
		if !leadwire.IsCanonicalID(l.ContactID) {
			t.Fatalf("contact id %q is not a canonical UUID", l.ContactID)
		}
		u := uuid.MustParse(l.ContactID)
		stamp := time.UnixMilli(int64(u[0])<<40 | int64(u[1])<<32 | int64(u[2])<<24 | int64(u[3])<<16 | int64(u[4])<<8 | int64(u[5]))
		for _, near := range []time.Time{time.Now(), s.now} {
			if d := stamp.Sub(near); d > -24*time.Hour && d < 24*time.Hour {
				t.Errorf("contact id %q holds a time %s near its creation", l.ContactID, stamp)
			}
		}
		ids = append(ids, l.ContactID)
	}
	if slices.IsSorted(ids) {
		t.Errorf("contact ids follow the order contacts were created in: %v", ids)
	}
}

func testIdempotency(t *testing.T, open Open) {
	ctx := context.Background()
	s := openClock(t, open)
	ch := mustChannel(t, s, leadwire.Channel{Name: "Site"})
	other := mustChannel(t, s, leadwire.Channel{Name: "Other"})
	request := func(ch *leadwire.Channel, key, hash string) *leadwire.Capture {
		return &leadwire.Capture{ChannelID: ch.ID, IdempotencyKey: key, RequestHash: hash, Leads: []*leadwire.Lead{
			{Payload: fullPayload(), Raw: json.RawMessage(`{"a":1}`)},
			{Payload: leadwire.Payload{Email: "second@example.com"}, Raw: json.RawMessage(`{"b":2}`)},
		}}
	}
	count := func() int { return len(findLeads(t, s, leadwire.LeadFilter{})) }

	s.advance(time.Second)
	original, replayed, err := s.CaptureLeads(ctx, request(ch, "key-1", "hash-1"))
	if err != nil || replayed {
		t.Fatalf("first capture: replayed %v, error %v", replayed, err)
	}
	stored := count()

	t.Run("replay", func(t *testing.T) {
		s.advance(leadwire.IdempotencyWindow - time.Minute)
		again, replayed, err := s.CaptureLeads(ctx, request(ch, "key-1", "hash-1"))
		if err != nil || !replayed {
			t.Fatalf("repeat: replayed %v, error %v; want a replay", replayed, err)
		}
		if len(again) != len(original) {
			t.Fatalf("replay returned %d leads, want %d", len(again), len(original))
		}
		for i := range again {
			a, o := again[i], original[i]
			if a.ID != o.ID || a.ContactID != o.ContactID || a.ChannelID != o.ChannelID || !a.CreatedAt.Equal(o.CreatedAt) ||
				!reflect.DeepEqual(a.Payload, o.Payload) || string(a.Raw) != string(o.Raw) {
				t.Errorf("replayed lead %d = %+v, want %+v", i, a, o)
			}
		}
		if n := count(); n != stored {
			t.Errorf("replay stored leads: %d, want %d", n, stored)
		}
	})

	t.Run("conflict", func(t *testing.T) {
		_, _, err := s.CaptureLeads(ctx, request(ch, "key-1", "hash-2"))
		wantCode(t, err, leadwire.ECONFLICT)
		if n := count(); n != stored {
			t.Errorf("conflict stored leads: %d, want %d", n, stored)
		}
	})

	t.Run("keys belong to a channel", func(t *testing.T) {
		if _, replayed, err := s.CaptureLeads(ctx, request(other, "key-1", "hash-2")); err != nil || replayed {
			t.Fatalf("same key on another channel: replayed %v, error %v; want new leads", replayed, err)
		}
		stored = count()
	})

	t.Run("window expiry", func(t *testing.T) {
		s.now = original[0].CreatedAt
		s.advance(leadwire.IdempotencyWindow)
		fresh, replayed, err := s.CaptureLeads(ctx, request(ch, "key-1", "hash-2"))
		if err != nil || replayed {
			t.Fatalf("after the window: replayed %v, error %v; want new leads", replayed, err)
		}
		if fresh[0].ID == original[0].ID {
			t.Errorf("after the window the original lead came back")
		}
		again, replayed, err := s.CaptureLeads(ctx, request(ch, "key-1", "hash-2"))
		if err != nil || !replayed || again[0].ID != fresh[0].ID {
			t.Errorf("repeat after the window: replayed %v, error %v; want a replay of the new leads", replayed, err)
		}
		_, _, err = s.CaptureLeads(ctx, request(ch, "key-1", "hash-1"))
		wantCode(t, err, leadwire.ECONFLICT)
	})

	t.Run("no key never replays", func(t *testing.T) {
		a := capture(t, s, ch, leadwire.Payload{Email: "nokey@example.com"})
		b := capture(t, s, ch, leadwire.Payload{Email: "nokey@example.com"})
		if a.ID == b.ID {
			t.Error("two captures without a key returned one lead")
		}
	})

	t.Run("concurrent repeats store one lead set", func(t *testing.T) {
		const n = 10
		results := make([][]*leadwire.Lead, n)
		var newSets atomic.Int32
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				leads, replayed, err := s.CaptureLeads(ctx, request(ch, "key-concurrent", "hash"))
				if err != nil {
					t.Error(err)
					return
				}
				results[i] = leads
				if !replayed {
					newSets.Add(1)
				}
			})
		}
		wg.Wait()
		if got := newSets.Load(); got != 1 {
			t.Errorf("%d of %d identical captures stored leads, want 1", got, n)
		}
		for _, r := range results {
			if len(r) != 2 || r[0].ID != results[0][0].ID || r[1].ID != results[0][1].ID {
				t.Fatalf("identical captures returned different leads")
			}
		}
	})
}

func testActivities(t *testing.T, open Open) {
	ctx := context.Background()
	s := openClock(t, open)
	ch := mustChannel(t, s, leadwire.Channel{Name: "Site"})
	lead := capture(t, s, ch, leadwire.Payload{Email: "visitor@example.com"})
	pool := false

	var added []*leadwire.Activity
	for _, a := range []leadwire.Activity{
		{Action: leadwire.ActionViewedListing, Listing: &leadwire.Listing{ID: "l1", Price: 300000,
			Property: map[string]any{"beds": json.Number("2"), "sqft": json.Number("1e999")}}, Notes: "from the map",
			Raw: json.RawMessage(`{"action":"ContactViewedListing","listing":{"id":"l1","price":300000,"property":{"beds":2,"sqft":1e999},"open_house":"Sat"},"notes":"from the map"}`)},
		{Action: leadwire.ActionCreatedSearch, Search: &leadwire.Search{Title: "Dallas", MinimumPrice: 1e5,
			MaximumBedrooms: 4, PropertyTypes: []string{"condo"}, PostalCodes: []string{"75201"}, Pool: &pool}},
		{Action: "CustomAction_1"},
	} {
		now := s.advance(time.Minute)
		a.LeadID = lead.ID
		if err := s.AddActivity(ctx, &a); err != nil {
			t.Fatal(err)
		}
		if _, err := uuid.Parse(a.ID); err != nil || !a.CreatedAt.Equal(now) {
			t.Errorf("activity id %q created %v, want a UUID created %v", a.ID, a.CreatedAt, now)
		}
		added = append(added, &a)
	}
	// A second lead's activity must not show on the first lead's timeline.
	other := capture(t, s, ch, leadwire.Payload{Email: "other@example.com"})
	if err := s.AddActivity(ctx, &leadwire.Activity{LeadID: other.ID, Action: leadwire.ActionLoggedIn}); err != nil {
		t.Fatal(err)
	}

	found := findLeads(t, s, leadwire.LeadFilter{})
	if len(found) != 2 || found[1].ID != lead.ID {
		t.Fatalf("FindLeads = %d leads, want 2 with %s last", len(found), lead.ID)
	}
	if !sameActivities(found[1].Timeline, added) {
		t.Errorf("timeline:\n got %s\nwant %s", dump(found[1].Timeline), dump(added))
	}
	if len(found[0].Timeline) != 1 || found[0].Timeline[0].Action != leadwire.ActionLoggedIn {
		t.Errorf("timeline of the other lead = %s", dump(found[0].Timeline))
	}

	for _, tc := range []struct {
		name string
		a    leadwire.Activity
		code string
	}{
		{"no action", leadwire.Activity{LeadID: lead.ID}, leadwire.EINVALID},
		{"bad action", leadwire.Activity{LeadID: lead.ID, Action: "viewed listing"}, leadwire.EINVALID},
		{"unknown lead", leadwire.Activity{LeadID: uuid.NewString(), Action: leadwire.ActionSignedUp}, leadwire.ENOTFOUND},
		{"lead not a uuid", leadwire.Activity{LeadID: "lead-1", Action: leadwire.ActionSignedUp}, leadwire.ENOTFOUND},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantCode(t, s.AddActivity(ctx, &tc.a), tc.code)
		})
	}
}

func testActivityIdempotency(t *testing.T, open Open) {
	ctx := context.Background()
	s := openClock(t, open)
	ch := mustChannel(t, s, leadwire.Channel{Name: "Site"})
	lead := capture(t, s, ch, leadwire.Payload{Email: "visitor@example.com"})
	other := capture(t, s, ch, leadwire.Payload{Email: "other@example.com"})

	event := func() leadwire.Activity {
		return leadwire.Activity{LeadID: lead.ID, Action: leadwire.ActionViewedListing,
			Listing: &leadwire.Listing{MLSNumber: "42"}, IdempotencyKey: "event-1"}
	}
	first := event()
	if err := s.AddActivity(ctx, &first); err != nil {
		t.Fatal(err)
	}
	s.advance(time.Minute)
	retry := event()
	if err := s.AddActivity(ctx, &retry); err != nil {
		t.Fatal(err)
	}
	if retry.ID != first.ID || !retry.CreatedAt.Equal(first.CreatedAt) || retry.Listing.MLSNumber != "42" {
		t.Errorf("a retry with the same key stored %+v, want the first activity %+v", retry, first)
	}
	// Keys are scoped to the lead, and activities without a key never match.
	for _, a := range []leadwire.Activity{
		{LeadID: other.ID, Action: leadwire.ActionSignedUp, IdempotencyKey: "event-1"},
		{LeadID: lead.ID, Action: leadwire.ActionSignedUp},
		{LeadID: lead.ID, Action: leadwire.ActionSignedUp},
	} {
		if err := s.AddActivity(ctx, &a); err != nil {
			t.Fatal(err)
		}
		if a.ID == first.ID {
			t.Errorf("%+v matched the keyed activity of another event", a)
		}
	}
	found := findLeads(t, s, leadwire.LeadFilter{})
	if n := len(found[1].Timeline); found[1].ID != lead.ID || n != 3 {
		t.Errorf("the lead has %d activities, want 3", n)
	}
}

// sameActivities compares timelines, times by the instant they denote.
func sameActivities(got, want []*leadwire.Activity) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		g, w := *got[i], *want[i]
		if !g.CreatedAt.Equal(w.CreatedAt) {
			return false
		}
		g.CreatedAt, w.CreatedAt = time.Time{}, time.Time{}
		if !reflect.DeepEqual(g, w) {
			return false
		}
	}
	return true
}

func dump(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func testFindLeads(t *testing.T, open Open) {
	s := openClock(t, open)
	a := mustChannel(t, s, leadwire.Channel{Name: "A"})
	b := mustChannel(t, s, leadwire.Channel{Name: "B"})
	var want []*leadwire.Lead // oldest first
	for i, ch := range []*leadwire.Channel{a, b, a, a, b, a} {
		if i != 3 { // leads 2 and 3 share a time: the tie is broken by id
			s.advance(time.Second)
		}
		want = append(want, capture(t, s, ch, leadwire.Payload{Email: fmt.Sprintf("lead%d@example.com", i)}))
	}
	ids := func(leads []*leadwire.Lead) []string {
		var ids []string
		for _, l := range leads {
			ids = append(ids, l.ID)
		}
		return ids
	}
	newest := func(leads ...*leadwire.Lead) []string {
		sorted := slices.Clone(leads)
		slices.Reverse(sorted)
		// The tie: the larger id comes first.
		for i := 0; i+1 < len(sorted); i++ {
			if sorted[i].CreatedAt.Equal(sorted[i+1].CreatedAt) && sorted[i].ID < sorted[i+1].ID {
				sorted[i], sorted[i+1] = sorted[i+1], sorted[i]
			}
		}
		return ids(sorted)
	}
	for _, tc := range []struct {
		name   string
		filter leadwire.LeadFilter
		want   []string
	}{
		{"all", leadwire.LeadFilter{}, newest(want...)},
		{"channel", leadwire.LeadFilter{ChannelID: a.ID}, newest(want[0], want[2], want[3], want[5])},
		{"limit", leadwire.LeadFilter{Limit: 2}, newest(want...)[:2]},
		{"channel and limit", leadwire.LeadFilter{ChannelID: b.ID, Limit: 1}, []string{want[4].ID}},
		{"limit over count", leadwire.LeadFilter{Limit: 100}, newest(want...)},
		{"unknown channel", leadwire.LeadFilter{ChannelID: uuid.NewString()}, nil},
		{"channel not a uuid", leadwire.LeadFilter{ChannelID: "a"}, nil},
		{"one lead", leadwire.LeadFilter{LeadID: want[3].ID}, []string{want[3].ID}},
		{"one lead of another channel", leadwire.LeadFilter{LeadID: want[3].ID, ChannelID: b.ID}, nil},
		{"unknown lead", leadwire.LeadFilter{LeadID: uuid.NewString()}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ids(findLeads(t, s, tc.filter)); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("FindLeads(%+v) = %v, want %v", tc.filter, got, tc.want)
			}
		})
	}
}

// testWalkLeads: WalkLeads hands over the leads FindLeads returns, in the
// same order and with the same timelines, and stops at fn's first error.
func testWalkLeads(t *testing.T, open Open) {
	ctx := context.Background()
	s := openClock(t, open)
	a := mustChannel(t, s, leadwire.Channel{Name: "A"})
	b := mustChannel(t, s, leadwire.Channel{Name: "B"})
	for i, ch := range []*leadwire.Channel{a, b, a, a, b, a, a} {
		s.advance(time.Second)
		l := capture(t, s, ch, leadwire.Payload{Email: fmt.Sprintf("lead%d@example.com", i)})
		for range i % 3 {
			if err := s.AddActivity(ctx, &leadwire.Activity{LeadID: l.ID, Action: leadwire.ActionViewedListing}); err != nil {
				t.Fatal(err)
			}
		}
	}
	walk := func(f leadwire.LeadFilter) ([]*leadwire.Lead, error) {
		var leads []*leadwire.Lead
		err := s.WalkLeads(ctx, f, func(l *leadwire.Lead) error {
			leads = append(leads, l)
			return nil
		})
		return leads, err
	}
	for _, f := range []leadwire.LeadFilter{
		{}, {ChannelID: a.ID}, {Limit: 3}, {ChannelID: b.ID, Limit: 1}, {Limit: 100}, {ChannelID: uuid.NewString()},
	} {
		t.Run(fmt.Sprintf("%+v", f), func(t *testing.T) {
			got, err := walk(f)
			if err != nil {
				t.Fatal(err)
			}
			if want := findLeads(t, s, f); dump(got) != dump(want) {
				t.Errorf("WalkLeads handed over\n%s\nwant what FindLeads returns\n%s", dump(got), dump(want))
			}
		})
	}

	t.Run("stops at fn's error", func(t *testing.T) {
		stop := errors.New("stop")
		calls := 0
		err := s.WalkLeads(ctx, leadwire.LeadFilter{}, func(*leadwire.Lead) error {
			calls++
			return stop
		})
		if err != stop || calls != 1 {
			t.Errorf("WalkLeads = %v after %d calls, want fn's error after 1", err, calls)
		}
	})

	t.Run("negative limit", func(t *testing.T) {
		_, err := walk(leadwire.LeadFilter{Limit: -1})
		wantCode(t, err, leadwire.EINVALID)
		_, err = s.FindLeads(ctx, leadwire.LeadFilter{Limit: -1})
		wantCode(t, err, leadwire.EINVALID)
	})
}

func testConcurrentCaptures(t *testing.T, open Open) {
	s := openClock(t, open)
	ch := mustChannel(t, s, leadwire.Channel{Name: "Busy"})
	const n = 300
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			p := leadwire.Payload{Email: fmt.Sprintf("visitor%d@example.com", i%50), FirstName: fmt.Sprint("V", i)}
			leads, _, err := s.CaptureLeads(context.Background(), &leadwire.Capture{ChannelID: ch.ID,
				IdempotencyKey: fmt.Sprint("key-", i), RequestHash: "h", Leads: []*leadwire.Lead{{Payload: p}}})
			if err != nil {
				t.Error(err)
				return
			}
			ids[i] = leads[0].ID
		})
	}
	wg.Wait()
	seen := make(map[string]bool)
	for _, id := range ids {
		if id == "" || seen[id] {
			t.Fatalf("lead id %q missing or repeated", id)
		}
		seen[id] = true
	}
	found := findLeads(t, s, leadwire.LeadFilter{ChannelID: ch.ID})
	if len(found) != n {
		t.Fatalf("FindLeads returned %d leads, want %d", len(found), n)
	}
	contacts := make(map[string]bool)
	for _, l := range found {
		if !seen[l.ID] {
			t.Errorf("stored lead %s was not returned to any caller", l.ID)
		}
		contacts[l.ContactID] = true
	}
	if len(contacts) != 50 {
		t.Errorf("300 leads of 50 people made %d contacts", len(contacts))
	}
}
