package sqlite

import (
	"context"
	"testing"
	"time"

	"github.com/leadwire/leadwire"
)

// TestReleaseDeliveryClaims: a server starting on the file ends the
// claims of the one that died, so its deliveries are due at once. The
// outbox's other cases are in internal/storetest.
func TestReleaseDeliveryClaims(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	ch := &leadwire.Channel{Name: "Site"}
	if err := s.CreateChannel(ctx, ch); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateDestination(ctx, &leadwire.Destination{Kind: leadwire.KindWebhook, URL: "https://example.com/hook"}); err != nil {
		t.Fatal(err)
	}
	mustCapture(t, s, &leadwire.Capture{ChannelID: ch.ID,
		Leads: []*leadwire.Lead{{Payload: leadwire.Payload{Email: "zoe@example.com"}, Raw: []byte(`{}`)}}})
	claim := leadwire.DeliveryClaim{Limit: 10, Lease: time.Minute, PerDestination: 4}
	claimed, err := s.ClaimDeliveries(ctx, claim)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim: %+v, %v", claimed, err)
	}
	if again, _ := s.ClaimDeliveries(ctx, claim); len(again) != 0 {
		t.Errorf("claimed again while the claim lasts: %+v", again)
	}
	<-s.DeliveriesQueued() // the capture's
	if err := s.ReleaseDeliveryClaims(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.DeliveriesQueued():
	default:
		t.Error("releasing claims did not signal the dispatcher")
	}
	if again, _ := s.ClaimDeliveries(ctx, claim); len(again) != 1 || again[0].ID != claimed[0].ID {
		t.Errorf("after the claims were released: %+v", again)
	}
}
