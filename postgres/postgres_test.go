package postgres

import (
	"context"
	"fmt"
	"strings"
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

// openWithChannel opens a store of its own with one channel, "Site".
func openWithChannel(t *testing.T) (*Store, func(time.Time), *leadwire.Channel) {
	t.Helper()
	s, setNow := openTest(t)
	ch := &leadwire.Channel{Name: "Site"}
	if err := s.CreateChannel(context.Background(), ch); err != nil {
		t.Fatal(err)
	}
	return s, setNow, ch
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

// TestBatchKeepsOthersOfARefusedCapture: a capture holding a text the
// database cannot store (NUL, which the HTTP layer refuses before) fails
// alone with EINVALID; the captures of its batch are stored.
func TestBatchKeepsOthersOfARefusedCapture(t *testing.T) {
	ctx := context.Background()
	s, _, ch := openWithChannel(t)
	var batch []*request
	for _, name := range []string{"Ann", "Bad\x00Name", "Bob"} {
		p, err := s.prepare(ctx, &leadwire.Capture{ChannelID: ch.ID, Leads: []*leadwire.Lead{{
			Payload: leadwire.Payload{FirstName: name, Email: strings.ToLower(name[:3]) + "@example.com"}, Raw: []byte(`{}`)}}})
		if err != nil {
			t.Fatal(err)
		}
		batch = append(batch, &request{ctx: ctx, c: p, done: make(chan error, 1)})
	}
	s.w.run(batch)
	for i, r := range batch {
		err := <-r.done
		switch {
		case i == 1 && leadwire.ErrorCode(err) != leadwire.EINVALID:
			t.Errorf("the capture holding NUL: %v, want EINVALID", err)
		case i != 1 && (err != nil || len(r.c.result) != 1):
			t.Errorf("capture %d of the batch: %v", i, err)
		}
	}
	leads, err := s.FindLeads(ctx, leadwire.LeadFilter{})
	if err != nil || len(leads) != 2 {
		t.Errorf("stored %d leads (%v), want the 2 others", len(leads), err)
	}
}
