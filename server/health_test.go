package server_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/leadwire/leadwire/internal/testserver"
)

// waitHealthz polls /healthz until it answers status, for up to a few
// seconds (its answer is kept for one), and returns the last answer.
func waitHealthz(t *testing.T, s *testserver.Server, status int) answer {
	t.Helper()
	var a answer
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if a = do(t, "GET", s.URL+"/healthz", "", ""); a.status == status {
			return a
		}
	}
	t.Fatalf("/healthz kept answering %d %v, want %d", a.status, a.body, status)
	return a
}

// wantUnavailable checks a 503 answer: the error code, a message naming
// the fault, and when to come back.
func wantUnavailable(t *testing.T, what string, a answer, message string) {
	t.Helper()
	if a.status != http.StatusServiceUnavailable || a.body["code"] != "unavailable" ||
		!strings.Contains(str(a.body["message"]), message) || a.header.Get("Retry-After") == "" {
		t.Errorf("%s: %d %v Retry-After %q, want 503 unavailable with %q and a Retry-After",
			what, a.status, a.body, a.header.Get("Retry-After"), message)
	}
}

func TestHealthzAndCapturesWhenTheDatabaseIsDeleted(t *testing.T) {
	s := testserver.Start(t)
	if a := waitHealthz(t, s, http.StatusOK); a.data()["status"] != "ok" {
		t.Errorf("healthz = %v", a.body)
	}
	if a := do(t, "POST", webhook(s, s.ChannelID), "application/json", `{"email":"before@example.com"}`); a.status != http.StatusOK {
		t.Fatalf("capture before: %d %v", a.status, a.body)
	}

	files, err := filepath.Glob(filepath.Join(filepath.Dir(s.DB), "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("database files: %v %v", files, err)
	}
	if err := os.RemoveAll(filepath.Dir(s.DB)); err != nil {
		t.Fatal(err)
	}
	a := do(t, "POST", webhook(s, s.ChannelID), "application/json", `{"email":"after@example.com"}`,
		"Idempotency-Key", "after-1")
	wantUnavailable(t, "capture into a deleted database", a, "deleted")
	wantUnavailable(t, "healthz", waitHealthz(t, s, http.StatusServiceUnavailable), "deleted")
}

// TestHeaderLimit: headers up to 48 KB are read, a megabyte is a 431.
func TestHeaderLimit(t *testing.T) {
	s := testserver.Start(t)
	<-s.Store.Ready() // starting, /healthz answers 503
	for _, tt := range []struct {
		size   int
		status int
	}{
		{1 << 10, http.StatusOK},
		{48 << 10, http.StatusOK},
		{900 << 10, http.StatusRequestHeaderFieldsTooLarge},
	} {
		a := do(t, "GET", s.URL+"/healthz", "", "", "X-Padding", strings.Repeat("a", tt.size))
		if a.status != tt.status {
			t.Errorf("a %d-byte header: %d, want %d", tt.size, a.status, tt.status)
		}
	}
}
