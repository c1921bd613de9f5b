package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/internal/pgtest"
	"github.com/leadwire/leadwire/postgres"
	"github.com/leadwire/leadwire/sqlite"
)

// TestMigrateToPostgres copies a SQLite database into PostgreSQL with
// leadwire migrate and checks that the PostgreSQL store serves the same
// leads, contacts, timelines and users, answers a repeated capture with
// the lead first stored, and joins a known person's new lead to their
// contact. Spam stays quarantined with its reasons, every lead keeps its
// source, and each channel its screening settings. Destinations keep
// their secrets, deliveries their status and attempts, and the pending
// ones go out from PostgreSQL.
func TestMigrateToPostgres(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	old, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	site := &leadwire.Channel{Name: "Site", BrandID: "brand-1", AllowedOrigins: []string{"https://example.com"}}
	other := &leadwire.Channel{Name: "Zillow"}
	for _, c := range []*leadwire.Channel{site, other} {
		if err := old.CreateChannel(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	capture := func(s interface {
		CaptureLeads(context.Context, *leadwire.Capture) ([]*leadwire.Lead, bool, error)
	}, ch *leadwire.Channel, key string, payloads ...leadwire.Payload) ([]*leadwire.Lead, bool) {
		t.Helper()
		c := &leadwire.Capture{ChannelID: ch.ID, IdempotencyKey: key, RequestHash: "hash-" + key, Source: visitor}
		for _, p := range payloads {
			p.Normalize()
			raw, _ := json.Marshal(p)
			c.Leads = append(c.Leads, &leadwire.Lead{Payload: p, Raw: raw})
		}
		leads, replayed, err := s.CaptureLeads(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		return leads, replayed
	}
	dest := &leadwire.Destination{Kind: leadwire.KindWebhook, URL: "https://example.com/hook"}
	if err := old.CreateDestination(ctx, dest); err != nil {
		t.Fatal(err)
	}
	ann := leadwire.Payload{FirstName: "Ann", Email: "ann@example.com", PhoneNumber: "(214) 555-0101", Note: "wants a yard",
		Assignees: []leadwire.Assignee{{Email: "agent@example.com"}}, Extra: leadwire.Fields{"huge": json.Number("1e999")}}
	first, _ := capture(old, site, "k-1", ann)
	pair, _ := capture(old, site, "k-2", leadwire.Payload{Email: "bob@example.com"}, leadwire.Payload{PhoneNumber: "214-555-0101"})
	capture(old, other, "", leadwire.Payload{Email: "ann@example.com"})
	gone, _ := capture(old, site, "k-erased", leadwire.Payload{Email: "gone@example.com"})
	spam, _, err := old.CaptureLeads(ctx, &leadwire.Capture{ChannelID: site.ID, Source: visitor, Leads: []*leadwire.Lead{{
		Payload: leadwire.Payload{FirstName: "Cheap pills", Email: "ann@example.com"}, Raw: json.RawMessage(`{}`),
		Status: leadwire.StatusSpam, SpamReasons: []string{"honeypot", "link_in_name"}}}})
	if err != nil {
		t.Fatal(err)
	}
	screening := leadwire.ScreeningSettings{AddressRate: 7, Disabled: []string{"too_fast"}, Captcha: leadwire.CaptchaTurnstile, CaptchaSecret: "s3cret"}
	if _, err := old.UpdateChannel(ctx, other.ID, leadwire.ChannelUpdate{Screening: &screening}); err != nil {
		t.Fatal(err)
	}
	if err := old.AddActivity(ctx, &leadwire.Activity{LeadID: first[0].ID, Action: leadwire.ActionViewedListing,
		Listing: &leadwire.Listing{MLSNumber: "42"}, IdempotencyKey: "view-1"}); err != nil {
		t.Fatal(err)
	}
	status := leadwire.StatusContacted
	if _, err := old.UpdateLead(ctx, pair[0].ID, leadwire.LeadUpdate{Status: &status}); err != nil {
		t.Fatal(err)
	}
	agent := &leadwire.User{Email: "agent@example.com", Role: leadwire.RoleAgent}
	if err := old.CreateUser(ctx, agent, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	token, _, err := old.CreateToken(ctx, agent.Email, "ci")
	if err != nil {
		t.Fatal(err)
	}
	if err := old.AddChannelMember(ctx, other.ID, agent.Email); err != nil {
		t.Fatal(err)
	}
	if err := old.PauseUser(ctx, agent.Email, true); err != nil {
		t.Fatal(err)
	}
	claim := leadwire.DeliveryClaim{Limit: 10000, Lease: time.Minute, PerDestination: 10000}
	claimed, err := old.ClaimDeliveries(ctx, claim)
	if err != nil || len(claimed) != 5 {
		t.Fatalf("claimed %d deliveries before the copy, %v; want 5", len(claimed), err)
	}
	// Ann's is delivered; the others stay claimed by this server.
	i := slices.IndexFunc(claimed, func(d *leadwire.Delivery) bool { return d.LeadID == first[0].ID })
	delivered := claimed[i].ID
	if err := old.RecordAttempt(ctx, delivered, leadwire.DeliveryResult{Status: leadwire.DeliveryDelivered,
		Attempt: leadwire.Attempt{At: time.Now(), StatusCode: 204, Duration: time.Second}}); err != nil {
		t.Fatal(err)
	}
	if err := old.EraseContact(ctx, gone[0].ContactID); err != nil {
		t.Fatal(err)
	}
	// Enough leads that the copy takes several chunks.
	const bulk = 2100
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := g; i < bulk; i += 16 {
				capture(old, site, fmt.Sprint("bulk-", i), leadwire.Payload{Email: fmt.Sprintf("bulk-%d@example.com", i%700)})
			}
		})
	}
	wg.Wait()
	want, err := old.FindLeads(ctx, leadwire.LeadFilter{})
	if err != nil {
		t.Fatal(err)
	}
	wantSpam, err := old.FindLeads(ctx, leadwire.LeadFilter{Status: leadwire.StatusSpam})
	if err != nil || len(wantSpam) != 1 || wantSpam[0].ID != spam[0].ID {
		t.Fatalf("the spam before the copy: %s, %v", dumpJSON(wantSpam), err)
	}
	wantChannels, err := old.FindChannels(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantContact, err := old.FindContactByID(ctx, first[0].ContactID)
	if err != nil {
		t.Fatal(err)
	}
	wantDest, err := old.FindDestinationByID(ctx, dest.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantDeliveries, err := old.FindDeliveries(ctx, leadwire.DeliveryFilter{})
	if err != nil || len(wantDeliveries) != 2104 {
		t.Fatalf("%d deliveries before the copy, %v; want 2104", len(wantDeliveries), err)
	}
	wantAttempts, err := old.FindAttempts(ctx, delivered)
	if err != nil || len(wantAttempts) != 1 {
		t.Fatalf("attempts before the copy: %+v, %v", wantAttempts, err)
	}
	old.Close()

	url := pgtest.NewSchema(t)
	out, errOut, code := runCLI(t, "migrate", "--from", path, "--to", url)
	if code != 0 {
		t.Fatalf("migrate: exit %d: %s", code, errOut)
	}
	for _, line := range []string{"channels         2", "leads            2105", "idempotency_keys 2102", "contacts         704",
		"users            1", "activities       2", "destinations     1", "deliveries       2104", "delivery_attempts 1"} {
		if !strings.Contains(out, line) {
			t.Errorf("migrate printed\n%s\nwithout %q", out, line)
		}
	}

	s, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.FindLeads(ctx, leadwire.LeadFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if g, w := dumpJSON(got), dumpJSON(want); g != w {
		t.Errorf("leads after the copy:\n%s\nwant\n%s", g, w)
	}
	if got[0].Source != visitor {
		t.Errorf("a lead's source after the copy: %+v, want %+v", got[0].Source, visitor)
	}
	gotSpam, err := s.FindLeads(ctx, leadwire.LeadFilter{Status: leadwire.StatusSpam})
	if g, w := dumpJSON(gotSpam), dumpJSON(wantSpam); err != nil || g != w {
		t.Errorf("spam after the copy (%v):\n%s\nwant\n%s", err, g, w)
	}
	gotChannels, err := s.FindChannels(ctx)
	if g, w := dumpJSON(gotChannels), dumpJSON(wantChannels); err != nil || g != w {
		t.Errorf("channels after the copy (%v):\n%s\nwant\n%s", err, g, w)
	}
	if c, err := s.FindContactByID(ctx, first[0].ContactID); err != nil || *c != *wantContact {
		t.Errorf("contact after the copy = %+v, %v; want %+v", c, err, wantContact)
	}
	if d, err := s.FindDestinationByID(ctx, dest.ID); err != nil || *d != *wantDest {
		t.Errorf("destination after the copy = %+v, %v; want %+v", d, err, wantDest)
	}
	gotDeliveries, err := s.FindDeliveries(ctx, leadwire.DeliveryFilter{})
	if g, w := dumpJSON(gotDeliveries), dumpJSON(wantDeliveries); err != nil || g != w {
		t.Errorf("deliveries after the copy (%v): %d, want %d", err, len(gotDeliveries), len(wantDeliveries))
	}
	if a, err := s.FindAttempts(ctx, delivered); err != nil || dumpJSON(a) != dumpJSON(wantAttempts) {
		t.Errorf("attempts after the copy: %s, %v; want %s", dumpJSON(a), err, dumpJSON(wantAttempts))
	}
	// The claims of the stopped server end with the copy: every pending
	// delivery is due.
	if due, err := s.ClaimDeliveries(ctx, claim); err != nil || len(due) != 2103 {
		t.Errorf("claimed %d deliveries after the copy, %v; want 2103", len(due), err)
	}
	// Captures sent again are answered with their first leads; a known
	// person joins their contact; the erased capture stays refused.
	again, replayed := capture(s, site, "k-2", leadwire.Payload{Email: "bob@example.com"}, leadwire.Payload{PhoneNumber: "214-555-0101"})
	if !replayed || again[0].ID != pair[0].ID || again[1].ID != pair[1].ID {
		t.Errorf("the two-lead capture sent again: replayed %v, %s; want %s", replayed, dumpJSON(again), dumpJSON(pair))
	}
	if l, replayed := capture(s, site, "bulk-2099", leadwire.Payload{Email: "bulk-699@example.com"}); !replayed ||
		!slices.ContainsFunc(want, func(w *leadwire.Lead) bool { return w.ID == l[0].ID }) {
		t.Errorf("a bulk capture sent again: replayed %v, lead %s not among those copied", replayed, l[0].ID)
	}
	l, _ := capture(s, site, "", leadwire.Payload{PhoneNumber: "+12145550101"})
	if l[0].ContactID != first[0].ContactID {
		t.Errorf("Ann's phone joined contact %s, want %s", l[0].ContactID, first[0].ContactID)
	}
	if ds, err := s.FindDeliveries(ctx, leadwire.DeliveryFilter{LeadID: l[0].ID}); err != nil || len(ds) != 1 || ds[0].DestinationID != dest.ID {
		t.Errorf("the deliveries of a lead captured after the copy: %s, %v", dumpJSON(ds), err)
	}
	// The agent stays paused: no lead of their channel goes to them in turn.
	if to, err := s.RouteLead(ctx, &leadwire.Lead{ID: l[0].ID, ChannelID: other.ID}, "route"); err != nil || len(to) != 0 {
		t.Errorf("routing a lead to the channel of the paused agent: %s, %v", dumpJSON(to), err)
	}
	_, _, err = s.CaptureLeads(ctx, &leadwire.Capture{ChannelID: site.ID, IdempotencyKey: "k-erased", RequestHash: "hash-k-erased",
		Leads: []*leadwire.Lead{{Payload: leadwire.Payload{Email: "gone@example.com"}}}})
	if leadwire.ErrorCode(err) != leadwire.ECONFLICT {
		t.Errorf("the erased capture sent again: %v, want a conflict", err)
	}
	// Users sign in as before; an agent sees the leads assigned to them
	// and those of their channel.
	if _, err := s.Authenticate(ctx, agent.Email, "correct horse battery"); err != nil {
		t.Errorf("Authenticate after the copy: %v", err)
	}
	u, err := s.UserByToken(ctx, token)
	if err != nil || u.ID != agent.ID {
		t.Fatalf("UserByToken after the copy = %+v, %v", u, err)
	}
	seen, _, err := s.SearchLeads(leadwire.NewContextWithUser(ctx, u), leadwire.LeadFilter{Query: "yard"})
	if err != nil || len(seen) != 1 || seen[0].ID != first[0].ID {
		t.Errorf("the agent's search for yard = %s, %v", dumpJSON(seen), err)
	}

	// A second copy into the same database is refused.
	if _, errOut, code := runCLI(t, "migrate", "--from", path, "--to", url); code == 0 || !strings.Contains(errOut, "empty") {
		t.Errorf("a second migrate: exit %d, %q", code, errOut)
	}
}

// visitor is the source of the captures the copy test stores.
var visitor = leadwire.Source{Address: "203.0.113.9", UserAgent: "Mozilla/5.0 (X11; Linux x86_64)", Origin: "https://example.com"}

func dumpJSON(v any) string {
	b, _ := json.MarshalIndent(v, "", " ")
	return string(b)
}
