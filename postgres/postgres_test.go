package postgres

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/internal/pgtest"
	"github.com/leadwire/leadwire/internal/storetest"
)

// openAt opens a store on url whose clock reads storetest.Start until set.
func openAt(t testing.TB, url string, now *atomic.Pointer[time.Time]) *Store {
	t.Helper()
	s, err := Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	s.Now = func() time.Time { return *now.Load() }
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func openTest(t testing.TB) (*Store, func(time.Time)) {
	t.Helper()
	var now atomic.Pointer[time.Time]
	setNow := func(at time.Time) { now.Store(&at) }
	setNow(storetest.Start)
	return openAt(t, pgtest.NewSchema(t), &now), setNow
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (storetest.Store, func(time.Time)) {
		return openTest(t)
	})
}

func TestSharedStore(t *testing.T) {
	storetest.RunShared(t, func(t *testing.T) (a, b storetest.Store, setNow func(time.Time)) {
		var now atomic.Pointer[time.Time]
		setNow = func(at time.Time) { now.Store(&at) }
		setNow(storetest.Start)
		url := pgtest.NewSchema(t)
		return openAt(t, url, &now), openAt(t, url, &now), setNow
	})
}

// BenchmarkCaptureParallel stores one new visitor's lead per operation
// from many goroutines, as concurrent requests do: batches form in the
// writer.
func BenchmarkCaptureParallel(b *testing.B) {
	s, _ := openTest(b)
	s.Now = time.Now
	ch := &leadwire.Channel{Name: "Bench"}
	if err := s.CreateChannel(context.Background(), ch); err != nil {
		b.Fatal(err)
	}
	var n atomic.Int64
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			p := leadwire.Payload{FirstName: "Jordan", Email: fmt.Sprintf("visitor-%d@example.com", i),
				PhoneNumber: fmt.Sprintf("+1214%07d", i), Note: "Is the open house on Saturday still on?"}
			p.Normalize()
			_, _, err := s.CaptureLeads(context.Background(), &leadwire.Capture{ChannelID: ch.ID,
				IdempotencyKey: fmt.Sprint("bench-", i), RequestHash: "h", Leads: []*leadwire.Lead{{Payload: p, Raw: []byte(`{}`)}}})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// TestOneDefaultChannel: servers starting together on an empty database
// agree on one default channel.
func TestOneDefaultChannel(t *testing.T) {
	var now atomic.Pointer[time.Time]
	at := storetest.Start
	now.Store(&at)
	url := pgtest.NewSchema(t)
	stores := []*Store{openAt(t, url, &now), openAt(t, url, &now), openAt(t, url, &now)}
	ids := make([]string, len(stores))
	var wg sync.WaitGroup
	for i, s := range stores {
		wg.Go(func() {
			c, _, err := s.EnsureDefaultChannel(context.Background())
			if err != nil {
				t.Error(err)
				return
			}
			ids[i] = c.ID
		})
	}
	wg.Wait()
	channels, err := stores[0].FindChannels(context.Background())
	if err != nil || len(channels) != 1 || ids[0] != channels[0].ID || ids[1] != ids[0] || ids[2] != ids[0] {
		t.Errorf("three servers starting together made channels %v and use %v; want one", dumpIDs(channels), ids)
	}
}

func dumpIDs(channels []*leadwire.Channel) []string {
	var ids []string
	for _, c := range channels {
		ids = append(ids, c.ID)
	}
	return ids
}
