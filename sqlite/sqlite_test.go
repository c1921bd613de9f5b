package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/internal/storetest"
)

// openTest opens a new store in t.TempDir whose clock reads storetest.Start
// until set, and checks the file when t ends.
func openTest(t testing.TB) (*Store, func(time.Time)) {
	t.Helper()
	return openTestAt(t, filepath.Join(t.TempDir(), "leadwire.db"))
}

func openTestAt(t testing.TB, path string) (*Store, func(time.Time)) {
	t.Helper()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var now atomic.Pointer[time.Time]
	setNow := func(at time.Time) { now.Store(&at) }
	setNow(storetest.Start)
	s.Now = func() time.Time { return *now.Load() }
	t.Cleanup(func() {
		if err := s.Check(context.Background()); err != nil {
			t.Error(err)
		}
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s, setNow
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (storetest.Store, func(time.Time)) {
		return openTest(t)
	})
}

// TestStoreShared runs the cases of two handles on one file: the schema,
// not a handle's memory, decides which capture a key and which contact a
// person has.
func TestStoreShared(t *testing.T) {
	storetest.RunShared(t, func(t *testing.T) (a, b storetest.Store, setNow func(time.Time)) {
		path := filepath.Join(t.TempDir(), "leadwire.db")
		sa, setA := openTestAt(t, path)
		sb, setB := openTestAt(t, path)
		return sa, sb, func(at time.Time) { setA(at); setB(at) }
	})
}

// TestStoreSmallChunks runs the suite again with leads read two at a time,
// so that every listing of it crosses chunks.
func TestStoreSmallChunks(t *testing.T) {
	defer func(n int) { leadChunk = n }(leadChunk)
	leadChunk = 2
	storetest.Run(t, func(t *testing.T) (storetest.Store, func(time.Time)) {
		return openTest(t)
	})
}

func mustCapture(t testing.TB, s *Store, c *leadwire.Capture) []*leadwire.Lead {
	t.Helper()
	leads, _, err := s.CaptureLeads(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	return leads
}

func TestReopenKeepsData(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "leadwire.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ch := &leadwire.Channel{Name: "Site", BrandID: "brand-1"}
	if err := s.CreateChannel(ctx, ch); err != nil {
		t.Fatal(err)
	}
	request := func() *leadwire.Capture {
		return &leadwire.Capture{ChannelID: ch.ID, IdempotencyKey: "k", RequestHash: "h", Leads: []*leadwire.Lead{
			{Payload: leadwire.Payload{Email: "a@example.com", PhoneNumber: "+12145550100"}},
			{Payload: leadwire.Payload{Email: "b@example.com"}},
		}}
	}
	first := mustCapture(t, s, request())
	if err := s.AddActivity(ctx, &leadwire.Activity{LeadID: first[0].ID, Action: leadwire.ActionSignedUp}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, _ = openTestAt(t, path)
	channels, err := s.FindChannels(ctx)
	if err != nil || len(channels) != 1 || channels[0].ID != ch.ID {
		t.Fatalf("after reopening: %d channels, error %v; want %s", len(channels), err, ch.ID)
	}
	leads, err := s.FindLeads(ctx, leadwire.LeadFilter{})
	if err != nil || len(leads) != 2 || leads[1].ID != first[0].ID || len(leads[1].Timeline) != 1 {
		t.Fatalf("after reopening: FindLeads = %d leads, error %v; want lead %s with its activity", len(leads), err, first[0].ID)
	}
	// The writer's memory is rebuilt from the file: the key still replays
	// and the contact is still found by email and by phone.
	s.Now = time.Now
	again, replayed, err := s.CaptureLeads(ctx, request())
	if err != nil || !replayed || len(again) != 2 || again[0].ID != first[0].ID || again[1].ID != first[1].ID {
		t.Errorf("repeat after reopening: replayed %v, error %v; want the first capture's two leads", replayed, err)
	}
	for _, p := range []leadwire.Payload{{Email: "A@example.com"}, {PhoneNumber: "214 555 0100"}} {
		l := mustCapture(t, s, &leadwire.Capture{ChannelID: ch.ID, Leads: []*leadwire.Lead{{Payload: p}}})
		if l[0].ContactID != first[0].ContactID {
			t.Errorf("after reopening %+v joined contact %s, want %s", p, l[0].ContactID, first[0].ContactID)
		}
	}
}

// TestSharedPhone has two contacts, x and y, hold one phone (y, matched by
// its email, fills its empty phone with x's): a lead with only that phone
// joins the one updated last, the larger key when both were updated in the
// same millisecond, and the same one after a restart rebuilds the writer's
// memory from the file.
func TestSharedPhone(t *testing.T) {
	const phone, other = "+12145550100", "+12145550199"
	larger := func(s *Store, x, y string) string {
		kx, _ := s.contactIDs.key(x)
		ky, _ := s.contactIDs.key(y)
		if kx > ky {
			return x
		}
		return y
	}
	for _, tc := range []struct {
		name  string
		tick  time.Duration                      // between steps
		steps []leadwire.Payload                 // after x is created with the phone
		want  func(s *Store, x, y string) string // the contact the phone finds
	}{
		{"x is updated last", time.Second, []leadwire.Payload{
			{Email: "y@example.com"},
			{Email: "y@example.com", PhoneNumber: phone},  // y takes x's phone
			{Email: "x@example.com", FirstName: "Xavier"}, // x is updated last, without its phone
		}, func(_ *Store, x, y string) string { return x }},
		{"y is updated last", time.Second, []leadwire.Payload{
			{Email: "y@example.com"},
			{Email: "y@example.com", PhoneNumber: phone}, // y takes x's phone
			{Email: "y@example.com", PhoneNumber: other}, // and keeps it: a phone is never replaced
			{Email: "x@example.com", PhoneNumber: other}, // x is not updated either
		}, func(_ *Store, x, y string) string { return y }},
		{"in the same millisecond", 0, []leadwire.Payload{
			{Email: "y@example.com"},
			{Email: "y@example.com", PhoneNumber: phone},
		}, larger},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "leadwire.db")
			s, setNow := openTestAt(t, path)
			ch := &leadwire.Channel{Name: "Site"}
			if err := s.CreateChannel(ctx, ch); err != nil {
				t.Fatal(err)
			}
			contactOf := func(s *Store, p leadwire.Payload) string {
				return mustCapture(t, s, &leadwire.Capture{ChannelID: ch.ID, Leads: []*leadwire.Lead{{Payload: p}}})[0].ContactID
			}
			x := contactOf(s, leadwire.Payload{Email: "x@example.com", PhoneNumber: phone})
			var y string
			for i, p := range tc.steps {
				setNow(storetest.Start.Add(time.Duration(i+1) * tc.tick))
				if id := contactOf(s, p); p.Email == "y@example.com" {
					y = id
				}
			}
			want := tc.want(s, x, y)
			if got := contactOf(s, leadwire.Payload{PhoneNumber: phone}); got != want {
				t.Errorf("before the restart the phone joined %s, want %s (x %s, y %s)", got, want, x, y)
			}
			restarted, _ := openTestAt(t, path)
			if got := contactOf(restarted, leadwire.Payload{PhoneNumber: phone}); got != want {
				t.Errorf("after the restart the phone joined %s, want %s (x %s, y %s)", got, want, x, y)
			}
		})
	}
}

