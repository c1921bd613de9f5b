package sqlite

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/leadwire/leadwire"
)

// openStopped opens a store with a channel, lets setup (when not nil) write
// through the running writer, then stops the writer's goroutine so the test
// can hand batches of its choosing to writer.run, one at a time.
func openStopped(t *testing.T, setup func(s *Store, ch *leadwire.Channel)) (*Store, *leadwire.Channel) {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "leadwire.db"))
	if err != nil {
		t.Fatal(err)
	}
	ch := &leadwire.Channel{Name: "Site"}
	if err := s.CreateChannel(context.Background(), ch); err != nil {
		t.Fatal(err)
	}
	if setup != nil {
		setup(s, ch)
	}
	s.w.stop()
	t.Cleanup(func() {
		if err := s.Check(context.Background()); err != nil {
			t.Error(err)
		}
		if err := s.closeDBs(s.w.conn); err != nil {
			t.Error(err)
		}
	})
	return s, ch
}

// runBatch runs ops as one batch and returns each op's answer.
func runBatch(s *Store, ctx context.Context, ops ...op) []error {
	batch := make([]*request, len(ops))
	for i, o := range ops {
		batch[i] = &request{ctx: ctx, op: o, done: make(chan error, 1)}
	}
	s.w.run(batch)
	errs := make([]error, len(ops))
	for i, r := range batch {
		errs[i] = <-r.done
	}
	return errs
}

