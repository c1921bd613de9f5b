package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/internal/testserver"
)

func TestAPIPauseAndDeliveries(t *testing.T) {
	s := testserver.Start(t)
	ctx := context.Background()
	_, agentToken := s.NewUser(t, leadwire.User{Email: "agent@example.com"})
	_, ownerToken := s.NewUser(t, leadwire.User{Email: "owner@example.com", Role: leadwire.RoleOwner})

	for method, want := range map[string]bool{"PUT": true, "DELETE": false} {
		a := api(t, agentToken, method, s.URL+"/api/me/pause", "", "")
		if a.status != 200 || a.data()["paused"] != want {
			t.Errorf("%s /api/me/pause: %d %v", method, a.status, a.body)
		}
	}
	if a := do(t, "PUT", s.URL+"/api/me/pause", "", ""); a.status != 401 {
		t.Errorf("pausing without a credential: %d", a.status)
	}

	// A failed delivery, listed for the owner and sent again.
	dest := &leadwire.Destination{Kind: leadwire.KindWebhook, URL: "http://127.0.0.1:1/hook"}
	if err := s.Store.CreateDestination(ctx, dest); err != nil {
		t.Fatal(err)
	}
	lead := captureID(t, s, s.ChannelID, `{"email":"zoe@example.com"}`)
	ds, err := s.Store.ClaimDeliveries(ctx, leadwire.DeliveryClaim{Limit: 1, Lease: time.Minute, PerDestination: 1})
	if err != nil || len(ds) != 1 {
		t.Fatalf("claim: %v, %v", ds, err)
	}
	if err := s.Store.RecordAttempt(ctx, ds[0].ID, leadwire.DeliveryResult{Status: leadwire.DeliveryFailed,
		Attempt: leadwire.Attempt{StatusCode: 410}}); err != nil {
		t.Fatal(err)
	}
	// The agent sees no lead, so no delivery either.
	if a := api(t, agentToken, "GET", s.URL+"/api/deliveries", "", ""); a.status != 200 || len(a.body["data"].([]any)) != 0 {
		t.Errorf("an agent listing deliveries of leads they cannot see: %d %v", a.status, a.body)
	}
	a := api(t, ownerToken, "GET", s.URL+"/api/deliveries?status=failed", "", "")
	if list, _ := a.body["data"].([]any); a.status != 200 || len(list) != 1 ||
		list[0].(map[string]any)["lead_id"] != lead || list[0].(map[string]any)["last_error"] != "answered 410" {
		t.Fatalf("failed deliveries: %d %v", a.status, a.body)
	}
	if a := api(t, ownerToken, "GET", s.URL+"/api/deliveries?status=lost", "", ""); a.status != 400 {
		t.Errorf("an unknown status: %d %v", a.status, a.body)
	}
	if a := api(t, agentToken, "POST", s.URL+"/api/deliveries/"+ds[0].ID+"/retry", "", ""); a.status != 404 {
		t.Errorf("an agent retrying: %d %v", a.status, a.body)
	}
	if a := api(t, ownerToken, "POST", s.URL+"/api/deliveries/"+ds[0].ID+"/retry", "", ""); a.status != 200 {
		t.Errorf("retry: %d %v", a.status, a.body)
	}
	if a := api(t, ownerToken, "POST", s.URL+"/api/deliveries/"+ds[0].ID+"/retry", "", ""); a.status != 409 {
		t.Errorf("retrying a pending delivery: %d %v", a.status, a.body)
	}
	if a := api(t, ownerToken, "POST", s.URL+"/api/deliveries/nope/retry", "", ""); a.status != 404 {
		t.Errorf("retrying an unknown delivery: %d %v", a.status, a.body)
	}
}