func TestWriteConnectionPragmas(t *testing.T) {
	s, _ := openTest(t)
	for _, tc := range []struct {
		pragma, want string
	}{
		{"journal_mode", "wal"},
		{"synchronous", "2"}, // FULL
		{"foreign_keys", "1"},
		{"busy_timeout", "10000"},
	} {
		t.Run(tc.pragma, func(t *testing.T) {
			var got string
			if err := s.w.conn.QueryRowContext(context.Background(), "PRAGMA "+tc.pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("PRAGMA %s = %s, want %s", tc.pragma, got, tc.want)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "leadwire.db")
	s, _ := openTestAt(t, path)
	if err := s.Check(ctx); err != nil {
		t.Fatalf("Check of a new database: %v", err)
	}
	// A lead pointing at no channel, written around the store with foreign
	// keys off, is what Check is there to find.
	db, err := sql.Open("sqlite", path+"?_pragma=foreign_keys(0)&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`INSERT INTO leads (id, channel_id, contact_id, created_at, parsed_payload)
		VALUES ('x', 'no-channel', 'no-contact', 0, '{}')`); err != nil {
		t.Fatal(err)
	}
	if err := s.Check(ctx); err == nil {
		t.Error("Check passed a lead whose channel does not exist")
	}
	if _, err := db.Exec("DELETE FROM leads WHERE id = 'x'"); err != nil {
		t.Fatal(err)
	}
}

func TestSecondStoreOnSameFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "leadwire.db")
	server, _ := openTestAt(t, path)
	cli, _ := openTestAt(t, path)

	ch := &leadwire.Channel{Name: "Created by the CLI"}
	if err := cli.CreateChannel(ctx, ch); err != nil {
		t.Fatal(err)
	}
	found, err := server.FindChannelByID(ctx, ch.ID)
	if err != nil || found.Name != ch.Name {
		t.Fatalf("server FindChannelByID = %+v, %v; want the CLI's channel", found, err)
	}
	lead := mustCapture(t, server, &leadwire.Capture{ChannelID: ch.ID, Leads: []*leadwire.Lead{{Payload: leadwire.Payload{Email: "x@example.com"}}}})
	leads, err := cli.FindLeads(ctx, leadwire.LeadFilter{ChannelID: ch.ID})
	if err != nil || len(leads) != 1 || leads[0].ID != lead[0].ID {
		t.Fatalf("CLI FindLeads = %d leads, %v; want the server's lead", len(leads), err)
	}
}

func TestClaimWriterIsExclusive(t *testing.T) {
	path := filepath.Join(t.TempDir(), "leadwire.db")
	first, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := first.ClaimWriter(); err != nil {
		t.Fatal(err)
	}
	second, _ := openTestAt(t, path)
	if err := second.ClaimWriter(); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("a second claim on the same file = %v, want an error", err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	if err := second.ClaimWriter(); err != nil {
		t.Errorf("the claim is free again after Close: %v", err)
	}
}

// TestRestartKnowsEmptyValues: after a restart the writer still knows
// which of a contact's values are empty: a lead fills those, and one that
// brings only other values leaves the contact and its updated_at alone.
func TestRestartKnowsEmptyValues(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "leadwire.db")
	s, _ := openTestAt(t, path)
	ch := &leadwire.Channel{Name: "Site"}
	if err := s.CreateChannel(ctx, ch); err != nil {
		t.Fatal(err)
	}
	capture := func(s *Store, p leadwire.Payload) *leadwire.Contact {
		l := mustCapture(t, s, &leadwire.Capture{ChannelID: ch.ID, Leads: []*leadwire.Lead{{Payload: p}}})
		c, err := s.FindContactByID(ctx, l[0].ContactID)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	created := capture(s, leadwire.Payload{FirstName: "Ann", Email: "ann@example.com"})

	s, setNow := openTestAt(t, path)
	setNow(storetest.Start.Add(time.Hour))
	if c := capture(s, leadwire.Payload{FirstName: "Mallory", Email: "ann@example.com"}); c.FirstName != "Ann" || !c.UpdatedAt.Equal(created.UpdatedAt) {
		t.Errorf("after a restart a lead with another name left the contact %+v, want it as created %+v", c, created)
	}
	later := storetest.Start.Add(2 * time.Hour)
	setNow(later)
	if c := capture(s, leadwire.Payload{LastName: "Lee", Email: "ann@example.com"}); c.LastName != "Lee" || !c.UpdatedAt.Equal(later) {
		t.Errorf("after a restart a lead with a last name left the contact %+v, want it filled and updated at %v", c, later)
	}
}
