package webhook_test

import (
	"encoding/json"
	"flag"
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
	"github.com/leadwire/leadwire/internal/delivertest"
)

var (
	latencyRate = flag.Int("delivery-rate", 0, "run TestCaptureToWebhookLatency at this many captures a second")
	latencyFor  = flag.Duration("delivery-for", 10*time.Second, "how long TestCaptureToWebhookLatency captures")
	latencyBad  = flag.String("delivery-beside", "500", "the second destination of TestCaptureToWebhookLatency: 500 (answers 500), hang (never answers) or none")
)

// TestCaptureToWebhookLatency measures the time from sending a capture to
// its webhook being received, at -delivery-rate captures a second for
// -delivery-for, beside a second destination that -delivery-beside says
// answers 500 to everything, never answers, or is not there:
//
//	go test ./deliver/webhook -run CaptureToWebhookLatency -delivery-rate 500 -delivery-beside hang -v
func TestCaptureToWebhookLatency(t *testing.T) {
	if *latencyRate <= 0 {
		t.Skip("give -delivery-rate to measure")
	}
	s := start(t, func(c *deliver.Config) { c.FirstRetry = deliver.DefaultFirstRetry })
	var (
		mu       sync.Mutex
		received = map[string]time.Time{} // lead id -> first received
	)
	fine := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		at := time.Now()
		var lead struct{ ID string }
		json.NewDecoder(r.Body).Decode(&lead)
		mu.Lock()
		if _, ok := received[lead.ID]; !ok {
			received[lead.ID] = at
		}
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer fine.Close()
	release := make(chan struct{})
	defer close(release)
	broken := delivertest.NewReceiver(t, func(n int, w http.ResponseWriter) {
		if *latencyBad == "hang" {
			<-release
		}
		w.WriteHeader(http.StatusInternalServerError)
	})
	addWebhook(t, s, fine.URL, "")
	if *latencyBad != "none" {
		addWebhook(t, s, broken.URL, "")
	}

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	url := s.URL + "/leads/channels/" + s.ChannelID + "/webhook"
	total := int(float64(*latencyRate) * latencyFor.Seconds())
	sent := make([]time.Time, total)
	ids := make([]string, total)
	captureTook := make([]time.Duration, total)
	delivertest.AtRate(*latencyRate, total, func(i int) {
		sent[i] = time.Now()
		body := fmt.Sprintf(`{"first_name":"Lead %d","email":"lead-%d@example.com","message":"bench"}`, i, i)
		res, err := client.Post(url, "application/json", strings.NewReader(body))
		if err != nil {
			t.Error(err)
			return
		}
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		captureTook[i] = time.Since(sent[i])
		var answer struct{ Data struct{ ID string } }
		if res.StatusCode != 200 || json.Unmarshal(raw, &answer) != nil {
			t.Errorf("capture: %d %s", res.StatusCode, raw)
			return
		}
		ids[i] = answer.Data.ID
	})
	deadline := time.Now().Add(30 * time.Second)
	var latencies []time.Duration
	for {
		latencies = latencies[:0]
		mu.Lock()
		for i, id := range ids {
			if at, ok := received[id]; ok {
				latencies = append(latencies, at.Sub(sent[i]))
			}
		}
		mu.Unlock()
		if len(latencies) == total || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(latencies) < total {
		t.Errorf("%d of %d leads reached the webhook", len(latencies), total)
	}
	c50, c99, _ := delivertest.Percentiles(captureTook)
	p50, p99, largest := delivertest.Percentiles(latencies)
	t.Logf("%d captures at %d/s beside a destination answering %s: capture answered p50 %s p99 %s; "+
		"capture to webhook received p50 %s p99 %s max %s; %d requests to the other destination",
		total, *latencyRate, *latencyBad, c50, c99, p50, p99, largest, len(broken.Wait(t, 0, time.Second)))
	var delivered int
	ds, _ := s.Store.FindDeliveries(t.Context(), leadwire.DeliveryFilter{Status: leadwire.DeliveryDelivered})
	delivered = len(ds)
	t.Logf("%d deliveries delivered", delivered)
}
