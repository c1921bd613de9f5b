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

// TestCapturesWakeOtherServers: a capture through one server wakes the
// dispatcher and the live inbox of another sharing the database within a
// second, through LISTEN and NOTIFY, and not those of a server of another
// database.
func TestCapturesWakeOtherServers(t *testing.T) {
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
	for _, wake := range []struct {
		what            string
		b, elsewhere, a <-chan struct{}
	}{
		{"dispatcher", b.DeliveriesQueued(), elsewhere.DeliveriesQueued(), a.DeliveriesQueued()},
		{"live inbox", b.LeadsStored(), elsewhere.LeadsStored(), a.LeadsStored()},
	} {
		for who, c := range map[string]<-chan struct{}{"the capturing": wake.a, "the other": wake.b} {
			select {
			case <-c:
			case <-time.After(time.Second):
				t.Errorf("%s server's %s was not woken within a second of the capture", who, wake.what)
			}
		}
		select {
		case <-wake.elsewhere:
			t.Errorf("the %s of a server of another database was woken", wake.what)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
