package postgres

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/internal/pgtest"
	"github.com/leadwire/leadwire/internal/storetest"
)

// TestDeliveriesWakeOtherServers: a capture through one server wakes the
// dispatcher of another sharing the database within a second, through
// LISTEN and NOTIFY, and not that of a server of another database.
func TestDeliveriesWakeOtherServers(t *testing.T) {
	ctx := context.Background()
	var now atomic.Pointer[time.Time]
	at := storetest.Start
	now.Store(&at)
	url := pgtest.NewSchema(t)
	a, b, elsewhere := openAt(t, url, &now), openAt(t, url, &now), openAt(t, pgtest.NewSchema(t), &now)
	ch := &leadwire.Channel{Name: "Site"}
	if err := a.CreateChannel(ctx, ch); err != nil {
		t.Fatal(err)
	}
	if err := a.CreateDestination(ctx, &leadwire.Destination{Kind: leadwire.KindWebhook, URL: "https://example.com/hook"}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // b and elsewhere listen by now
	if _, _, err := a.CaptureLeads(ctx, &leadwire.Capture{ChannelID: ch.ID,
		Leads: []*leadwire.Lead{{Payload: leadwire.Payload{Email: "zoe@example.com"}, Raw: []byte(`{}`)}}}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-b.DeliveriesQueued():
	case <-time.After(time.Second):
		t.Error("the other server's dispatcher was not woken within a second of the capture")
	}
	select {
	case <-elsewhere.DeliveriesQueued():
		t.Error("a server of another database was woken")
	case <-time.After(200 * time.Millisecond):
	}
}
