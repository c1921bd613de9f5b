package webhook_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/deliver"
	"github.com/leadwire/leadwire/deliver/webhook"
	"github.com/leadwire/leadwire/internal/delivertest"
	"github.com/leadwire/leadwire/internal/testserver"
)

func start(t *testing.T, configure ...func(*deliver.Config)) *testserver.Server {
	t.Helper()
	return delivertest.Start(t, map[string]deliver.Deliverer{leadwire.KindWebhook: &webhook.Deliverer{}}, configure...)
}

func addWebhook(t *testing.T, s *testserver.Server, url, channelID string) *leadwire.Destination {
	t.Helper()
	return delivertest.AddDestination(t, s, leadwire.Destination{Kind: leadwire.KindWebhook, URL: url, ChannelID: channelID})
}

func TestDeliversSignedLeadDocument(t *testing.T) {
	s := start(t)
	r := delivertest.NewReceiver(t, nil)
	d := addWebhook(t, s, r.URL+"/hook", "")

	doc := delivertest.Capture(t, s, s.ChannelID, `{"first_name":"Ada","email":"ada@example.com","message":"Is it still available?"}`)
	got := r.Wait(t, 1, 5*time.Second)[0]

	if err := webhook.Verify(d.Secret, got.Header, got.Body, time.Now(), webhook.DefaultTolerance); err != nil {
		t.Errorf("signature: %v\nheaders %v", err, got.Header)
	}
	if !delivertest.SameJSON(t, got.Body, doc) {
		t.Errorf("the webhook's body is not the capture's lead document:\n got %s\nwant %s", got.Body, doc)
	}
	if ct := got.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	del := delivertest.DeliveryOf(t, s, delivertest.LeadID(t, doc))
	if del.Status != leadwire.DeliveryDelivered || del.Attempts != 1 {
		t.Errorf("delivery %+v, want delivered after one attempt", del)
	}
	if id := got.Header.Get(webhook.HeaderID); id != del.ID {
		t.Errorf("webhook-id %q, want the delivery id %q", id, del.ID)
	}
	// A tampered body or another secret does not verify.
	if webhook.Verify(d.Secret, got.Header, append(got.Body, ' '), time.Now(), webhook.DefaultTolerance) == nil {
		t.Error("a changed body verified")
	}
	if webhook.Verify(leadwire.NewWebhookSecret(), got.Header, got.Body, time.Now(), webhook.DefaultTolerance) == nil {
		t.Error("another secret verified")
	}
	if webhook.Verify(d.Secret, got.Header, got.Body, time.Now().Add(time.Hour), webhook.DefaultTolerance) == nil {
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
	s := start(t)
	r := delivertest.NewReceiver(t, func(n int, w http.ResponseWriter) {
		if n < 2 {
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, "database is down")
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	addWebhook(t, s, r.URL, "")
	id := delivertest.LeadID(t, delivertest.Capture(t, s, s.ChannelID, `{"email":"retry@example.com"}`))
	got := r.Wait(t, 3, 5*time.Second)
	for _, g := range got[1:] {
		if g.Header.Get(webhook.HeaderID) != got[0].Header.Get(webhook.HeaderID) {
			t.Errorf("a retry came with webhook-id %q, the first attempt with %q", g.Header.Get(webhook.HeaderID), got[0].Header.Get(webhook.HeaderID))
		}
	}
	del := delivertest.DeliveryOf(t, s, id)
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
	if n := len(r.Wait(t, 3, time.Second)); n != 3 {
		t.Errorf("the receiver got %d requests after accepting, want 3", n)
	}
}

func TestRefusalFailsAtOnceAndCanBeSentAgain(t *testing.T) {
	s := start(t)
	r := delivertest.NewReceiver(t, func(n int, w http.ResponseWriter) {
		if n == 0 {
			http.Error(w, "unknown field", http.StatusUnprocessableEntity)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	addWebhook(t, s, r.URL, "")
	id := delivertest.LeadID(t, delivertest.Capture(t, s, s.ChannelID, `{"email":"refused@example.com"}`))
	del := delivertest.DeliveryOf(t, s, id)
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
	got := r.Wait(t, 2, 5*time.Second)
	if got[1].Header.Get(webhook.HeaderID) != del.ID {
		t.Errorf("sent again with webhook-id %q, want %q", got[1].Header.Get(webhook.HeaderID), del.ID)
	}
	if del := delivertest.DeliveryOf(t, s, id); del.Status != leadwire.DeliveryDelivered {
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
	s := start(t)
	r := delivertest.NewReceiver(t, func(n int, w http.ResponseWriter) {
		if n == 0 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	addWebhook(t, s, r.URL, "")
	delivertest.Capture(t, s, s.ChannelID, `{"email":"later@example.com"}`)
	got := r.Wait(t, 2, 5*time.Second)
	if wait := got[1].At.Sub(got[0].At); wait < time.Second {
		t.Errorf("retried %s after a 429 with Retry-After: 1", wait)
	}
}

func TestRotatedSecretSignsBesideTheNewOne(t *testing.T) {
	s := start(t)
	r := delivertest.NewReceiver(t, nil)
	old := addWebhook(t, s, r.URL, "")
	rotated, err := s.Store.RotateSecret(context.Background(), old.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rotated.Secret == old.Secret || rotated.PreviousSecret != old.Secret {
		t.Fatalf("rotated %+v", rotated)
	}
	delivertest.Capture(t, s, s.ChannelID, `{"email":"rotate@example.com"}`)
	got := r.Wait(t, 1, 5*time.Second)[0]
	if n := len(strings.Fields(got.Header.Get(webhook.HeaderSignature))); n != 2 {
		t.Errorf("%d signatures during the rotation, want 2: %q", n, got.Header.Get(webhook.HeaderSignature))
	}
	for _, secret := range []string{old.Secret, rotated.Secret} {
		if err := webhook.Verify(secret, got.Header, got.Body, time.Now(), webhook.DefaultTolerance); err != nil {
			t.Errorf("during the rotation: %v", err)
		}
	}
	if rotated.Secrets(time.Now().Add(leadwire.SecretGrace + time.Second))[0] != rotated.Secret ||
		len(rotated.Secrets(time.Now().Add(leadwire.SecretGrace+time.Second))) != 1 {
		t.Error("the previous secret still signs after the grace")
	}
}

func TestChannelDestinationGetsOnlyItsChannel(t *testing.T) {
	s := start(t)
	other := s.NewChannel(t, leadwire.Channel{Name: "Zillow"})
	all, mine := delivertest.NewReceiver(t, nil), delivertest.NewReceiver(t, nil)
	addWebhook(t, s, all.URL, "")
	addWebhook(t, s, mine.URL, other)
	delivertest.Capture(t, s, s.ChannelID, `{"email":"website@example.com"}`)
	doc := delivertest.Capture(t, s, other, `{"email":"zillow@example.com"}`)
	all.Wait(t, 2, 5*time.Second)
	got := mine.Wait(t, 1, 5*time.Second)
	time.Sleep(100 * time.Millisecond)
	if got = mine.Wait(t, 1, time.Second); len(got) != 1 || !delivertest.SameJSON(t, got[0].Body, doc) {
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
			delivertest.Capture(t, s, s.ChannelID, fmt.Sprintf(`{"email":"lead%d@example.com"}`, i))
		}
		return time.Since(began)
	}
	alone := captureAll()

	release := make(chan struct{})
	defer close(release)
	hanging := delivertest.NewReceiver(t, func(n int, w http.ResponseWriter) { <-release })
	fine := delivertest.NewReceiver(t, nil)
	addWebhook(t, s, hanging.URL, "")
	addWebhook(t, s, fine.URL, "")
	beside := captureAll()
	fine.Wait(t, leads, 5*time.Second)
	if beside > 2*alone+time.Second {
		t.Errorf("%d captures took %s beside a hanging destination, %s without destinations", leads, beside, alone)
	}
	time.Sleep(100 * time.Millisecond)
	if n := len(hanging.Wait(t, 1, time.Second)); n != deliver.DefaultPerDestination {
		t.Errorf("%d attempts in flight to the hanging destination, want %d", n, deliver.DefaultPerDestination)
	}
}

func TestSpamLeadIsDeliveredOnlyOnceMarkedOtherwise(t *testing.T) {
	s := start(t)
	r := delivertest.NewReceiver(t, nil)
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
	got := r.Wait(t, 1, 5*time.Second)
	if !strings.Contains(string(got[0].Body), id) {
		t.Errorf("delivered %s, want lead %s", got[0].Body, id)
	}
	if del := delivertest.DeliveryOf(t, s, id); del.Status != leadwire.DeliveryDelivered {
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

func TestMetricsCountAttempts(t *testing.T) {
	s := start(t)
	r := delivertest.NewReceiver(t, nil)
	addWebhook(t, s, r.URL, "")
	id := delivertest.LeadID(t, delivertest.Capture(t, s, s.ChannelID, `{"email":"metrics@example.com"}`))
	delivertest.DeliveryOf(t, s, id)
	res, err := http.Get(s.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	for _, want := range []string{`leadwire_delivery_attempts_total{kind="webhook",outcome="delivered"}`,
		`leadwire_delivery_attempt_duration_seconds_count{kind="webhook"}`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
