package server_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/leadwire/leadwire/internal/testserver"
)

// TestMetricsCountCaptures reads /metrics in the Prometheus text format
// after a stored, a replayed and a refused capture.
func TestMetricsCountCaptures(t *testing.T) {
	s := testserver.Start(t)
	for _, c := range []struct{ body, key string }{
		{`{"email":"metrics@example.com"}`, "m-1"},
		{`{"email":"metrics@example.com"}`, "m-1"},
		{`{"email":`, ""},
	} {
		do(t, "POST", webhook(s, s.ChannelID), "application/json", c.body, "Idempotency-Key", c.key)
	}
	res, err := http.Get(s.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	text, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("/metrics: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	for _, want := range []string{
		`leadwire_captures_total{channel="` + s.ChannelID + `",result="ok"} 1`,
		`leadwire_captures_total{channel="` + s.ChannelID + `",result="replayed"} 1`,
		`leadwire_captures_total{channel="` + s.ChannelID + `",result="invalid"} 1`,
		"leadwire_capture_duration_seconds_count",
		`leadwire_commit_batch_size_count{store="sqlite"}`,
	} {
		if !strings.Contains(string(text), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
