package storetest

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leadwire/leadwire"
)

var deliveryCases = []storeCase{
	{"DeliveryClaimsAndErasure", testDeliveryClaimsAndErasure},
	{"DeliveriesOfChannels", testDeliveriesOfChannels},
	{"DeliveriesAndSpam", testDeliveriesAndSpam},
	{"Destinations", testDestinations},
	{"RouteLead", testRouteLead},
}

var claimAll = leadwire.DeliveryClaim{Limit: 10, Lease: time.Minute, PerDestination: 4}

func mustDestination(t *testing.T, s Store, d leadwire.Destination) *leadwire.Destination {
	t.Helper()
	if err := s.CreateDestination(context.Background(), &d); err != nil {
		t.Fatalf("CreateDestination(%+v): %v", d, err)
	}
	return &d
}

// deliveriesOf returns "destination id: status" of each delivery of the
// lead, sorted.
func deliveriesOf(t *testing.T, s Store, leadID string) []string {
	t.Helper()
	ds, err := s.FindDeliveries(context.Background(), leadwire.DeliveryFilter{LeadID: leadID})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range ds {
		out = append(out, d.DestinationID+": "+d.Status)
	}
	slices.Sort(out)
	return out
}

func wantDeliveries(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("%s: deliveries %q, want %q", what, got, want)
	}
}

