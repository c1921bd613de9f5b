package rechat_test

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/internal/testserver"
	"github.com/leadwire/leadwire/rechat"
	"github.com/leadwire/leadwire/server"
	"github.com/leadwire/leadwire/sqlite"
)

// newSdk returns an Sdk for apiURL with its outbox in dir (a new temp
// folder when empty), closed at the end of the test. Retries are slow so
// that only the test's own Flush and Close deliver the outbox.
func newSdk(t *testing.T, apiURL, dir string, edit ...func(*rechat.Settings)) *rechat.Sdk {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	s := rechat.Settings{
		APIURL: apiURL,
		OfflineSync: rechat.OfflineSyncSettings{
			Dir: dir, MinRetryDelay: time.Hour, PollInterval: time.Hour,
		},
	}
	for _, e := range edit {
		e(&s)
	}
	sdk, err := rechat.NewSdk(s)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		sdk.Close(ctx)
	})
	return sdk
}

// mustQueue captures a lead with email on ch and fails the test unless the
// API could not take it and the lead was queued in the outbox.
func mustQueue(t *testing.T, sdk *rechat.Sdk, ch rechat.Channel, email string) *rechat.CaptureResult {
	t.Helper()
	res, err := sdk.Leads.Capture(context.Background(), ch, rechat.Lead{Email: email})
	if err != nil || !res.Queued {
		t.Fatalf("capture of %q = %+v, %v; want it queued", email, res, err)
	}
	return res
}

// deadURL is the address of a port nothing listens on: connections are
// refused.
func deadURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

// recorder is a proxy in front of the real server's handler that records
// the Idempotency-Key of every request it passes on.
type recorder struct {
	mu   sync.Mutex
	keys []string
	next http.Handler
}

func (rc *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rc.mu.Lock()
	rc.keys = append(rc.keys, r.Header.Get("Idempotency-Key"))
	rc.mu.Unlock()
	rc.next.ServeHTTP(w, r)
}

func (rc *recorder) Keys() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]string(nil), rc.keys...)
}

// startRecorder starts a recorder in front of s on its own listener.
func startRecorder(t *testing.T, s *testserver.Server) (*recorder, string) {
	t.Helper()
	rc := &recorder{next: s.Handler}
	hs := httptest.NewServer(rc)
	t.Cleanup(hs.Close)
	return rc, hs.URL
}

// startLossy starts a front for s's real handler that records every
// Idempotency-Key and, while lose is set, lets the handler commit each
// request and then cuts the connection before the answer leaves: the
// client cannot tell whether the request was applied.
func startLossy(t *testing.T, s *testserver.Server) (lose *atomic.Bool, rc *recorder, url string) {
	t.Helper()
	lose = new(atomic.Bool)
	rc = &recorder{next: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !lose.Load() {
			s.Handler.ServeHTTP(w, r)
			return
		}
		s.Handler.ServeHTTP(httptest.NewRecorder(), r)
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		conn.Close()
	})}
	hs := httptest.NewServer(rc)
	t.Cleanup(hs.Close)
	return lose, rc, hs.URL
}

// leadByEmail returns the only stored lead with email, failing when there
// is none or more than one.
func leadByEmail(t *testing.T, s *testserver.Server, email string) *leadwire.Lead {
	t.Helper()
	var found []*leadwire.Lead
	for _, l := range s.Leads(t) {
		if l.Payload.Email == email {
			found = append(found, l)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d leads with email %s, want 1", len(found), email)
	}
	return found[0]
}

// exampleAPI is a real leadwire server for the runnable examples, which
// cannot take a *testing.T: the real handler over a SQLite file in a new
// temporary folder, on loopback.
type exampleAPI struct {
	URL       string // base URL of the API
	ChannelID string // the "Website" channel every new database starts with
	OutboxDir string // a folder for the Sdk's outbox
	stop      func()
}

// startExampleAPI starts an exampleAPI; Stop stops it and removes its
// files. Failures panic: an example has no test to fail.
func startExampleAPI() *exampleAPI {
	dir, err := os.MkdirTemp("", "rechat-example-")
	if err != nil {
		panic(err)
	}
	store, err := sqlite.Open(filepath.Join(dir, "leadwire.db"))
	if err != nil {
		panic(err)
	}
	ch, _, err := leadwire.EnsureDefaultChannel(context.Background(), store)
	if err != nil {
		panic(err)
	}
	hs := httptest.NewServer(server.New(server.Config{
		Leads: store, Channels: store, DemoChannelID: ch.ID,
		Logger: slog.New(slog.DiscardHandler),
	}))
	return &exampleAPI{
		URL: hs.URL, ChannelID: ch.ID, OutboxDir: filepath.Join(dir, "outbox"),
		stop: func() {
			hs.Close()
			store.Close()
			os.RemoveAll(dir)
		},
	}
}

// Stop stops the server and removes its database and outbox.
func (a *exampleAPI) Stop() { a.stop() }
