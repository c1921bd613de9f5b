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
)

// TestCrashKeepsAcknowledgedLeads posts leads from 32 clients, kills the
// server with SIGKILL in the middle and checks after a restart that every
// lead that was answered 200 is on disk with its id, and that the
// database is intact. Then the clients send every lead again with its
// Idempotency-Key, as the SDKs' offline queues do: each is stored exactly
// once, and the acknowledged ones keep their ids.
func TestCrashKeepsAcknowledgedLeads(t *testing.T) {
	const (
		clients  = 32
		attempts = 1200 // posted in all, before and after the kill
		killAt   = 600  // acknowledged leads before the kill
	)
	db := filepath.Join(t.TempDir(), "crash.db")
	s := startServe(t, db)
	url := s.url + "/leads/channels/" + s.channel + "/webhook"

	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	emailOf := func(n int64) string { return fmt.Sprintf("crash-%d@example.com", n) }
	// post sends lead n and returns the id of the 200 answer, or "".
	post := func(url string, n int64) string {
		body := fmt.Sprintf(`{"first_name":"Lead %d","email":%q,"phone_number":"214555%04d","message":"crash test"}`, n, emailOf(n), n)
		req, _ := http.NewRequest("POST", url, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", fmt.Sprintf("crash-%d", n))
		res, err := client.Do(req)
		if err != nil {
			return "" // the server is gone: this lead was never acknowledged
		}
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		var answer struct{ Data struct{ ID string } }
		if res.StatusCode != 200 || json.Unmarshal(raw, &answer) != nil {
			return ""
		}
		return answer.Data.ID
	}
	// postAll posts leads 1 to attempts from the clients, calling done
	// with every answer.
	postAll := func(url string, done func(n int64, id string)) {
		var next atomic.Int64
		var wg sync.WaitGroup
		for range clients {
			wg.Go(func() {
				for n := next.Add(1); n <= attempts; n = next.Add(1) {
					done(n, post(url, n))
				}
			})
		}
		wg.Wait()
	}

	var (
		mu       sync.Mutex
		ackedID  = map[int64]string{} // lead number -> id of its 200 answer
		killed   = make(chan struct{})
		killOnce sync.Once
	)
	postAll(url, func(n int64, id string) {
		if id == "" {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		ackedID[n] = id
		if len(ackedID) >= killAt {
			killOnce.Do(func() {
				s.cmd.Process.Kill() // SIGKILL
				close(killed)
			})
		}
	})
	select {
	case <-killed:
	default:
		t.Fatalf("only %d leads acknowledged; the server was never killed", len(ackedID))
	}
	<-s.exited
	t.Logf("%d of %d posted leads acknowledged before SIGKILL", len(ackedID), attempts)

	// Restart on the same file: every acknowledged lead is there. The
	// channel takes the whole second round at once: over its flood limit,
	// which this test is not about.
	if _, errOut, code := runCLI(t, "channel", "update", "--db", db, "--channel", s.channel, "--disable", "channel_rate"); code != 0 {
		t.Fatalf("channel update: %s", errOut)
	}
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
	for n, id := range ackedID {
		if stored[id] != emailOf(n) {
			lost++
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d acknowledged leads are missing after the crash", lost, len(ackedID))
	}
	t.Logf("after restart: %d leads on disk, all %d acknowledged ones among them", len(leads), len(ackedID)-lost)

	// Every lead sent again is stored once: the acknowledged ones answer
	// with their first id, and no lead is stored twice.
	url = s.url + "/leads/channels/" + s.channel + "/webhook"
	var changed, failed atomic.Int64
	postAll(url, func(n int64, id string) {
		switch {
		case id == "":
			failed.Add(1)
		case ackedID[n] != "" && ackedID[n] != id:
			changed.Add(1)
		}
	})
	if failed.Load() > 0 || changed.Load() > 0 {
		t.Errorf("sending every lead again: %d failed, %d acknowledged leads came back with another id", failed.Load(), changed.Load())
	}
	out, errOut, code = runCLI(t, "leads", "list", "--db", db, "--limit", "0", "--json")
	if code != 0 {
		t.Fatalf("leads list: %s", errOut)
	}
	if err := json.Unmarshal([]byte(out), &leads); err != nil {
		t.Fatal(err)
	}
	if len(leads) != attempts {
		t.Errorf("after sending every lead again %d leads are stored, want exactly %d", len(leads), attempts)
	}

	// The restarted server still captures, and the file is intact.
	s.capture(t, s.channel, `{"email":"after-crash@example.com"}`)
	checkIntact(t, db)
}
