package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leadwire/leadwire"
)

// OpenShared returns two new handles on one new, empty database, as two
// servers behind a load balancer have, both closed when t ends, and a
// function that sets the time both take as now (Start until called).
type OpenShared func(t *testing.T) (a, b Store, setNow func(time.Time))

// RunShared runs the cases of stores that several processes share: what
// one handle stores, the other finds, and captures racing on two handles
// store what one handle would.
func RunShared(t *testing.T, open OpenShared) {
	for _, tc := range []struct {
		name string
		test func(t *testing.T, open OpenShared)
	}{
		{"SeenByTheOther", testSeenByTheOther},
		{"SameKeyOnTwoHandles", testSameKeyOnTwoHandles},
		{"SameNewPersonOnTwoHandles", testSameNewPersonOnTwoHandles},
		{"ScreeningSeenByTheOther", testScreeningSeenByTheOther},
		{"ClaimsOnTwoHandles", testClaimsOnTwoHandles},
		{"RoutingOnTwoHandles", testRoutingOnTwoHandles},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.test(t, open) })
	}
}

// testSeenByTheOther: a channel, a contact and an idempotency key stored
// through one handle are found through the other.
func testSeenByTheOther(t *testing.T, open OpenShared) {
	ctx := context.Background()
	a, b, _ := open(t)
	ch := mustChannel(t, a, leadwire.Channel{Name: "Site", BrandID: "brand"})
	if got, err := b.FindChannelByID(ctx, ch.ID); err != nil || got.Name != "Site" {
		t.Fatalf("the other handle finds the channel as %+v, %v", got, err)
	}
	first := capture(t, a, ch, leadwire.Payload{Email: "shared@example.com"})
	second := capture(t, b, ch, leadwire.Payload{Email: "SHARED@example.com", PhoneNumber: "+12145550190"})
	if second.ContactID != first.ContactID {
		t.Errorf("the same email on the other handle joined contact %s, want %s", second.ContactID, first.ContactID)
	}
	third := capture(t, a, ch, leadwire.Payload{PhoneNumber: "214-555-0190"})
	if third.ContactID != first.ContactID {
		t.Errorf("the phone the other handle filled joined contact %s, want %s", third.ContactID, first.ContactID)
	}
	c := &leadwire.Capture{ChannelID: ch.ID, IdempotencyKey: "k", RequestHash: "h",
		Leads: []*leadwire.Lead{{Payload: leadwire.Payload{Email: "keyed@example.com"}, Raw: json.RawMessage(`{}`)}}}
	stored, _, err := a.CaptureLeads(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	again, replayed, err := b.CaptureLeads(ctx, &leadwire.Capture{ChannelID: ch.ID, IdempotencyKey: "k", RequestHash: "h",
		Leads: []*leadwire.Lead{{Payload: leadwire.Payload{Email: "keyed@example.com"}, Raw: json.RawMessage(`{}`)}}})
	if err != nil || !replayed || again[0].ID != stored[0].ID {
		t.Errorf("the key sent again to the other handle: replayed %v, %v; want lead %s again", replayed, err, stored[0].ID)
	}
	_, _, err = b.CaptureLeads(ctx, &leadwire.Capture{ChannelID: ch.ID, IdempotencyKey: "k", RequestHash: "other",
		Leads: []*leadwire.Lead{{Payload: leadwire.Payload{Email: "keyed@example.com"}}}})
	wantCode(t, err, leadwire.ECONFLICT)
}

// testSameKeyOnTwoHandles: captures with one Idempotency-Key racing on two
// handles store one lead set, and every one answers with it.
func testSameKeyOnTwoHandles(t *testing.T, open OpenShared) {
	ctx := context.Background()
	a, b, _ := open(t)
	ch := mustChannel(t, a, leadwire.Channel{Name: "Site"})
	for round := range 5 {
		key := fmt.Sprint("race-", round)
		const n = 16
		results := make([][]*leadwire.Lead, n)
		var stored atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			s := a
			if i%2 == 1 {
				s = b
			}
			wg.Go(func() {
				<-start
				leads, replayed, err := s.CaptureLeads(ctx, &leadwire.Capture{ChannelID: ch.ID, IdempotencyKey: key, RequestHash: "h",
					Leads: []*leadwire.Lead{
						{Payload: leadwire.Payload{Email: key + "@example.com"}},
						{Payload: leadwire.Payload{Email: key + "-second@example.com"}},
					}})
				if err != nil {
					t.Error(err)
					return
				}
				if !replayed {
					stored.Add(1)
				}
				results[i] = leads
			})
		}
		close(start)
		wg.Wait()
		if got := stored.Load(); got != 1 {
			t.Errorf("round %d: %d of %d captures with one key on two handles stored leads, want 1", round, got, n)
		}
		for i, r := range results {
			if len(r) != 2 || results[0] == nil || r[0].ID != results[0][0].ID || r[1].ID != results[0][1].ID {
				t.Fatalf("round %d: capture %d answered %s, capture 0 %s", round, i, dump(r), dump(results[0]))
			}
		}
	}
	for _, s := range []Store{a, b} {
		if n := len(findLeads(t, s, leadwire.LeadFilter{})); n != 10 {
			t.Errorf("%d leads stored, want 10: two for each of 5 keys", n)
		}
	}
}

