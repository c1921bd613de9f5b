package rechat_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/deliver"
	"github.com/leadwire/leadwire/deliver/rechat"
	"github.com/leadwire/leadwire/internal/delivertest"
)

// TestForwardsTheLeadAsSentWithItsIdempotencyKey forwards a lead to a
// stand-in for a Rechat channel webhook that fails once: both requests
// carry the form's lead and the same Idempotency-Key, so Rechat stores it
// once.
func TestForwardsTheLeadAsSentWithItsIdempotencyKey(t *testing.T) {
	s := delivertest.Start(t, map[string]deliver.Deliverer{leadwire.KindRechat: &rechat.Deliverer{}})
	channel := delivertest.NewReceiver(t, func(n int, w http.ResponseWriter) {
		if n == 0 {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"code":"OK"}`))
	})
	delivertest.AddDestination(t, s, leadwire.Destination{Kind: leadwire.KindRechat,
		URL: channel.URL + "/leads/channels/5f1c7a0e-3d1b-4b8e-9a57-2f0b1c9d6e01/webhook"})
	sent := `{"first_name":"Grace","last_name":"Hopper","email":"grace@example.com","phone_number":"(214) 555-0101",` +
		`"message":"Can I see it Sunday?","mlsid":"NTREIS-123","budget":450000}`
	id := delivertest.LeadID(t, delivertest.Capture(t, s, s.ChannelID, sent))

	got := channel.Wait(t, 2, 5*time.Second)
	del := delivertest.DeliveryOf(t, s, id)
	if del.Status != leadwire.DeliveryDelivered || del.Attempts != 2 {
		t.Fatalf("delivery %+v, want delivered on the second attempt", del)
	}
	for _, r := range got {
		if r.Header.Get("X-Method") != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s with Content-Type %q", r.Header.Get("X-Method"), r.Header.Get("Content-Type"))
		}
		if k := r.Header.Get("Idempotency-Key"); k != del.ID {
			t.Errorf("Idempotency-Key %q, want the delivery id %q", k, del.ID)
		}
		if !delivertest.SameJSON(t, r.Body, []byte(sent)) {
			t.Errorf("forwarded %s, want the lead as sent, %s", r.Body, sent)
		}
	}
}
