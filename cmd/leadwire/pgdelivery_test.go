//go:build linux

package main

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leadwire/leadwire/internal/pgtest"
)

// deliveredLine is the count of deliveries a server's /metrics reports.
var deliveredLine = regexp.MustCompile(`(?m)^leadwire_delivery_attempts_total\{kind="webhook",outcome="delivered"\} (\d+)$`)

// delivered returns how many deliveries the server s made.
func (s *served) delivered(t *testing.T) int {
	t.Helper()
	res, err := http.Get(s.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	m := deliveredLine.FindSubmatch(body)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// TestPostgresServersShareDeliveries: two servers on one PostgreSQL
// database take captures, half each, for a channel with two webhook
// destinations. Every lead reaches each receiver exactly once, signed,
// under one delivery id, and both servers deliver: the outbox is shared,
// and a delivery one server claimed is not sent by the other.
func TestPostgresServersShareDeliveries(t *testing.T) {
	const leads = 200
	db := pgtest.NewSchema(t)
	id, errOut, code := runCLI(t, "channel", "create", "--db", db, "--name", "Site")
	if code != 0 {
		t.Fatalf("channel create: %s", errOut)
	}
	channel := strings.TrimSpace(id)
	// The test's captures all come from one address.
	if _, errOut, code := runCLI(t, "channel", "update", "--db", db, "--channel", channel, "--screening", "off"); code != 0 {
		t.Fatalf("channel update: %s", errOut)
	}
	receivers := []*crashReceiver{
		newCrashReceiver(t, func(int64) bool { return false }),
		newCrashReceiver(t, func(int64) bool { return false }),
	}
	for _, r := range receivers {
		out, errOut, code := runCLI(t, "destination", "add", "--db", db, "--kind", "webhook", "--url", r.url+"/leads")
		lines := strings.Fields(out)
		if code != 0 || len(lines) != 2 {
			t.Fatalf("destination add: exit %d, %q %q", code, out, errOut)
		}
		r.mu.Lock()
		r.secret = lines[1]
		r.mu.Unlock()
	}
	servers := []*served{startServe(t, db), startServe(t, db)}
	// Captures go to the channel made above, not to the servers' default.
	targets := []*served{{url: servers[0].url, channel: channel}, {url: servers[1].url, channel: channel}}

	client := newLoadClient(16)
	var mu sync.Mutex
	var ids []string
	var wg sync.WaitGroup
	for n := range leads {
		wg.Go(func() {
			body := fmt.Sprintf(`{"first_name":"Lead %d","email":"shared-delivery-%d@example.com"}`, n, n)
			status, _, id := client.post(targets[n%2], fmt.Sprint("share-", n), body)
			if status != http.StatusOK {
				t.Errorf("capture %d: %d", n, status)
				return
			}
			mu.Lock()
			ids = append(ids, id)
			mu.Unlock()
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	deadline := time.Now().Add(30 * time.Second)
	for receivers[0].missing(ids)+receivers[1].missing(ids) > 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	// Time for a second delivery of any lead, were there one.
	time.Sleep(2 * time.Second)
	for i, r := range receivers {
		r.mu.Lock()
		if n := r.requests.Load(); n != leads {
			t.Errorf("receiver %d got %d requests for %d leads", i, n, leads)
		}
		if r.badSigned > 0 {
			t.Errorf("receiver %d got %d requests not signed with its secret", i, r.badSigned)
		}
		for _, id := range ids {
			if got := r.idsOf[id]; len(got) != 1 {
				t.Errorf("receiver %d got lead %s under delivery ids %q", i, id, got)
			}
		}
		r.mu.Unlock()
	}
	a, b := servers[0].delivered(t), servers[1].delivered(t)
	t.Logf("the servers made %d and %d of the %d deliveries", a, b, 2*leads)
	if a+b != 2*leads || a == 0 || b == 0 {
		t.Errorf("the servers made %d and %d deliveries; want %d together, some by each", a, b, 2*leads)
	}
}
