package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leadwire/leadwire/deliver/webhook"
)

// crashReceiver is a webhook receiver that records which lead came under
// which delivery id, and answers 500 to the requests refuse picks until
// recovered.
type crashReceiver struct {
	url       string
	refuse    func(n int64) bool
	recovered atomic.Bool
	requests  atomic.Int64

	mu        sync.Mutex
	secret    string
	leadOf    map[string]string   // delivery id -> lead id
	idsOf     map[string][]string // lead id -> delivery ids
	badSigned int
}

func newCrashReceiver(t *testing.T, refuse func(n int64) bool) *crashReceiver {
	c := &crashReceiver{refuse: refuse, leadOf: map[string]string{}, idsOf: map[string][]string{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if n := c.requests.Add(1); !c.recovered.Load() && c.refuse(n) {
			http.Error(w, "busy", http.StatusInternalServerError)
			return
		}
		var lead struct{ ID string }
		json.Unmarshal(body, &lead)
		id := r.Header.Get(webhook.HeaderID)
		c.mu.Lock()
		defer c.mu.Unlock()
		if webhook.Verify(c.secret, r.Header, body, time.Now(), webhook.DefaultTolerance) != nil {
			c.badSigned++
		}
		if _, seen := c.leadOf[id]; !seen {
			c.leadOf[id] = lead.ID
			c.idsOf[lead.ID] = append(c.idsOf[lead.ID], id)
		} else if c.leadOf[id] != lead.ID {
			t.Errorf("delivery %s came with lead %s and with lead %s", id, c.leadOf[id], lead.ID)
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	c.url = srv.URL
	return c
}

// missing returns how many of leads the receiver has not got.
func (c *crashReceiver) missing(leads []string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, id := range leads {
		if len(c.idsOf[id]) == 0 {
			n++
		}
	}
	return n
}

// TestCrashKeepsDeliveries kills the server with SIGKILL while deliveries
// are pending to two destinations, one answering 500 to every other
// request and one to all of them, and checks after a restart, both
// answering 200 again, that every lead that was answered 200 reaches both,
// signed, that each delivery id stands for one lead and that no lead came
// to one destination under two ids.
func TestCrashKeepsDeliveries(t *testing.T) {
	const (
		clients  = 16
		attempts = 400
		killAt   = 200 // acknowledged leads before the kill
	)
	receivers := []*crashReceiver{
		newCrashReceiver(t, func(n int64) bool { return n%2 == 0 }),
		newCrashReceiver(t, func(int64) bool { return true }),
	}
	db := filepath.Join(t.TempDir(), "deliveries.db")
	flags := []string{"--delivery-first-retry", "100ms", "--delivery-timeout", "1s"}
	s := startServe(t, db, flags...)
	for _, r := range receivers {
		out, errOut, code := runCLI(t, "destination", "add", "--db", db, "--kind", "webhook", "--url", r.url+"/leads")
		lines := strings.Fields(out)
		if code != 0 || len(lines) != 2 || !strings.HasPrefix(lines[1], "whsec_") {
			t.Fatalf("destination add: exit %d, %q %q", code, out, errOut)
		}
		r.mu.Lock()
		r.secret = lines[1]
		r.mu.Unlock()
	}

	client := &http.Client{Timeout: 10 * time.Second}
	post := func(n int64) string {
		body := fmt.Sprintf(`{"first_name":"Lead %d","email":"deliver-%d@example.com"}`, n, n)
		req, _ := http.NewRequest("POST", s.url+"/leads/channels/"+s.channel+"/webhook", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", fmt.Sprintf("deliver-%d", n))
		res, err := client.Do(req)
		if err != nil {
			return ""
		}
		defer res.Body.Close()
		var answer struct{ Data struct{ ID string } }
		if res.StatusCode != 200 || json.NewDecoder(res.Body).Decode(&answer) != nil {
			return ""
		}
		return answer.Data.ID
	}
	var (
		ackMu    sync.Mutex
		acked    []string
		killOnce sync.Once
		next     atomic.Int64
		wg       sync.WaitGroup
	)
	for range clients {
		wg.Go(func() {
			for n := next.Add(1); n <= attempts; n = next.Add(1) {
				id := post(n)
				if id == "" {
					continue
				}
				ackMu.Lock()
				if acked = append(acked, id); len(acked) >= killAt {
					killOnce.Do(func() { s.cmd.Process.Kill() })
				}
				ackMu.Unlock()
			}
		})
	}
	wg.Wait()
	<-s.exited
	t.Logf("%d leads acknowledged before SIGKILL; %d of them not yet at the first destination, %d at the second",
		len(acked), receivers[0].missing(acked), receivers[1].missing(acked))
	if receivers[0].missing(acked) == 0 {
		t.Fatalf("every lead was delivered before the kill: nothing was pending")
	}

	for _, r := range receivers {
		r.recovered.Store(true)
	}
	startServe(t, db, flags...)
	deadline := time.Now().Add(60 * time.Second)
	for _, r := range receivers {
		for r.missing(acked) > 0 {
			if time.Now().After(deadline) {
				t.Fatalf("%d of %d acknowledged leads never reached %s after the restart", r.missing(acked), len(acked), r.url)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	for i, r := range receivers {
		r.mu.Lock()
		for lead, ids := range r.idsOf {
			if len(ids) > 1 {
				t.Errorf("destination %d: lead %s came under %d delivery ids: %v", i, lead, len(ids), ids)
			}
		}
		if r.badSigned > 0 {
			t.Errorf("destination %d: %d requests were not signed with its secret", i, r.badSigned)
		}
		t.Logf("after restart, destination %d: all %d acknowledged leads delivered, %d leads in all, %d requests",
			i, len(acked), len(r.idsOf), r.requests.Load())
		r.mu.Unlock()
	}
}

// TestDeliveryCommands manages a destination and sends a refused delivery
// again from the command line, while the server runs.
func TestDeliveryCommands(t *testing.T) {
	var refuse atomic.Bool
	refuse.Store(true)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if refuse.Load() {
			http.Error(w, "this endpoint is gone", http.StatusGone)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer receiver.Close()
	db := filepath.Join(t.TempDir(), "commands.db")
	s := startServe(t, db)
	cli := func(args ...string) string {
		t.Helper()
		out, errOut, code := runCLI(t, append(args, "--db", db)...)
		if code != 0 {
			t.Fatalf("leadwire %v: exit %d: %s", args, code, errOut)
		}
		return out
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"destination", "add", "--kind", "ftp", "--url", receiver.URL}, `kind "ftp" is not one of webhook, rechat, followupboss, mail`},
		{[]string{"destination", "add", "--kind", "webhook", "--url", "example.com/hook"}, `url "example.com/hook" is not an http:// or https:// URL`},
		{[]string{"destination", "add", "--kind", "webhook", "--url", receiver.URL, "--channel", "nope"}, `channel "nope" not found`},
		{[]string{"destination", "remove", "nope"}, `destination "nope" not found`},
		{[]string{"destination", "remove"}, "give the id, as in leadwire destination remove ID"},
		{[]string{"deliveries", "retry", "nope"}, `delivery "nope" not found`},
		{[]string{"deliveries", "list", "--failed", "--status", "pending"}, "contradict"},
	} {
		_, errOut, code := runCLI(t, append(c.args, "--db", db)...)
		if code == 0 || !strings.Contains(errOut, c.want) {
			t.Errorf("leadwire %v: exit %d, %q; want an error saying %q", c.args, code, errOut, c.want)
		}
	}

	id := strings.Fields(cli("destination", "add", "--kind", "webhook", "--url", receiver.URL, "--channel", s.channel))[0]
	if out := cli("destination", "list"); !strings.Contains(out, id) || !strings.Contains(out, receiver.URL) || strings.Contains(out, "whsec_") {
		t.Errorf("destination list, without secrets:\n%s", out)
	}
	secret := cli("destination", "rotate-secret", id)
	if !strings.HasPrefix(secret, "whsec_") {
		t.Errorf("rotate-secret printed %q", secret)
	}

	lead := s.capture(t, s.channel, `{"email":"gone@example.com"}`)["id"].(string)
	var failed []struct {
		ID        string
		LeadID    string `json:"lead_id"`
		LastError string `json:"last_error"`
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(failed) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		if err := json.Unmarshal([]byte(cli("deliveries", "list", "--failed", "--json")), &failed); err != nil {
			t.Fatal(err)
		}
	}
	if len(failed) != 1 || failed[0].LeadID != lead || !strings.Contains(failed[0].LastError, "410") {
		t.Fatalf("deliveries list --failed: %+v", failed)
	}
	if out := cli("deliveries", "attempts", failed[0].ID); !strings.Contains(out, "410") || !strings.Contains(out, "this endpoint is gone") {
		t.Errorf("deliveries attempts:\n%s", out)
	}
	refuse.Store(false)
	cli("deliveries", "retry", failed[0].ID)
	deadline = time.Now().Add(10 * time.Second)
	for !strings.Contains(cli("deliveries", "list", "--status", "delivered"), failed[0].ID) {
		if time.Now().After(deadline) {
			t.Fatalf("the delivery sent again was not delivered:\n%s", cli("deliveries", "list"))
		}
		time.Sleep(20 * time.Millisecond)
	}
	cli("destination", "remove", id)
	if out := cli("deliveries", "list"); strings.Contains(out, failed[0].ID) {
		t.Errorf("a removed destination's deliveries are still listed:\n%s", out)
	}
}

func TestUserPauseAndResume(t *testing.T) {
	db := filepath.Join(t.TempDir(), "pause.db")
	if _, errOut, code := runCLIWith(t, "a long enough password\n", nil, "user", "create", "--db", db, "--email", "ann@example.com", "--password-stdin"); code != 0 {
		t.Fatalf("user create: %s", errOut)
	}
	for _, cmd := range []string{"pause", "resume"} {
		if _, errOut, code := runCLI(t, "user", cmd, "--db", db, "--email", "ANN@example.com"); code != 0 {
			t.Errorf("user %s: exit %d, %s", cmd, code, errOut)
		}
	}
	if _, errOut, code := runCLI(t, "user", "pause", "--db", db, "--email", "bob@example.com"); code == 0 || !strings.Contains(errOut, `no user has the email "bob@example.com"`) {
		t.Errorf("pausing an unknown user: exit %d, %q", code, errOut)
	}
}

func TestServeRefusesBadDeliveryFlags(t *testing.T) {
	db := filepath.Join(t.TempDir(), "flags.db")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--smtp-host", "smtp.example.com"}, "--smtp-from: give the sender address"},
		{[]string{"--smtp-starttls", "maybe"}, `--smtp-starttls "maybe" is not one of mandatory, opportunistic, none`},
		{[]string{"--delivery-timeout", "0s"}, "--delivery-timeout must be a positive duration"},
		{[]string{"--delivery-first-retry", "-1s"}, "--delivery-first-retry must be a positive duration"},
	} {
		_, errOut, code := runCLI(t, append([]string{"serve", "--db", db, "--addr", "127.0.0.1:0"}, c.args...)...)
		if code == 0 || !strings.Contains(errOut, c.want) {
			t.Errorf("serve %v: exit %d, %q; want an error saying %q", c.args, code, errOut, c.want)
		}
	}
}
