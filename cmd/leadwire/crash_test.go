package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leadwire/leadwire/sqlite"
)

// TestCrashKeepsAcknowledgedLeads posts leads from 32 clients, kills the
// server with SIGKILL in the middle and checks after a restart that every
// lead that was answered 200 is on disk with its id, and that the
// database is intact.
func TestCrashKeepsAcknowledgedLeads(t *testing.T) {
	const (
		clients  = 32
		attempts = 1200 // posted in all, before and after the kill
		killAt   = 600  // acknowledged leads before the kill
	)
	db := filepath.Join(t.TempDir(), "crash.db")
	s := startServe(t, db)
	url := s.url + "/leads/channels/" + s.channel + "/webhook"

	var (
		next, acked atomic.Int64
		mu          sync.Mutex
		emailOf     = map[string]string{} // acknowledged lead id -> email
		killed      = make(chan struct{})
		killOnce    sync.Once
		wg          sync.WaitGroup
	)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := next.Add(1); n <= attempts; n = next.Add(1) {
				email := fmt.Sprintf("crash-%d@example.com", n)
				body := fmt.Sprintf(`{"first_name":"Lead %d","email":%q,"phone_number":"214555%04d","message":"crash test"}`, n, email, n)
				req, _ := http.NewRequest("POST", url, strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Idempotency-Key", fmt.Sprintf("crash-%d", n))
				res, err := client.Do(req)
				if err != nil {
					continue // the server is gone: this lead was never acknowledged
				}
				raw, _ := io.ReadAll(res.Body)
				res.Body.Close()
				var answer struct{ Data struct{ ID string } }
				if res.StatusCode != 200 || json.Unmarshal(raw, &answer) != nil || answer.Data.ID == "" {
					continue
				}
				mu.Lock()
				emailOf[answer.Data.ID] = email
				mu.Unlock()
				if acked.Add(1) >= killAt {
					killOnce.Do(func() {
						s.cmd.Process.Kill() // SIGKILL
						close(killed)
					})
				}
			}
		}()
	}
	wg.Wait()
	select {
	case <-killed:
	default:
		t.Fatalf("only %d leads acknowledged; the server was never killed", acked.Load())
	}
	<-s.exited
	t.Logf("%d of %d posted leads acknowledged before SIGKILL", len(emailOf), attempts)

	// Restart on the same file: every acknowledged lead is there.
	s = startServe(t, db)
	out, errOut, code := runCLI(t, "leads", "list", "--db", db, "--limit", "0", "--json")
	if code != 0 {
		t.Fatalf("leads list: %s", errOut)
	}
	var leads []struct {
		ID            string
		ParsedPayload struct{ Email string } `json:"parsed_payload"`
	}
	if err := json.Unmarshal([]byte(out), &leads); err != nil {
		t.Fatal(err)
	}
	stored := map[string]string{}
	for _, l := range leads {
		stored[l.ID] = l.ParsedPayload.Email
	}
	lost := 0
	for id, email := range emailOf {
		if stored[id] != email {
			lost++
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d acknowledged leads are missing after the crash", lost, len(emailOf))
	}
	t.Logf("after restart: %d leads on disk, all %d acknowledged ones among them", len(leads), len(emailOf)-lost)

	// The restarted server still captures, and the file is intact.
	s.capture(t, s.channel, `{"email":"after-crash@example.com"}`)
	store, err := sqlite.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := store.Check(t.Context()); err != nil {
		t.Errorf("integrity check after crash: %v", err)
	}
}
