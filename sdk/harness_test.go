package sdk_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/internal/browser"
	"github.com/leadwire/leadwire/internal/testserver"
)

func TestMain(m *testing.M) { os.Exit(browser.Run(m)) }

// site is a website using the SDK: the real leadwire server behind a front
// that counts the requests it gets and can fail them, and a second server,
// on another origin, for the website's pages.
type site struct {
	t      *testing.T
	server *testserver.Server
	api    string // URL of the front; pages load the SDK from here
	web    *httptest.Server

	mu         sync.Mutex
	sent       map[string]int // Idempotency-Key -> POSTs that carried it
	posts      int
	failN      int // answer this many next POSTs with failStatus
	failStatus int
	lose       bool                     // let the failed POSTs reach the server first
	hold       func(*http.Request) bool // runs before a POST goes on; false drops it
	pages      map[string]string
	header     http.Header // headers of the last POST
}

func newSite(t *testing.T) *site {
	s := &site{t: t, server: testserver.Start(t), sent: map[string]int{}, pages: map[string]string{}}
	// These tests send forms the moment they are on the page, which the
	// time trap quarantines; internal/spamcorpus tests the SDK's screening.
	s.server.Unscreened(t, s.server.ChannelID)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			s.mu.Lock()
			s.posts++
			s.sent[r.Header.Get("Idempotency-Key")]++
			s.header = r.Header.Clone()
			fail, lose, hold := s.failStatus, s.lose, s.hold
			if s.failN--; s.failN < 0 {
				fail = 0
			}
			s.mu.Unlock()
			if hold != nil && !hold(r) {
				return
			}
			if fail != 0 && lose {
				s.server.Handler.ServeHTTP(httptest.NewRecorder(), r)
			}
			if fail != 0 {
				w.Header().Set("Access-Control-Allow-Origin", "*")
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(fail)
				fmt.Fprintf(w, `{"code":"failed_%d","message":"the front failed it with %d"}`, fail, fail)
				return
			}
		}
		s.server.Handler.ServeHTTP(w, r)
	}))
	t.Cleanup(api.Close)
	s.api = api.URL
	s.web = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		page, ok := s.pages[r.URL.Path]
		s.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Write([]byte(page))
	}))
	t.Cleanup(s.web.Close)
	return s
}

// page publishes a page at path that loads the SDK from the API server and
// runs `window.sdk = new Rechat.Sdk(settings)` after body. before runs
// ahead of the SDK script. The page records the queue events and warnings,
// and settle(promise) turns a promise into {ok} or {error}.
func (s *site) page(path, before, settings, body string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pages[path] = fmt.Sprintf(`<!doctype html>
<html><head><meta charset="utf-8"><title>website</title>
<script>
window.delivered = []; window.dropped = []; window.warnings = []
addEventListener('rechat:queue-delivered', e => delivered.push(e.detail))
addEventListener('rechat:queue-error', e => dropped.push({item: e.detail.item, error: {message: e.detail.error.message, status: e.detail.error.status, code: e.detail.error.code}}))
const warn = console.warn
console.warn = (...args) => { warnings.push(String(args[0])); warn(...args) }
window.settle = p => p.then(ok => ({ok}), e => ({error: {message: e.message, status: e.status, code: e.code}}))
%s
</script>
<script src="%s/sdk/rechat.min.js"></script>
</head><body>
%s
<script>window.sdk = new Rechat.Sdk(%s)</script>
</body></html>`, before, s.api, body, settings)
	return s.web.URL + path
}

// unknownChannel is a well-formed channel id that no server has.
const unknownChannel = "7c2f4f3e-8a7b-4d4e-9e53-1f1b2a3c4d5e"

// capture is the JS that captures a lead with email on the site's channel.
func capture(s *site, email string) string {
	return fmt.Sprintf(`sdk.Leads.capture({lead_channel: %s}, {email: %s})`, jsString(s.server.ChannelID), jsString(email))
}

// apiPattern matches the API calls, not the SDK script, so that a page can
// load while its API calls fail.
func (s *site) apiPattern() string { return s.api + "/leads/*" }

func (s *site) postCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.posts
}

func (s *site) sentWith(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sent[key]
}

// failNext makes the next n POSTs fail with status, before they reach
// the server.
func (s *site) failNext(n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failN, s.failStatus, s.lose = n, status, false
}

// loseNext makes the next n POSTs reach the server and then answers them
// with 503, as when the server's answer is lost on the way back.
func (s *site) loseNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failN, s.failStatus, s.lose = n, 503, true
}

// holdPosts runs hold on every POST before it goes on; a false result
// drops the request unanswered.
func (s *site) holdPosts(hold func(*http.Request) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hold = hold
}

// leads returns the stored leads, oldest first.
func (s *site) leads() []*leadwire.Lead {
	leads := s.server.Leads(s.t)
	slices.Reverse(leads)
	return leads
}

// waitLeads waits until the database holds n leads and returns them.
func (s *site) waitLeads(n int) []*leadwire.Lead {
	s.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		leads := s.leads()
		if len(leads) >= n || time.Now().After(deadline) {
			if len(leads) != n {
				s.t.Fatalf("the database holds %d leads, want %d", len(leads), n)
			}
			return leads
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// outcome is what settle() makes of a promise.
type outcome struct {
	OK    map[string]any `json:"ok"`
	Error *struct {
		Message string `json:"message"`
		Status  int    `json:"status"`
		Code    string `json:"code"`
	} `json:"error"`
}

func (o outcome) String() string { b, _ := json.Marshal(o); return string(b) }

func navigate(t *testing.T, tab context.Context, url string) {
	t.Helper()
	if err := chromedp.Do(tab, chromedp.Navigate(url)); err != nil {
		t.Fatalf("opening %s: %v", url, err)
	}
}

// eval runs js in the page, waits for the promise it returns and decodes
// the result.
func eval[T any](t *testing.T, tab context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(tab, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluating %s: %v", js, err)
	}
	return v
}

// settle runs a promise-returning expression through the page's settle().
func settle(t *testing.T, tab context.Context, js string) outcome {
	t.Helper()
	return eval[outcome](t, tab, "settle("+js+")")
}

// waitTrue waits until the expression is true in the page.
func waitTrue(t *testing.T, tab context.Context, js string) {
	t.Helper()
	if _, err := chromedp.Run(tab, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(15*time.Second), chromedp.WithPollingInterval(20*time.Millisecond))); err != nil {
		t.Fatalf("waiting for %s: %v", js, err)
	}
}

func setOffline(t *testing.T, tab context.Context, offline bool, pattern string) {
	t.Helper()
	if err := browser.SetOffline(tab, offline, pattern); err != nil {
		t.Fatal(err)
	}
}

// queued is how many items wait in the page's localStorage queue.
func queued(t *testing.T, tab context.Context) int {
	t.Helper()
	return eval[int](t, tab, `Object.keys(localStorage).filter(k => k.startsWith('rechat-sdk-queue ')).length`)
}

func jsString(s string) string { b, _ := json.Marshal(s); return string(b) }

// isUUID reports whether s is a random (version 4) UUID in its usual
// 36-character form.
func isUUID(s string) bool {
	u, err := uuid.Parse(s)
	return err == nil && len(s) == 36 && u.Version() == 4 && u.Variant() == uuid.RFC4122
}