// testDeliveryClaimsAndErasure follows one delivery through the outbox:
// created with its lead, claimed once while the claim lasts and again
// after it (a worker that died), not due before its next attempt, and
// erased with its lead's contact, attempts included.
func testDeliveryClaimsAndErasure(t *testing.T, open Open) {
	ctx := context.Background()
	s := openClock(t, open)
	ch := mustChannel(t, s, leadwire.Channel{Name: "Site"})
	dest := mustDestination(t, s, leadwire.Destination{Kind: leadwire.KindWebhook, URL: "https://example.com/hook"})
	lead := capture(t, s, ch, leadwire.Payload{Email: "zoe@example.com"})
	select {
	case <-s.DeliveriesQueued():
	default:
		t.Error("the capture's commit did not signal the dispatcher")
	}
	claimed, err := s.ClaimDeliveries(ctx, claimAll)
	if err != nil || len(claimed) != 1 || claimed[0].LeadID != lead.ID || claimed[0].Status != leadwire.DeliveryPending ||
		claimed[0].DestinationID != dest.ID || !claimed[0].GiveUpAt.Equal(Start.Add(leadwire.DeliveryGiveUp)) {
		t.Fatalf("claim: %+v, %v", claimed, err)
	}
	id := claimed[0].ID
	if again, _ := s.ClaimDeliveries(ctx, claimAll); len(again) != 0 {
		t.Errorf("claimed again while the claim lasts: %+v", again)
	}
	full := claimAll
	full.InFlight = map[string]int{dest.ID: 4}
	now := s.advance(2 * time.Minute)
	if again, _ := s.ClaimDeliveries(ctx, full); len(again) != 0 {
		t.Errorf("claimed for a destination with all its slots in flight: %+v", again)
	}
	again, err := s.ClaimDeliveries(ctx, claimAll)
	if err != nil || len(again) != 1 || again[0].ID != id {
		t.Fatalf("after the claim expired: %+v, %v", again, err)
	}
	if err := s.RecordAttempt(ctx, id, leadwire.DeliveryResult{Status: leadwire.DeliveryPending, NextAttemptAt: now.Add(time.Hour),
		Attempt: leadwire.Attempt{At: now, StatusCode: 503, Duration: 120 * time.Millisecond, Response: "zoe@example.com is queued"}}); err != nil {
		t.Fatal(err)
	}
	if again, _ := s.ClaimDeliveries(ctx, claimAll); len(again) != 0 {
		t.Errorf("claimed before its next attempt: %+v", again)
	}
	attempts, err := s.FindAttempts(ctx, id)
	if err != nil || len(attempts) != 1 || attempts[0].StatusCode != 503 || attempts[0].Duration != 120*time.Millisecond ||
		attempts[0].Response != "zoe@example.com is queued" || !attempts[0].At.Equal(now) {
		t.Errorf("attempts %+v, %v", attempts, err)
	}
	ds, err := s.FindDeliveries(ctx, leadwire.DeliveryFilter{Status: leadwire.DeliveryPending})
	if err != nil || len(ds) != 1 || ds[0].Attempts != 1 || ds[0].LastError != "answered 503" || !ds[0].NextAttemptAt.Equal(now.Add(time.Hour)) {
		t.Errorf("pending deliveries after the attempt: %+v, %v", ds, err)
	}
	if err := s.RetryDelivery(ctx, id); leadwire.ErrorCode(err) != leadwire.ECONFLICT {
		t.Errorf("retrying a pending delivery: %v", err)
	}
	// Due again an hour later; delivered, it is claimed no more.
	s.advance(time.Hour)
	if again, _ := s.ClaimDeliveries(ctx, claimAll); len(again) != 1 {
		t.Fatalf("at its next attempt: %+v", again)
	}
	if err := s.RecordAttempt(ctx, id, leadwire.DeliveryResult{Status: leadwire.DeliveryDelivered,
		Attempt: leadwire.Attempt{At: s.now, StatusCode: 204}}); err != nil {
		t.Fatal(err)
	}
	wantDeliveries(t, "delivered", deliveriesOf(t, s, lead.ID), dest.ID+": delivered")
	if err := s.RetryDelivery(ctx, id); leadwire.ErrorCode(err) != leadwire.ECONFLICT {
		t.Errorf("retrying a delivered delivery: %v", err)
	}
	if err := s.RecordAttempt(ctx, "no-such-delivery", leadwire.DeliveryResult{Status: leadwire.DeliveryDelivered}); leadwire.ErrorCode(err) != leadwire.ENOTFOUND {
		t.Errorf("recording an attempt of no delivery: %v", err)
	}
	// An agent sees the deliveries of their leads only; claims are not
	// theirs to make.
	agent := as(agentA)
	if ds, err := s.FindDeliveries(agent, leadwire.DeliveryFilter{}); err != nil || len(ds) != 0 {
		t.Errorf("an agent listing deliveries of a lead they cannot see: %v, %v", ds, err)
	}
	if err := s.RetryDelivery(agent, id); leadwire.ErrorCode(err) != leadwire.ENOTFOUND {
		t.Errorf("an agent retrying a delivery of a lead they cannot see: %v", err)
	}
	if attempts, err := s.FindAttempts(agent, id); err != nil || len(attempts) != 0 {
		t.Errorf("an agent reading the attempts of a delivery of a lead they cannot see: %v, %v", attempts, err)
	}
	if _, err := s.ClaimDeliveries(agent, claimAll); leadwire.ErrorCode(err) != leadwire.EFORBIDDEN {
		t.Errorf("an agent claiming: %v", err)
	}
	mine := capture(t, s, ch, leadwire.Payload{Email: "yan@example.com",
		Assignees: []leadwire.Assignee{{Email: agentA.Email}}})
	if ds, err := s.FindDeliveries(agent, leadwire.DeliveryFilter{}); err != nil || len(ds) != 1 || ds[0].LeadID != mine.ID {
		t.Errorf("an agent listing the deliveries of their lead: %+v, %v", ds, err)
	}

	if err := s.EraseContact(ctx, lead.ContactID); err != nil {
		t.Fatal(err)
	}
	if ds := deliveriesOf(t, s, lead.ID); len(ds) != 0 {
		t.Errorf("deliveries after the erasure: %q", ds)
	}
	if attempts, _ := s.FindAttempts(ctx, id); len(attempts) != 0 {
		t.Errorf("attempts after the erasure: %+v", attempts)
	}
}

