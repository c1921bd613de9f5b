package webhook_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/deliver"
	"github.com/leadwire/leadwire/deliver/webhook"
	"github.com/leadwire/leadwire/internal/testserver"
)

// received is one request a receiver got.
type received struct {
	header http.Header
	body   []byte
	at     time.Time
}

// receiver is a webhook receiver on loopback: answer decides the status
// and headers of request number n (0, 1, ...).
type receiver struct {
	URL    string
	answer func(n int, w http.ResponseWriter)

	mu   sync.Mutex
	got  []received
	more chan struct{}
}

func newReceiver(t *testing.T, answer func(n int, w http.ResponseWriter)) *receiver {
	r := &receiver{answer: answer, more: make(chan struct{}, 1000)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		n := len(r.got)
		r.got = append(r.got, received{header: req.Header.Clone(), body: body, at: time.Now()})
		r.mu.Unlock()
		r.more <- struct{}{}
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

// wait waits until the receiver got n requests and returns them.
func (r *receiver) wait(t *testing.T, n int, within time.Duration) []received {
	t.Helper()
	deadline := time.After(within)
	for {
		r.mu.Lock()
		got := append([]received(nil), r.got...)
		r.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-r.more:
		case <-deadline:
			t.Fatalf("the receiver got %d requests within %s, want %d", len(got), within, n)
		}
	}
}

// start starts a leadwire server and a dispatcher delivering its leads to
// webhooks, with fast retries.
func start(t *testing.T, configure func(*deliver.Config)) *testserver.Server {
	t.Helper()
	s := testserver.Start(t)
	cfg := deliver.Config{
		Deliveries: s.Store, Leads: s.Store,
		Deliverers: map[string]deliver.Deliverer{leadwire.KindWebhook: &webhook.Deliverer{}},
		FirstRetry: 20 * time.Millisecond, Poll: 10 * time.Millisecond, Timeout: 2 * time.Second,
	}
	if configure != nil {
		configure(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { deliver.New(cfg).Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done }) // before the store closes
	return s
}

func addWebhook(t *testing.T, s *testserver.Server, url, channelID string) *leadwire.Destination {
	t.Helper()
	d := &leadwire.Destination{Kind: leadwire.KindWebhook, URL: url, ChannelID: channelID}
	if err := s.Store.CreateDestination(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	return d
}

// capture posts a lead to a channel and returns the "data" of the answer.
func capture(t *testing.T, s *testserver.Server, channelID, body string) json.RawMessage {
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

func leadID(t *testing.T, doc json.RawMessage) string {
	t.Helper()
	var d struct{ ID string }
	if err := json.Unmarshal(doc, &d); err != nil {
		t.Fatal(err)
	}
	return d.ID
}

func sameJSON(t *testing.T, a, b []byte) bool {
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

// deliveryOf returns the one delivery of a lead once it is no longer
// pending.
func deliveryOf(t *testing.T, s *testserver.Server, leadID string) *leadwire.Delivery {
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

func TestDeliversSignedLeadDocument(t *testing.T) {
	s := start(t, nil)
	r := newReceiver(t, nil)
	d := addWebhook(t, s, r.URL+"/hook", "")

	doc := capture(t, s, s.ChannelID, `{"first_name":"Ada","email":"ada@example.com","message":"Is it still available?"}`)
	got := r.wait(t, 1, 5*time.Second)[0]

	if err := webhook.Verify(d.Secret, got.header, got.body, time.Now(), webhook.DefaultTolerance); err != nil {
		t.Errorf("signature: %v\nheaders %v", err, got.header)
	}
	if !sameJSON(t, got.body, doc) {
		t.Errorf("the webhook's body is not the capture's lead document:\n got %s\nwant %s", got.body, doc)
	}
	if ct := got.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	del := deliveryOf(t, s, leadID(t, doc))
	if del.Status != leadwire.DeliveryDelivered || del.Attempts != 1 {
		t.Errorf("delivery %+v, want delivered after one attempt", del)
	}
	if id := got.header.Get(webhook.HeaderID); id != del.ID {
		t.Errorf("webhook-id %q, want the delivery id %q", id, del.ID)
	}
	// A tampered body or another secret does not verify.
	if webhook.Verify(d.Secret, got.header, append(got.body, ' '), time.Now(), webhook.DefaultTolerance) == nil {
		t.Error("a changed body verified")
	}
	if webhook.Verify(leadwire.NewWebhookSecret(), got.header, got.body, time.Now(), webhook.DefaultTolerance) == nil {
		t.Error("another secret verified")
	}
	if webhook.Verify(d.Secret, got.header, got.body, time.Now().Add(time.Hour), webhook.DefaultTolerance) == nil {
		t.Error("an hour-old message verified")
	}
	attempts, err := s.Store.FindAttempts(context.Background(), del.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(attempts) != 1 || attempts[0].StatusCode != http.StatusNoContent || attempts[0].Error != "" {
		t.Errorf("attempts %+v", attempts)
	}
}

func TestRetriesUnderTheSameIDUntilAccepted(t *testing.T) {
	s := start(t, nil)
	r := newReceiver(t, func(n int, w http.ResponseWriter) {
		if n < 2 {
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, "database is down")
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	addWebhook(t, s, r.URL, "")
	id := leadID(t, capture(t, s, s.ChannelID, `{"email":"retry@example.com"}`))
	got := r.wait(t, 3, 5*time.Second)
	for _, g := range got[1:] {
		if g.header.Get(webhook.HeaderID) != got[0].header.Get(webhook.HeaderID) {
			t.Errorf("a retry came with webhook-id %q, the first attempt with %q", g.header.Get(webhook.HeaderID), got[0].header.Get(webhook.HeaderID))
		}
	}
	del := deliveryOf(t, s, id)
	if del.Status != leadwire.DeliveryDelivered || del.Attempts != 3 {
		t.Fatalf("delivery %+v, want delivered after three attempts", del)
	}
	attempts, err := s.Store.FindAttempts(context.Background(), del.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(attempts) != 3 || attempts[0].StatusCode != 500 || attempts[0].Response != "database is down" || attempts[2].StatusCode != 200 {
		t.Errorf("attempts %+v", attempts)
	}
	time.Sleep(100 * time.Millisecond)
	if n := len(r.wait(t, 3, time.Second)); n != 3 {
		t.Errorf("the receiver got %d requests after accepting, want 3", n)
	}
}

func TestRefusalFailsAtOnceAndCanBeSentAgain(t *testing.T) {
	s := start(t, nil)
	r := newReceiver(t, func(n int, w http.ResponseWriter) {
		if n == 0 {
			http.Error(w, "unknown field", http.StatusUnprocessableEntity)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	addWebhook(t, s, r.URL, "")
	id := leadID(t, capture(t, s, s.ChannelID, `{"email":"refused@example.com"}`))
	del := deliveryOf(t, s, id)
	if del.Status != leadwire.DeliveryFailed || del.Attempts != 1 || !strings.Contains(del.LastError, "422") {
		t.Fatalf("delivery %+v, want failed after one attempt, saying 422", del)
	}
	failed, err := s.Store.FindDeliveries(context.Background(), leadwire.DeliveryFilter{Status: leadwire.DeliveryFailed})
	if err != nil || len(failed) != 1 || failed[0].ID != del.ID {
		t.Fatalf("failed deliveries %v, %v", failed, err)
	}
	if err := s.Store.RetryDelivery(context.Background(), del.ID); err != nil {
		t.Fatal(err)
	}
	got := r.wait(t, 2, 5*time.Second)
	if got[1].header.Get(webhook.HeaderID) != del.ID {
		t.Errorf("sent again with webhook-id %q, want %q", got[1].header.Get(webhook.HeaderID), del.ID)
	}
	if del := deliveryOf(t, s, id); del.Status != leadwire.DeliveryDelivered {
		t.Errorf("after retry: %+v", del)
	}
	if err := s.Store.RetryDelivery(context.Background(), del.ID); leadwire.ErrorCode(err) != leadwire.ECONFLICT {
		t.Errorf("retrying a delivered delivery: %v, want a conflict", err)
	}
	if err := s.Store.RetryDelivery(context.Background(), "no-such-id"); leadwire.ErrorCode(err) != leadwire.ENOTFOUND {
		t.Errorf("retrying an unknown delivery: %v, want not found", err)
	}
}

func TestHonoursRetryAfter(t *testing.T) {
	s := start(t, nil)
	r := newReceiver(t, func(n int, w http.ResponseWriter) {
		if n == 0 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	addWebhook(t, s, r.URL, "")
	capture(t, s, s.ChannelID, `{"email":"later@example.com"}`)
	got := r.wait(t, 2, 5*time.Second)
	if wait := got[1].at.Sub(got[0].at); wait < time.Second {
		t.Errorf("retried %s after a 429 with Retry-After: 1", wait)
	}
}

func TestRotatedSecretSignsBesideTheNewOne(t *testing.T) {
	s := start(t, nil)
	r := newReceiver(t, nil)
	old := addWebhook(t, s, r.URL, "")
	rotated, err := s.Store.RotateSecret(context.Background(), old.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rotated.Secret == old.Secret || rotated.PreviousSecret != old.Secret {
		t.Fatalf("rotated %+v", rotated)
	}
	capture(t, s, s.ChannelID, `{"email":"rotate@example.com"}`)
	got := r.wait(t, 1, 5*time.Second)[0]
	if n := len(strings.Fields(got.header.Get(webhook.HeaderSignature))); n != 2 {
		t.Errorf("%d signatures during the rotation, want 2: %q", n, got.header.Get(webhook.HeaderSignature))
	}
	for _, secret := range []string{old.Secret, rotated.Secret} {
		if err := webhook.Verify(secret, got.header, got.body, time.Now(), webhook.DefaultTolerance); err != nil {
			t.Errorf("during the rotation: %v", err)
		}
	}
	if rotated.Secrets(time.Now().Add(leadwire.SecretGrace + time.Second))[0] != rotated.Secret ||
		len(rotated.Secrets(time.Now().Add(leadwire.SecretGrace+time.Second))) != 1 {
		t.Error("the previous secret still signs after the grace")
	}
}

func TestChannelDestinationGetsOnlyItsChannel(t *testing.T) {
	s := start(t, nil)
	other := s.NewChannel(t, leadwire.Channel{Name: "Zillow"})
	all, mine := newReceiver(t, nil), newReceiver(t, nil)
	addWebhook(t, s, all.URL, "")
	addWebhook(t, s, mine.URL, other)
	capture(t, s, s.ChannelID, `{"email":"website@example.com"}`)
	doc := capture(t, s, other, `{"email":"zillow@example.com"}`)
	all.wait(t, 2, 5*time.Second)
	got := mine.wait(t, 1, 5*time.Second)
	time.Sleep(100 * time.Millisecond)
	if got = mine.wait(t, 1, time.Second); len(got) != 1 || !sameJSON(t, got[0].body, doc) {
		t.Errorf("the channel's destination got %d leads", len(got))
	}
}

func TestHangingDestinationSlowsNeitherCaptureNorOthers(t *testing.T) {
	// Attempts outlast the test: the hanging destination holds its
	// attempts in flight throughout.
	s := start(t, func(c *deliver.Config) { c.Timeout = time.Minute })
	const leads = 40
	captureAll := func() time.Duration {
		began := time.Now()
		for i := range leads {
			capture(t, s, s.ChannelID, fmt.Sprintf(`{"email":"lead%d@example.com"}`, i))
		}
		return time.Since(began)
	}
	alone := captureAll()

	release := make(chan struct{})
	defer close(release)
	hanging := newReceiver(t, func(n int, w http.ResponseWriter) { <-release })
	fine := newReceiver(t, nil)
	addWebhook(t, s, hanging.URL, "")
	addWebhook(t, s, fine.URL, "")
	beside := captureAll()
	fine.wait(t, leads, 5*time.Second)
	if beside > 2*alone+time.Second {
		t.Errorf("%d captures took %s beside a hanging destination, %s without destinations", leads, beside, alone)
	}
	time.Sleep(100 * time.Millisecond)
	if n := len(hanging.wait(t, 1, time.Second)); n != deliver.DefaultPerDestination {
		t.Errorf("%d attempts in flight to the hanging destination, want %d", n, deliver.DefaultPerDestination)
	}
}

func TestSpamLeadIsDeliveredOnlyOnceMarkedOtherwise(t *testing.T) {
	s := start(t, nil)
	r := newReceiver(t, nil)
	addWebhook(t, s, r.URL, "")
	ctx := context.Background()
	spam := &leadwire.Lead{Payload: leadwire.Payload{Email: "bot@example.com"}, Raw: json.RawMessage(`{}`), Status: leadwire.StatusSpam}
	leads, _, err := s.Store.CaptureLeads(ctx, &leadwire.Capture{ChannelID: s.ChannelID, Leads: []*leadwire.Lead{spam}})
	if err != nil {
		t.Fatal(err)
	}
	id := leads[0].ID
	if ds, err := s.Store.FindDeliveries(ctx, leadwire.DeliveryFilter{LeadID: id}); err != nil || len(ds) != 0 {
		t.Fatalf("a spam lead has deliveries %v, %v", ds, err)
	}
	// As screening stores it: the status set in the same commit.
	setStatus := func(status string) {
		t.Helper()
		if _, err := s.Store.UpdateLead(ctx, id, leadwire.LeadUpdate{Status: &status}); err != nil {
			t.Fatal(err)
		}
	}
	setStatus(leadwire.StatusSpam)
	setStatus(leadwire.StatusNew)
	got := r.wait(t, 1, 5*time.Second)
	if !strings.Contains(string(got[0].body), id) {
		t.Errorf("delivered %s, want lead %s", got[0].body, id)
	}
	if del := deliveryOf(t, s, id); del.Status != leadwire.DeliveryDelivered {
		t.Errorf("delivery %+v", del)
	}
}

func FuzzVerify(f *testing.F) {
	secret := leadwire.NewWebhookSecret()
	body := []byte(`{"id":"x"}`)
	now := time.Unix(1767225600, 0)
	good, err := webhook.Sign([]string{secret}, "msg_1", now.Unix(), body)
	if err != nil {
		f.Fatal(err)
	}
	f.Add("msg_1", "1767225600", good)
	f.Add("msg_1", "1767225600", "v1,"+strings.Repeat("A", 44)+" "+good)
	f.Add("", "x", "v2,abc v1, v1")
	f.Fuzz(func(t *testing.T, id, ts, sig string) {
		h := http.Header{}
		h.Set(webhook.HeaderID, id)
		h.Set(webhook.HeaderTimestamp, ts)
		h.Set(webhook.HeaderSignature, sig)
		err := webhook.Verify(secret, h, body, now, webhook.DefaultTolerance)
		// Only the signature Sign made verifies.
		if want, _ := webhook.Sign([]string{secret}, id, now.Unix(), body); err == nil &&
			(ts != "1767225600" || !strings.Contains(sig, want)) {
			t.Errorf("verified id %q ts %q sig %q", id, ts, sig)
		}
	})
}
