// Package delivertest runs a real leadwire server with a dispatcher
// delivering its leads, and receivers on loopback standing in for the
// destinations, for the tests of the deliver packages.
package delivertest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/deliver"
	"github.com/leadwire/leadwire/internal/testserver"
)

// Start starts a leadwire server and a dispatcher delivering its leads
// with deliverers, retrying fast; configure, when given, changes the
// dispatcher's configuration.
func Start(t *testing.T, deliverers map[string]deliver.Deliverer, configure ...func(*deliver.Config)) *testserver.Server {
	t.Helper()
	s := testserver.Start(t)
	cfg := deliver.Config{
		Deliveries: s.Store, Leads: s.Store, Deliverers: deliverers,
		FirstRetry: 20 * time.Millisecond, Poll: 10 * time.Millisecond, Timeout: 2 * time.Second,
	}
	for _, c := range configure {
		c(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { deliver.New(cfg).Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done }) // before the store closes
	return s
}

// AddDestination stores d and returns it with its id and secret.
func AddDestination(t *testing.T, s *testserver.Server, d leadwire.Destination) *leadwire.Destination {
	t.Helper()
	if err := s.Store.CreateDestination(context.Background(), &d); err != nil {
		t.Fatal(err)
	}
	return &d
}

// Capture posts a lead to a channel and returns the "data" of the answer.
func Capture(t *testing.T, s *testserver.Server, channelID, body string) json.RawMessage {
	t.Helper()
	res, err := http.Post(s.URL+"/leads/channels/"+channelID+"/webhook", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var answer struct{ Data json.RawMessage }
	if res.StatusCode != 200 || json.Unmarshal(raw, &answer) != nil {
		t.Fatalf("capture: %d %s", res.StatusCode, raw)
	}
	return answer.Data
}

// LeadID returns the id of a lead document.
func LeadID(t *testing.T, doc json.RawMessage) string {
	t.Helper()
	var d struct{ ID string }
	if err := json.Unmarshal(doc, &d); err != nil {
		t.Fatal(err)
	}
	return d.ID
}

// DeliveryOf returns the one delivery of a lead once it is no longer
// pending, or after 5 seconds.
func DeliveryOf(t *testing.T, s *testserver.Server, leadID string) *leadwire.Delivery {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		ds, err := s.Store.FindDeliveries(context.Background(), leadwire.DeliveryFilter{LeadID: leadID})
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) != 1 {
			t.Fatalf("lead %s has %d deliveries, want 1", leadID, len(ds))
		}
		if ds[0].Status != leadwire.DeliveryPending || time.Now().After(deadline) {
			return ds[0]
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Received is one request a Receiver got.
type Received struct {
	Header http.Header
	Body   []byte
	At     time.Time
}

// Receiver stands in for a destination on loopback: Answer, when set,
// answers request number n (0, 1, ...); otherwise it answers 204.
type Receiver struct {
	URL    string
	answer func(n int, w http.ResponseWriter)

	mu   sync.Mutex
	got  []Received
	more chan struct{}
}

// NewReceiver starts a Receiver; t.Cleanup stops it.
func NewReceiver(t *testing.T, answer func(n int, w http.ResponseWriter)) *Receiver {
	r := &Receiver{answer: answer, more: make(chan struct{}, 1)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		h := req.Header.Clone()
		h.Set("X-Method", req.Method) // for the tests to check
		r.mu.Lock()
		n := len(r.got)
		r.got = append(r.got, Received{Header: h, Body: body, At: time.Now()})
		r.mu.Unlock()
		select {
		case r.more <- struct{}{}:
		default:
		}
		if r.answer == nil {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		r.answer(n, w)
	}))
	t.Cleanup(srv.Close)
	r.URL = srv.URL
	return r
}

// Wait waits until the receiver got n requests and returns all it got.
func (r *Receiver) Wait(t *testing.T, n int, within time.Duration) []Received {
	t.Helper()
	deadline := time.After(within)
	for {
		r.mu.Lock()
		got := append([]Received(nil), r.got...)
		r.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-r.more:
		case <-time.After(10 * time.Millisecond):
		case <-deadline:
			t.Fatalf("the receiver got %d requests within %s, want %d", len(got), within, n)
		}
	}
}

// SameJSON reports whether a and b hold the same JSON value.
func SameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("%v: %s", err, a)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	xb, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return string(xb) == string(yb)
}

// AtRate calls fn(0), fn(1), ... fn(total-1), each in a goroutine of its
// own, rate times a second, and waits for them all: an open-loop load,
// whose calls do not wait for the answers of the ones before.
func AtRate(rate, total int, fn func(i int)) {
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	for i := range total {
		<-tick.C
		wg.Go(func() { fn(i) })
	}
	wg.Wait()
}

// Percentiles returns the p50, p99 and largest of d, which it sorts.
func Percentiles(d []time.Duration) (p50, p99, largest time.Duration) {
	if len(d) == 0 {
		return 0, 0, 0
	}
	slices.Sort(d)
	at := func(p float64) time.Duration { return d[min(len(d)-1, int(float64(len(d))*p))] }
	return at(.5), at(.99), d[len(d)-1]
}