// testDeliveriesOfChannels: a lead gets a delivery for each destination
// of its channel and of every channel, none of another channel's; a
// removed destination takes its deliveries along.
func testDeliveriesOfChannels(t *testing.T, open Open) {
	ctx := context.Background()
	s := openClock(t, open)
	site := mustChannel(t, s, leadwire.Channel{Name: "Site"})
	other := mustChannel(t, s, leadwire.Channel{Name: "Other"})
	every := mustDestination(t, s, leadwire.Destination{Kind: leadwire.KindWebhook, URL: "https://example.com/every"})
	ofSite := mustDestination(t, s, leadwire.Destination{Kind: leadwire.KindMail, URL: "mailto:desk@example.com", ChannelID: site.ID})
	ofOther := mustDestination(t, s, leadwire.Destination{Kind: leadwire.KindWebhook, URL: "https://example.com/other", ChannelID: other.ID})
	if err := s.CreateDestination(ctx, &leadwire.Destination{Kind: leadwire.KindWebhook, URL: "https://example.com/x",
		ChannelID: "no-such-channel"}); leadwire.ErrorCode(err) != leadwire.ENOTFOUND {
		t.Errorf("a destination of an unknown channel: %v", err)
	}
	// Several leads in one capture.
	leads, _, err := s.CaptureLeads(ctx, &leadwire.Capture{ChannelID: site.ID, Leads: []*leadwire.Lead{
		{Payload: leadwire.Payload{Email: "a@example.com"}, Raw: rawOf(t, "a")},
		{Payload: leadwire.Payload{Email: "b@example.com"}, Raw: rawOf(t, "b")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	fromOther := capture(t, s, other, leadwire.Payload{Email: "c@example.com"})
	for _, l := range leads {
		wantDeliveries(t, "a lead of the site", deliveriesOf(t, s, l.ID), every.ID+": pending", ofSite.ID+": pending")
	}
	wantDeliveries(t, "a lead of the other channel", deliveriesOf(t, s, fromOther.ID), every.ID+": pending", ofOther.ID+": pending")
	if err := s.RemoveDestination(ctx, every.ID); err != nil {
		t.Fatal(err)
	}
	wantDeliveries(t, "after its destination went", deliveriesOf(t, s, leads[0].ID), ofSite.ID+": pending")
	if err := s.RemoveDestination(ctx, every.ID); leadwire.ErrorCode(err) != leadwire.ENOTFOUND {
		t.Errorf("removing it again: %v", err)
	}
	if err := s.RemoveDestination(as(agentA), ofSite.ID); leadwire.ErrorCode(err) != leadwire.EFORBIDDEN {
		t.Errorf("an agent removing a destination: %v", err)
	}
}

// testDeliveriesAndSpam: a lead quarantined as spam gets no delivery
// until it is marked otherwise; a lead marked spam has its pending
// deliveries canceled, and they are pending again once it is not.
func testDeliveriesAndSpam(t *testing.T, open Open) {
	ctx := context.Background()
	s := openClock(t, open)
	ch := mustChannel(t, s, leadwire.Channel{Name: "Site"})
	dest := mustDestination(t, s, leadwire.Destination{Kind: leadwire.KindWebhook, URL: "https://example.com/hook"})
	spam := captureSpam(t, s, ch, leadwire.Payload{Email: "bot@example.com"}, "honeypot")
	wantDeliveries(t, "a lead quarantined as spam", deliveriesOf(t, s, spam.ID))
	select {
	case <-s.DeliveriesQueued():
		t.Error("a lead quarantined as spam signaled the dispatcher")
	default:
	}
	if _, err := s.UpdateLead(ctx, spam.ID, leadwire.LeadUpdate{Status: ptr(leadwire.StatusNew)}); err != nil {
		t.Fatal(err)
	}
	wantDeliveries(t, "the quarantined lead marked new", deliveriesOf(t, s, spam.ID), dest.ID+": pending")
	select {
	case <-s.DeliveriesQueued():
	default:
		t.Error("marking a lead not spam did not signal the dispatcher")
	}

	lead := capture(t, s, ch, leadwire.Payload{Email: "zoe@example.com"})
	if _, err := s.UpdateLead(ctx, lead.ID, leadwire.LeadUpdate{Status: ptr(leadwire.StatusSpam)}); err != nil {
		t.Fatal(err)
	}
	wantDeliveries(t, "a lead marked spam", deliveriesOf(t, s, lead.ID), dest.ID+": canceled")
	first, _ := s.ClaimDeliveries(ctx, claimAll)
	if len(first) != 1 || first[0].LeadID != spam.ID {
		t.Fatalf("claimed %+v; want the delivery of the lead no longer spam alone", first)
	}
	if err := s.RecordAttempt(ctx, first[0].ID, leadwire.DeliveryResult{Status: leadwire.DeliveryDelivered,
		Attempt: leadwire.Attempt{At: s.now, StatusCode: 200}}); err != nil {
		t.Fatal(err)
	}
	s.advance(time.Minute)
	if _, err := s.UpdateLead(ctx, lead.ID, leadwire.LeadUpdate{Status: ptr(leadwire.StatusContacted)}); err != nil {
		t.Fatal(err)
	}
	ds, err := s.FindDeliveries(ctx, leadwire.DeliveryFilter{LeadID: lead.ID})
	if err != nil || len(ds) != 1 || ds[0].Status != leadwire.DeliveryPending || !ds[0].NextAttemptAt.Equal(s.now) {
		t.Errorf("the lead marked spam and then not: %+v, %v", ds, err)
	}
	// A delivery that failed may be sent again, due now.
	if _, err := s.UpdateLead(ctx, lead.ID, leadwire.LeadUpdate{Status: ptr(leadwire.StatusSpam)}); err != nil {
		t.Fatal(err)
	}
	if err := s.RetryDelivery(ctx, ds[0].ID); err != nil {
		t.Fatalf("retrying a canceled delivery: %v", err)
	}
	wantDeliveries(t, "retried", deliveriesOf(t, s, lead.ID), dest.ID+": pending")

	// A delivery no longer pending stays as it is when its lead is
	// marked spam; deleted spam takes its deliveries and their attempts
	// along.
	if _, err := s.UpdateLead(ctx, spam.ID, leadwire.LeadUpdate{Status: ptr(leadwire.StatusSpam)}); err != nil {
		t.Fatal(err)
	}
	wantDeliveries(t, "a delivered lead marked spam", deliveriesOf(t, s, spam.ID), dest.ID+": delivered")
	if _, err := s.UpdateLead(ctx, lead.ID, leadwire.LeadUpdate{Status: ptr(leadwire.StatusContacted)}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.DeleteSpam(ctx, s.advance(time.Hour)); err != nil || n != 1 {
		t.Fatalf("DeleteSpam = %d, %v", n, err)
	}
	if ds := deliveriesOf(t, s, spam.ID); len(ds) != 0 {
		t.Errorf("deliveries of deleted spam: %q", ds)
	}
	if attempts, _ := s.FindAttempts(ctx, first[0].ID); len(attempts) != 0 {
		t.Errorf("attempts of deleted spam: %+v", attempts)
	}
	wantDeliveries(t, "another lead's", deliveriesOf(t, s, lead.ID), dest.ID+": pending")
}

// testDestinations: destinations are listed oldest first, their secrets
// rotate with the previous one signing for the grace, and only an owner
// manages them.
func testDestinations(t *testing.T, open Open) {
	ctx := context.Background()
	s := openClock(t, open)
	hook := mustDestination(t, s, leadwire.Destination{Kind: leadwire.KindWebhook, URL: " https://example.com/hook "})
	s.advance(time.Second)
	fub := mustDestination(t, s, leadwire.Destination{Kind: leadwire.KindFollowUpBoss, Secret: "fub-key"})
	if err := s.CreateDestination(ctx, &leadwire.Destination{Kind: "fax", URL: "https://example.com"}); leadwire.ErrorCode(err) != leadwire.EINVALID {
		t.Errorf("a destination of an unknown kind: %v", err)
	}
	all, err := s.FindDestinations(ctx)
	if err != nil || len(all) != 2 || all[0].ID != hook.ID || all[1].ID != fub.ID || all[0].URL != "https://example.com/hook" ||
		!all[0].Enabled || !all[0].CreatedAt.Equal(Start) || all[1].URL != leadwire.FollowUpBossEvents {
		t.Fatalf("FindDestinations = %+v, %v", all, err)
	}
	if _, err := s.FindDestinations(as(agentA)); leadwire.ErrorCode(err) != leadwire.EFORBIDDEN {
		t.Errorf("an agent listing destinations: %v", err)
	}
	got, err := s.FindDestinationByID(ctx, fub.ID)
	if err != nil || got.Secret != "fub-key" || got.Kind != leadwire.KindFollowUpBoss {
		t.Errorf("FindDestinationByID = %+v, %v", got, err)
	}
	if _, err := s.FindDestinationByID(ctx, "nope"); leadwire.ErrorCode(err) != leadwire.ENOTFOUND {
		t.Errorf("an unknown destination: %v", err)
	}
	now := s.advance(time.Minute)
	rotated, err := s.RotateSecret(ctx, hook.ID)
	if err != nil || rotated.Secret == hook.Secret || rotated.PreviousSecret != hook.Secret ||
		!rotated.PreviousSecretUntil.Equal(now.Add(leadwire.SecretGrace)) {
		t.Fatalf("RotateSecret = %+v, %v", rotated, err)
	}
	if got := rotated.Secrets(now); len(got) != 2 || got[0] != rotated.Secret {
		t.Errorf("secrets after the rotation: %q", got)
	}
	if _, err := s.RotateSecret(ctx, fub.ID); leadwire.ErrorCode(err) != leadwire.EINVALID {
		t.Errorf("rotating the key of a Follow Up Boss destination: %v", err)
	}
	if _, err := s.RotateSecret(ctx, "nope"); leadwire.ErrorCode(err) != leadwire.ENOTFOUND {
		t.Errorf("rotating an unknown destination: %v", err)
	}
}

// testRouteLead: a lead with assignees reaches them; one without goes to
// the channel's agents in turn, skipping the paused, and the agent
// chosen becomes its assignee on its timeline.
func testRouteLead(t *testing.T, open Open) {
	ctx := context.Background()
	s := openClock(t, open)
	ch := mustChannel(t, s, leadwire.Channel{Name: "Site"})
	var agents []*leadwire.User
	for _, email := range []string{"ann@example.com", "bob@example.com", "cy@example.com"} {
		u := mustUser(t, s, leadwire.User{Email: email, Role: leadwire.RoleAgent})
		if err := s.AddChannelMember(ctx, ch.ID, email); err != nil {
			t.Fatal(err)
		}
		agents = append(agents, u)
	}
	if err := s.PauseUser(as(&leadwire.User{Email: "ann@example.com", Role: leadwire.RoleAgent}), "bob@example.com", true); leadwire.ErrorCode(err) != leadwire.EFORBIDDEN {
		t.Errorf("an agent pausing another: %v", err)
	}
	if err := s.PauseUser(ctx, "nobody@example.com", true); leadwire.ErrorCode(err) != leadwire.ENOTFOUND {
		t.Errorf("pausing no user: %v", err)
	}
	if err := s.PauseUser(as(&leadwire.User{Email: "Bob@example.com", Role: leadwire.RoleAgent}), "bob@example.com", true); err != nil {
		t.Fatal(err)
	}
	var got []string
	for i := range 4 {
		lead := capture(t, s, ch, leadwire.Payload{Email: "visitor@example.com", Note: string(rune('a' + i))})
		to, err := s.RouteLead(ctx, lead, "route")
		if err != nil || len(to) != 1 {
			t.Fatalf("RouteLead = %+v, %v", to, err)
		}
		got = append(got, to[0].Email)
		stored, err := s.FindLeadByID(ctx, lead.ID)
		if err != nil || len(stored.Payload.Assignees) != 1 || stored.Payload.Assignees[0].Email != to[0].Email {
			t.Errorf("the routed lead's assignees: %+v, %v", stored.Payload.Assignees, err)
		}
		if again, err := s.RouteLead(ctx, stored, "route"); err != nil || len(again) != 1 || again[0].Email != to[0].Email {
			t.Errorf("routing the assigned lead again: %+v, %v", again, err)
		}
	}
	// The order of turns is the agents' ids; Bob is paused.
	slices.SortFunc(agents, func(a, b *leadwire.User) int { return strings.Compare(a.ID, b.ID) })
	var turns []string
	for _, u := range agents {
		if u.Email != "bob@example.com" {
			turns = append(turns, u.Email)
		}
	}
	if want := []string{turns[0], turns[1], turns[0], turns[1]}; !slices.Equal(got, want) {
		t.Errorf("leads went to %q, want %q", got, want)
	}
	if _, err := s.RouteLead(as(agentA), &leadwire.Lead{ID: "x"}, ""); leadwire.ErrorCode(err) != leadwire.EFORBIDDEN {
		t.Errorf("an agent routing: %v", err)
	}

	// An assignee found by MLS id, or by email; one naming nobody known
	// reaches nobody.
	dee := mustUser(t, s, leadwire.User{Email: "dee@example.com", Role: leadwire.RoleAgent, MLSID: " NT-0512 "})
	if dee.MLSID != "NT-0512" {
		t.Errorf("the user's MLS id: %q", dee.MLSID)
	}
	byMLS := capture(t, s, ch, leadwire.Payload{Email: "buyer@example.com",
		Assignees: []leadwire.Assignee{{MLSID: "NT-0512", FirstName: "Dee"}, {Email: "CY@example.com"}, {MLSID: "unknown"}}})
	to, err := s.RouteLead(ctx, byMLS, "route")
	var emails []string
	for _, u := range to {
		emails = append(emails, u.Email)
	}
	if err != nil || !slices.Equal(emails, []string{"cy@example.com", "dee@example.com"}) {
		t.Errorf("RouteLead of assignees by MLS id and email = %q, %v", emails, err)
	}
}
