package sqlite

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/internal/storetest"
)

// TestDeliveryClaimsAndErasure follows one delivery through the outbox:
// created with its lead, claimed once while the claim lasts and again
// after it (a worker that died), not due before its next attempt, and
// erased with its lead's contact, attempts included.
func TestDeliveryClaimsAndErasure(t *testing.T) {
	ctx := context.Background()
	s, setNow := openTest(t)
	ch := &leadwire.Channel{Name: "Site"}
	if err := s.CreateChannel(ctx, ch); err != nil {
		t.Fatal(err)
	}
	dest := &leadwire.Destination{Kind: leadwire.KindWebhook, URL: "https://example.com/hook"}
	if err := s.CreateDestination(ctx, dest); err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(map[string]string{"email": "zoe@example.com"})
	lead := mustCapture(t, s, &leadwire.Capture{ChannelID: ch.ID,
		Leads: []*leadwire.Lead{{Payload: leadwire.Payload{Email: "zoe@example.com"}, Raw: raw}}})[0]
	select {
	case <-s.DeliveriesQueued():
	default:
		t.Error("the capture's commit did not signal the dispatcher")
	}
	claim := leadwire.DeliveryClaim{Limit: 10, Lease: time.Minute, PerDestination: 4}
	claimed, err := s.ClaimDeliveries(ctx, claim)
	if err != nil || len(claimed) != 1 || claimed[0].LeadID != lead.ID || claimed[0].Status != leadwire.DeliveryPending {
		t.Fatalf("claim: %+v, %v", claimed, err)
	}
	id := claimed[0].ID
	if again, _ := s.ClaimDeliveries(ctx, claim); len(again) != 0 {
		t.Errorf("claimed again while the claim lasts: %+v", again)
	}
	// A server starting on the file ends the claims of the one that died.
	if err := s.ReleaseDeliveryClaims(ctx); err != nil {
		t.Fatal(err)
	}
	if again, _ := s.ClaimDeliveries(ctx, claim); len(again) != 1 || again[0].ID != id {
		t.Errorf("after the claims were released: %+v", again)
	}
	full := claim
	full.InFlight = map[string]int{dest.ID: 4}
	setNow(storetest.Start.Add(2 * time.Minute))
	if again, _ := s.ClaimDeliveries(ctx, full); len(again) != 0 {
		t.Errorf("claimed for a destination with all its slots in flight: %+v", again)
	}
	again, err := s.ClaimDeliveries(ctx, claim)
	if err != nil || len(again) != 1 || again[0].ID != id {
		t.Fatalf("after the claim expired: %+v, %v", again, err)
	}
	now := storetest.Start.Add(2 * time.Minute)
	if err := s.RecordAttempt(ctx, id, leadwire.DeliveryResult{Status: leadwire.DeliveryPending, NextAttemptAt: now.Add(time.Hour),
		Attempt: leadwire.Attempt{At: now, StatusCode: 503, Duration: 120 * time.Millisecond, Response: "zoe@example.com is queued"}}); err != nil {
		t.Fatal(err)
	}
	if again, _ := s.ClaimDeliveries(ctx, claim); len(again) != 0 {
		t.Errorf("claimed before its next attempt: %+v", again)
	}
	attempts, err := s.FindAttempts(ctx, id)
	if err != nil || len(attempts) != 1 || attempts[0].StatusCode != 503 || attempts[0].Duration != 120*time.Millisecond {
		t.Errorf("attempts %+v, %v", attempts, err)
	}
	// An agent sees the deliveries of their leads only; claims are not
	// theirs to make.
	agent := leadwire.NewContextWithUser(ctx, &leadwire.User{ID: "u", Email: "a@example.com", Role: leadwire.RoleAgent})
	if ds, err := s.FindDeliveries(agent, leadwire.DeliveryFilter{}); err != nil || len(ds) != 0 {
		t.Errorf("an agent listing deliveries of a lead they cannot see: %v, %v", ds, err)
	}
	if err := s.RetryDelivery(agent, id); leadwire.ErrorCode(err) != leadwire.ENOTFOUND {
		t.Errorf("an agent retrying a delivery of a lead they cannot see: %v", err)
	}
	if _, err := s.ClaimDeliveries(agent, claim); leadwire.ErrorCode(err) != leadwire.EFORBIDDEN {
		t.Errorf("an agent claiming: %v", err)
	}

	if err := s.EraseContact(ctx, lead.ContactID); err != nil {
		t.Fatal(err)
	}
	if ds, _ := s.FindDeliveries(ctx, leadwire.DeliveryFilter{}); len(ds) != 0 {
		t.Errorf("deliveries after the erasure: %+v", ds)
	}
	if as, _ := s.FindAttempts(ctx, id); len(as) != 0 {
		t.Errorf("attempts after the erasure: %+v", as)
	}
}