func prepare(t *testing.T, s *Store, c *leadwire.Capture) *captureOp {
	t.Helper()
	o, err := s.prepareCapture(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func oneLead(channelID, key, hash, email string) *leadwire.Capture {
	return &leadwire.Capture{ChannelID: channelID, IdempotencyKey: key, RequestHash: hash,
		Leads: []*leadwire.Lead{{Payload: leadwire.Payload{Email: email}}}}
}

func countLeads(t *testing.T, s *Store) int {
	t.Helper()
	leads, err := s.FindLeads(context.Background(), leadwire.LeadFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return len(leads)
}

func TestBatchRefusalsDoNotFailOthers(t *testing.T) {
	ctx := context.Background()
	var earlier []*leadwire.Lead
	s, ch := openStopped(t, func(s *Store, ch *leadwire.Channel) {
		earlier = mustCapture(t, s, oneLead(ch.ID, "used", "h1", "early@example.com"))
	})

	newPerson := prepare(t, s, oneLead(ch.ID, "", "", "new@example.com"))
	conflict := prepare(t, s, oneLead(ch.ID, "used", "h2", "early@example.com"))
	unknownLead, err := prepareActivity(&leadwire.Activity{LeadID: uuid.NewString(), Action: leadwire.ActionLoggedIn})
	if err != nil {
		t.Fatal(err)
	}
	activity, err := prepareActivity(&leadwire.Activity{LeadID: earlier[0].ID, Action: leadwire.ActionLoggedIn})
	if err != nil {
		t.Fatal(err)
	}
	samePerson := prepare(t, s, oneLead(ch.ID, "", "", "NEW@example.com"))
	first := prepare(t, s, oneLead(ch.ID, "twice", "h", "twice@example.com"))
	repeat := prepare(t, s, oneLead(ch.ID, "twice", "h", "twice@example.com"))

	errs := runBatch(s, ctx, newPerson, conflict, unknownLead, activity, samePerson, first, repeat)
	for i, want := range []string{"", leadwire.ECONFLICT, leadwire.ENOTFOUND, "", "", "", ""} {
		if got := errs[i]; (want == "" && got != nil) || (want != "" && leadwire.ErrorCode(got) != want) {
			t.Errorf("op %d answered %v, want code %q", i, got, want)
		}
	}
	if newPerson.contactKeys[0] != samePerson.contactKeys[0] {
		t.Errorf("one new person in one batch got contacts %s and %s", newPerson.contactKeys[0], samePerson.contactKeys[0])
	}
	if first.replayed || !repeat.replayed || !slices.Equal(repeat.leadIDs, first.leadIDs) {
		t.Errorf("a key used twice in one batch: replayed %v then %v, leads %v",
			first.replayed, repeat.replayed, first.leadIDs)
	}
	if n := countLeads(t, s); n != 4 {
		t.Errorf("%d leads stored, want 4 (1 earlier + 3 in the batch)", n)
	}
}

var errBroken = errors.New("broken op")

// brokenOp fails the way a failing statement would.
type brokenOp struct{}

func (brokenOp) apply(*writer, time.Time) error { return errBroken }

func TestFailedBatchFailsEveryWaiterAndWritesNothing(t *testing.T) {
	ctx := context.Background()
	s, ch := openStopped(t, nil)

	lost := prepare(t, s, oneLead(ch.ID, "k", "h", "lost@example.com"))
	for i, err := range runBatch(s, ctx, lost, brokenOp{}) {
		if !errors.Is(err, errBroken) {
			t.Errorf("op %d answered %v, want the batch's error", i, err)
		}
	}
	if n := countLeads(t, s); n != 0 {
		t.Fatalf("a failed batch stored %d leads", n)
	}
	// What the failed batch put in memory is gone with it: the key is free
	// and the contact it created does not exist.
	retry := prepare(t, s, oneLead(ch.ID, "k", "h", "lost@example.com"))
	if err := runBatch(s, ctx, retry)[0]; err != nil || retry.replayed {
		t.Fatalf("retry after a failed batch: replayed %v, error %v; want new leads", retry.replayed, err)
	}
	if _, err := s.FindContactByID(ctx, s.contactIDs.public(retry.contactKeys[0])); err != nil {
		t.Errorf("contact of the retried lead: %v", err)
	}
}

func TestCancelledRequestIsNotWritten(t *testing.T) {
	s, ch := openStopped(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	o := prepare(t, s, oneLead(ch.ID, "", "", "gone@example.com"))
	if err := runBatch(s, ctx, o)[0]; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled request answered %v, want context.Canceled", err)
	}
	if n := countLeads(t, s); n != 0 {
		t.Errorf("a cancelled request stored %d leads", n)
	}
}

func TestCloseFinishesAcceptedWrites(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "leadwire.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ch := leadwire.Channel{Name: "Site"}
	if err := s.CreateChannel(ctx, &ch); err != nil {
		t.Fatal(err)
	}
	const n = 100
	var mu sync.Mutex
	accepted := make(map[string]bool)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			leads, _, err := s.CaptureLeads(ctx, oneLead(ch.ID, "", "", fmt.Sprintf("v%d@example.com", i)))
			switch {
			case err == nil:
				mu.Lock()
				accepted[leads[0].ID] = true
				mu.Unlock()
			case !errors.Is(err, errClosed):
				t.Error(err)
			}
		})
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if _, _, err := s.CaptureLeads(ctx, oneLead(ch.ID, "", "", "late@example.com")); !errors.Is(err, errClosed) {
		t.Errorf("capture after Close: %v, want %v", err, errClosed)
	}

	s, _ = openTestAt(t, path)
	leads, err := s.FindLeads(ctx, leadwire.LeadFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(leads) != len(accepted) {
		t.Errorf("reopened file has %d leads, %d captures succeeded", len(leads), len(accepted))
	}
	for _, l := range leads {
		if !accepted[l.ID] {
			t.Errorf("lead %s is stored but its capture failed", l.ID)
		}
	}
}

// TestNewContactUpdatedInSameBatch runs, in one batch, a new person's
// lead, a second lead of the same person filling the contact's empty
// values, and an activity on a lead of an earlier batch: the contact row
// must hold the values of both leads.
func TestNewContactUpdatedInSameBatch(t *testing.T) {
	var earlier *leadwire.Lead
	s, ch := openStopped(t, func(s *Store, ch *leadwire.Channel) {
		earlier = mustCapture(t, s, oneLead(ch.ID, "", "", "earlier@example.com"))[0]
	})
	first := oneLead(ch.ID, "k1", "h1", "new@example.com")
	first.Leads[0].Payload.FirstName = "Ann"
	second := oneLead(ch.ID, "k2", "h2", "NEW@example.com")
	second.Leads[0].Payload.LastName = "Lee"
	second.Leads[0].Payload.PhoneNumber = "+12145550101"
	o1, o2 := prepare(t, s, first), prepare(t, s, second)
	act, err := prepareActivity(&leadwire.Activity{LeadID: earlier.ID, Action: leadwire.ActionSignedUp})
	if err != nil {
		t.Fatal(err)
	}
	for i, err := range runBatch(s, context.Background(), o1, act, o2) {
		if err != nil {
			t.Fatalf("op %d: %v", i, err)
		}
	}
	if o1.contactKeys[0] != o2.contactKeys[0] {
		t.Fatalf("one person got two contacts: %s, %s", o1.contactKeys[0], o2.contactKeys[0])
	}
	c, err := s.FindContactByID(context.Background(), s.contactIDs.public(o1.contactKeys[0]))
	if err != nil {
		t.Fatal(err)
	}
	if c.FirstName != "Ann" || c.LastName != "Lee" || c.Email != "new@example.com" || c.PhoneNumber != "+12145550101" {
		t.Errorf("contact row = %+v, want the values of both leads", c)
	}
	if n := countLeads(t, s); n != 3 {
		t.Errorf("%d leads stored, want 3", n)
	}
}

// TestSchemaDecidesWhatMemoryMisses runs captures on a writer whose memory
// knows nothing of what the database holds, as a memory gone stale would:
// the schema must still find the capture of a key and the contact of an
// email and a phone.
func TestSchemaDecidesWhatMemoryMisses(t *testing.T) {
	ctx := context.Background()
	s, ch := openStopped(t, nil)
	first := prepare(t, s, &leadwire.Capture{ChannelID: ch.ID, IdempotencyKey: "k", RequestHash: "h",
		Leads: []*leadwire.Lead{
			{Payload: leadwire.Payload{Email: "ann@example.com"}},
			{Payload: leadwire.Payload{PhoneNumber: "+12145550100"}},
		}})
	if err := runBatch(s, ctx, first)[0]; err != nil {
		t.Fatal(err)
	}
	forget := func() { s.w.mem = newMemory() }

	forget()
	repeat := prepare(t, s, &leadwire.Capture{ChannelID: ch.ID, IdempotencyKey: "k", RequestHash: "h",
		Leads: []*leadwire.Lead{{Payload: leadwire.Payload{Email: "ann@example.com"}}}})
	forget()
	other := prepare(t, s, &leadwire.Capture{ChannelID: ch.ID, IdempotencyKey: "k", RequestHash: "other",
		Leads: []*leadwire.Lead{{Payload: leadwire.Payload{Email: "bob@example.com"}}}})
	errs := []error{runBatch(s, ctx, repeat)[0], nil}
	forget()
	errs[1] = runBatch(s, ctx, other)[0]
	if errs[0] != nil || !repeat.replayed || !slices.Equal(repeat.leadIDs, first.leadIDs) {
		t.Errorf("a repeat the memory did not know: replayed %v, leads %v, %v; want leads %v", repeat.replayed, repeat.leadIDs, errs[0], first.leadIDs)
	}
	if leadwire.ErrorCode(errs[1]) != leadwire.ECONFLICT {
		t.Errorf("the key with another request the memory did not know: %v, want a conflict", errs[1])
	}
	// Once the writer has indexed the leads, table captures holds it.
	indexAll(t, s)
	var rows int
	if err := s.w.conn.QueryRowContext(ctx, "SELECT count(*) FROM captures WHERE idempotency_key = 'k'").Scan(&rows); err != nil || rows != 1 {
		t.Fatalf("captures holds %d rows of the key (%v), want 1", rows, err)
	}
	forget()
	again := prepare(t, s, &leadwire.Capture{ChannelID: ch.ID, IdempotencyKey: "k", RequestHash: "h",
		Leads: []*leadwire.Lead{{Payload: leadwire.Payload{Email: "ann@example.com"}}}})
	if err := runBatch(s, ctx, again)[0]; err != nil || !again.replayed || !slices.Equal(again.leadIDs, first.leadIDs) {
		t.Errorf("a repeat once indexed: replayed %v, leads %v, %v; want leads %v", again.replayed, again.leadIDs, err, first.leadIDs)
	}

	forget()
	byEmail := prepare(t, s, oneLead(ch.ID, "", "", "ANN@example.com"))
	forget()
	byPhone := prepare(t, s, &leadwire.Capture{ChannelID: ch.ID,
		Leads: []*leadwire.Lead{{Payload: leadwire.Payload{PhoneNumber: "(214) 555-0100"}}}})
	for _, o := range []*captureOp{byEmail, byPhone} {
		forget()
		if err := runBatch(s, ctx, o)[0]; err != nil {
			t.Fatal(err)
		}
	}
	if byEmail.contactKeys[0] != first.contactKeys[0] || byPhone.contactKeys[0] != first.contactKeys[1] {
		t.Errorf("contacts the memory did not know: by email %s, by phone %s; want %s and %s",
			byEmail.contactKeys[0], byPhone.contactKeys[0], first.contactKeys[0], first.contactKeys[1])
	}
	if n := countLeads(t, s); n != 4 {
		t.Errorf("%d leads stored, want 4", n)
	}
}

// TestMemoryAgreesWithSchema captures leads sharing emails and phones in
// every combination and then asks the memory and the schema's rule
// (matchQuery) which contact each email and phone finds: they must agree.
func TestMemoryAgreesWithSchema(t *testing.T) {
	ctx := context.Background()
	s, ch := openStopped(t, nil)
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func(format string) string {
		if n := rng.IntN(8); n > 0 {
			return fmt.Sprintf(format, n)
		}
		return ""
	}
	for range 300 {
		c := &leadwire.Capture{ChannelID: ch.ID, Leads: []*leadwire.Lead{{Payload: leadwire.Payload{
			FirstName: pick("Name%d"), Email: pick("p%d@example.com"), PhoneNumber: pick("+1214555010%d")}}}}
		if c.Leads[0].Payload.Email == "" && c.Leads[0].Payload.PhoneNumber == "" {
			continue
		}
		if err := runBatch(s, ctx, prepare(t, s, c))[0]; err != nil {
			t.Fatal(err)
		}
	}
	m, brand := s.w.mem, ch.Brand()
	agree := func(when string) {
		t.Helper()
		for n := 1; n < 8; n++ {
			for k, key := range [2]string{emailIndex: leadwire.EmailKey(fmt.Sprintf("p%d@example.com", n)),
				phoneIndex: leadwire.PhoneKey(fmt.Sprintf("+1214555010%d", n))} {
				var keys [2]digest
				keys[k] = m.digest(brand, key)
				i, ok := m.match(keys)
				if !ok {
					t.Fatalf("the memory finds no contact for %s %s", matchKinds[k], key)
				}
				var id string
				if err := s.w.matchContact.QueryRow(brand, matchKinds[k], key).Scan(&id, new(string), new(string), new(string), new(int64), new(int64)); err != nil {
					t.Fatal(err)
				}
				if got := m.contacts.at(int64(i)).id.String(); got != id {
					t.Errorf("%s, %s %s: the memory finds contact %s, the schema %s", when, matchKinds[k], key, got, id)
				}
			}
		}
	}
	agree("before the writer indexes the leads")
	indexAll(t, s) // the writer fills contact_keys with the search index
	var indexed, unindexed int
	if err := s.w.conn.QueryRowContext(ctx, "SELECT count(*), (SELECT count(*) FROM leads WHERE rowid > ("+lastIndexedQuery+")) FROM contact_keys").Scan(&indexed, &unindexed); err != nil {
		t.Fatal(err)
	}
	if indexed == 0 || unindexed != 0 {
		t.Fatalf("after indexing: %d match keys in contact_keys, %d leads not indexed", indexed, unindexed)
	}
	agree("once indexed")
}

// indexAll has the stopped writer of s index every lead stored.
func indexAll(t *testing.T, s *Store) {
	t.Helper()
	for all := false; !all; {
		o := &indexOp{}
		if err := runBatch(s, context.Background(), o)[0]; err != nil {
			t.Fatal(err)
		}
		all = o.all
	}
}