// testSameNewPersonOnTwoHandles: leads of the same new people racing on two
// handles create one contact per person, whether they match by email or
// by phone.
func testSameNewPersonOnTwoHandles(t *testing.T, open OpenShared) {
	ctx := context.Background()
	a, b, _ := open(t)
	ch := mustChannel(t, a, leadwire.Channel{Name: "Site", BrandID: "brand"})
	const people, perPerson = 8, 12
	contactOf := make([][]string, people)
	for p := range contactOf {
		contactOf[p] = make([]string, perPerson)
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for p := range people {
		for i := range perPerson {
			s := a
			if i%2 == 1 {
				s = b
			}
			// Every lead names the person's email; some add the phone too.
			payload := leadwire.Payload{Email: fmt.Sprintf("Person%d@Example.com", p)}
			if i%3 == 0 {
				payload.PhoneNumber = fmt.Sprintf("+1214555%04d", 300+p)
			}
			wg.Go(func() {
				<-start
				leads, _, err := s.CaptureLeads(ctx, &leadwire.Capture{ChannelID: ch.ID, Leads: []*leadwire.Lead{{Payload: payload}}})
				if err != nil {
					t.Error(err)
					return
				}
				contactOf[p][i] = leads[0].ContactID
			})
		}
	}
	close(start)
	wg.Wait()
	seen := map[string]int{}
	for p, ids := range contactOf {
		for _, id := range ids {
			if id != ids[0] {
				t.Fatalf("person %d's leads on two handles joined contacts %v, want one", p, ids)
			}
		}
		if q, ok := seen[ids[0]]; ok {
			t.Fatalf("persons %d and %d share contact %s", q, p, ids[0])
		}
		seen[ids[0]] = p
	}
	// A lead with the phone alone, on either handle, finds the person.
	for p := range people {
		l := capture(t, b, ch, leadwire.Payload{PhoneNumber: fmt.Sprintf("(214) 555-%04d", 300+p)})
		if l.ContactID != contactOf[p][0] {
			t.Errorf("person %d's phone joined contact %s, want %s", p, l.ContactID, contactOf[p][0])
		}
	}
}

// testScreeningSeenByTheOther: a channel's screening settings changed
// through one handle hold on the other within seconds, though it read the
// channel before (as the CLI's leadwire channel update and a running
// server, or two servers).
func testScreeningSeenByTheOther(t *testing.T, open OpenShared) {
	ctx := context.Background()
	a, b, _ := open(t)
	ch := mustChannel(t, a, leadwire.Channel{Name: "Site"})
	if got, err := b.FindChannelByID(ctx, ch.ID); err != nil || got.Screening.Off {
		t.Fatalf("the other handle finds the channel as %+v, %v", got, err)
	}
	if _, err := a.UpdateChannel(ctx, ch.ID, leadwire.ChannelUpdate{Screening: &leadwire.ScreeningSettings{Off: true}}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		got, err := b.FindChannelByID(ctx, ch.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Screening.Off {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the other handle still screens the channel 10 s after screening was turned off")
		}
	}
}

// testClaimsOnTwoHandles: two handles claiming the outbox at once never
// get one delivery both, and together get every due one; the deliveries
// a handle claimed and never attempted (its server died) are claimed
// again through the other once the lease is over.
func testClaimsOnTwoHandles(t *testing.T, open OpenShared) {
	ctx := context.Background()
	a, b, setNow := open(t)
	ch := mustChannel(t, a, leadwire.Channel{Name: "Site"})
	for _, url := range []string{"https://example.com/one", "https://example.com/two"} {
		mustDestination(t, a, leadwire.Destination{Kind: leadwire.KindWebhook, URL: url})
	}
	const leads = 40
	var wg sync.WaitGroup
	for i := range leads {
		s := []Store{a, b}[i%2]
		wg.Go(func() { capture(t, s, ch, leadwire.Payload{Email: fmt.Sprintf("visitor-%d@example.com", i)}) })
	}
	wg.Wait()

	claim := leadwire.DeliveryClaim{Limit: 7, Lease: time.Minute, PerDestination: 5}
	var mu sync.Mutex
	by := map[string]string{} // delivery id: the handle that claimed it
	start := make(chan struct{})
	for name, s := range map[string]Store{"a": a, "b": b} {
		wg.Go(func() {
			<-start
			for empty := 0; empty < 3; {
				got, err := s.ClaimDeliveries(ctx, claim)
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) == 0 {
					empty++
				}
				mu.Lock()
				for _, d := range got {
					if other, ok := by[d.ID]; ok {
						t.Errorf("delivery %s claimed by %s and by %s", d.ID, other, name)
					}
					by[d.ID] = name
				}
				mu.Unlock()
			}
		})
	}
	close(start)
	wg.Wait()
	if len(by) != 2*leads {
		t.Fatalf("the handles claimed %d deliveries together, want %d", len(by), 2*leads)
	}
	// Handle a's server dies with its claims; b's delivers its own.
	var lost []string
	for id, name := range by {
		if name == "a" {
			lost = append(lost, id)
			continue
		}
		if err := b.RecordAttempt(ctx, id, leadwire.DeliveryResult{Status: leadwire.DeliveryDelivered,
			Attempt: leadwire.Attempt{At: Start, StatusCode: 204}}); err != nil {
			t.Fatal(err)
		}
	}
	all := leadwire.DeliveryClaim{Limit: 1000, Lease: time.Minute, PerDestination: 1000}
	if again, _ := b.ClaimDeliveries(ctx, all); len(again) != 0 {
		t.Errorf("%d deliveries claimed again while the lease lasts", len(again))
	}
	setNow(Start.Add(time.Minute + time.Second))
	again, err := b.ClaimDeliveries(ctx, all)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range again {
		got = append(got, d.ID)
	}
	slices.Sort(got)
	slices.Sort(lost)
	if !slices.Equal(got, lost) {
		t.Errorf("after the lease the other handle claimed %d deliveries, want the %d the first one held", len(got), len(lost))
	}
}

// testRoutingOnTwoHandles: leads of one channel routed through two
// handles at once go to its agents in turn, as through one.
func testRoutingOnTwoHandles(t *testing.T, open OpenShared) {
	ctx := context.Background()
	a, b, _ := open(t)
	ch := mustChannel(t, a, leadwire.Channel{Name: "Site"})
	const agents, rounds = 3, 4
	for i := range agents {
		email := fmt.Sprintf("agent-%d@example.com", i)
		mustUser(t, a, leadwire.User{Email: email, Role: leadwire.RoleAgent})
		if err := a.AddChannelMember(ctx, ch.ID, email); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	count := map[string]int{}
	var wg sync.WaitGroup
	for i := range agents * rounds {
		s := []Store{a, b}[i%2]
		lead := capture(t, s, ch, leadwire.Payload{Email: fmt.Sprintf("visitor-%d@example.com", i)})
		wg.Go(func() {
			to, err := s.RouteLead(ctx, lead, "route")
			if err != nil || len(to) != 1 {
				t.Errorf("RouteLead = %+v, %v", to, err)
				return
			}
			mu.Lock()
			count[to[0].Email]++
			mu.Unlock()
		})
	}
	wg.Wait()
	for i := range agents {
		if email := fmt.Sprintf("agent-%d@example.com", i); count[email] != rounds {
			t.Errorf("the agents got %v leads; want %d each", count, rounds)
			break
		}
	}
}
