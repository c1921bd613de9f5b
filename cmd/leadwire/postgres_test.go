//go:build linux

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leadwire/leadwire/internal/pgtest"
)

// storedLead is a lead as leads list --json prints it.
type storedLead struct {
	ID            string
	Contact       string
	ParsedPayload struct {
		Email     string
		FirstName string `json:"first_name"`
	} `json:"parsed_payload"`
}

// storedLeads lists every lead of db with the CLI.
func storedLeads(t *testing.T, db string) []storedLead {
	t.Helper()
	out, errOut, code := runCLI(t, "leads", "list", "--db", db, "--limit", "0", "--json")
	if code != 0 {
		t.Fatalf("leads list: %s", errOut)
	}
	var leads []storedLead
	if err := json.Unmarshal([]byte(out), &leads); err != nil {
		t.Fatal(err)
	}
	return leads
}

// loadClient posts captures as an SDK's queue does: each with its
// Idempotency-Key, the same body every time it is sent.
type loadClient struct{ http *http.Client }

func newLoadClient(clients int) *loadClient {
	return &loadClient{&http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: clients}}}
}

// post sends the capture with key to the default channel of s and returns
// the status (0 when no answer came), its Retry-After and the lead's id.
func (c *loadClient) post(s *served, key, body string) (status int, retryAfter, id string) {
	req, _ := http.NewRequest("POST", s.url+"/leads/channels/"+s.channel+"/webhook", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	res, err := c.http.Do(req)
	if err != nil {
		return 0, "", ""
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	var answer struct{ Data struct{ ID string } }
	json.Unmarshal(raw, &answer)
	return res.StatusCode, res.Header.Get("Retry-After"), answer.Data.ID
}

// openChannel creates the channel the servers on db take captures on,
// without its flood limit: the tests send every capture again at once,
// over the limit, which they are not about.
func openChannel(t *testing.T, db string) (id string) {
	t.Helper()
	out, errOut, code := runCLI(t, "channel", "create", "--db", db, "--name", "Website")
	if code != 0 {
		t.Fatalf("channel create: %s", errOut)
	}
	id = strings.TrimSpace(out)
	if _, errOut, code := runCLI(t, "channel", "update", "--db", db, "--channel", id, "--disable", "channel_rate"); code != 0 {
		t.Fatalf("channel update: %s", errOut)
	}
	return id
}

// TestServersShareOnePostgres: three leadwire servers on one PostgreSQL
// database take 2,000 captures from 32 clients, with emails shared among
// 300 people and 400 captures repeating the Idempotency-Key (and body) of
// another. One server is killed with SIGKILL in the middle. Then every
// capture is sent again with its key to the servers left, as the SDKs'
// queues do: each key holds exactly one lead, each person one contact,
// and every lead that was acknowledged is there with its first id.
func TestServersShareOnePostgres(t *testing.T) {
	const (
		clients  = 32
		attempts = 2000
		keys     = 1600 // attempts past this repeat keys 1 to 400
		people   = 300
		killAt   = 700 // acknowledged captures before the kill
	)
	db := pgtest.NewSchema(t)
	channel := openChannel(t, db)
	var servers []*served
	for range 3 {
		servers = append(servers, startServe(t, db))
	}
	for _, s := range servers {
		if s.channel != channel {
			t.Fatalf("a server reports channel %s, want the database's one channel %s", s.channel, channel)
		}
	}
	keyOf := func(n int) int { return (n-1)%keys + 1 }
	bodyOf := func(k int) string {
		return fmt.Sprintf(`{"first_name":"Lead %d","email":"Person-%d@example.com","phone_number":"214555%04d","message":"shared"}`,
			k, k%people, k%people)
	}
	client := newLoadClient(clients)

	var (
		mu      sync.Mutex
		acked   = map[int]string{} // key -> id of a 200 answer
		changed int                // keys answered 200 with two ids
		alive   atomic.Int32       // the servers taking captures: the first alive
		next    atomic.Int64
		wg      sync.WaitGroup
	)
	alive.Store(3)
	for range clients {
		wg.Go(func() {
			for n := int(next.Add(1)); n <= attempts; n = int(next.Add(1)) {
				k := keyOf(n)
				status, _, id := client.post(servers[n%int(alive.Load())], fmt.Sprint("multi-", k), bodyOf(k))
				if status != http.StatusOK {
					continue
				}
				mu.Lock()
				if first, ok := acked[k]; ok && first != id {
					changed++
				}
				acked[k] = id
				if len(acked) == killAt {
					servers[2].cmd.Process.Kill() // SIGKILL, with captures in flight
					alive.Store(2)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if alive.Load() != 2 {
		t.Fatalf("only %d keys acknowledged; no server was killed", len(acked))
	}
	<-servers[2].exited
	if changed > 0 {
		t.Errorf("%d keys were answered with two different leads", changed)
	}
	t.Logf("%d of %d keys acknowledged before every capture is sent again", len(acked), keys)

	// Every capture again, with its key, to the two servers left.
	next.Store(0)
	var failed, differs atomic.Int64
	for range clients {
		wg.Go(func() {
			for n := int(next.Add(1)); n <= attempts; n = int(next.Add(1)) {
				k := keyOf(n)
				status, _, id := client.post(servers[n%2], fmt.Sprint("multi-", k), bodyOf(k))
				mu.Lock()
				switch {
				case status != http.StatusOK:
					failed.Add(1)
				case acked[k] != "" && acked[k] != id:
					differs.Add(1)
				default:
					acked[k] = id
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if failed.Load() > 0 || differs.Load() > 0 {
		t.Fatalf("sending every capture again: %d failed, %d came back with another lead than the first answer", failed.Load(), differs.Load())
	}

	leads := storedLeads(t, db)
	if len(leads) != keys {
		t.Errorf("%d leads stored, want exactly %d: one per key", len(leads), keys)
	}
	byID := map[string]storedLead{}
	contactOf := map[string]string{} // email -> contact
	contacts := map[string]bool{}
	for _, l := range leads {
		byID[l.ID] = l
		contacts[l.Contact] = true
		email := strings.ToLower(l.ParsedPayload.Email)
		if c, ok := contactOf[email]; ok && c != l.Contact {
			t.Errorf("%s has leads in contacts %s and %s", email, c, l.Contact)
		}
		contactOf[email] = l.Contact
	}
	if len(contacts) != people {
		t.Errorf("%d contacts for %d people", len(contacts), people)
	}
	missing := 0
	for k, id := range acked {
		if l, ok := byID[id]; !ok || l.ParsedPayload.FirstName != fmt.Sprint("Lead ", k) {
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("%d acknowledged leads are missing or hold another capture", missing)
	}
}

// proxy is a TCP proxy between the server and PostgreSQL that the test
// cuts and restores, as a network failure or a database restart would.
type proxy struct {
	t      *testing.T
	addr   string
	target string

	mu    sync.Mutex
	ln    net.Listener
	conns []net.Conn
}

func newProxy(t *testing.T, target string) *proxy {
	p := &proxy{t: t, addr: "127.0.0.1:0", target: target}
	p.up()
	t.Cleanup(p.down)
	return p
}

// up listens on the proxy's address (a free one the first time).
func (p *proxy) up() {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatal(err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			d, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, d)
			p.mu.Unlock()
			go func() { io.Copy(d, c); d.Close() }()
			go func() { io.Copy(c, d); c.Close() }()
		}
	}()
}

// down closes the listener and every connection: the server's
// connections break and new ones are refused until up.
func (p *proxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// TestDatabaseCutAnswers503: while the connection to PostgreSQL is cut
// under load, captures answer 503 with Retry-After and /healthz says the
// database does not answer; once it is back the server reconnects by
// itself, and every capture sent again with its key is stored once, the
// acknowledged ones with their first ids.
func TestDatabaseCutAnswers503(t *testing.T) {
	const clients, captures = 16, 600
	db := pgtest.NewSchema(t)
	openChannel(t, db)
	u, err := url.Parse(db)
	if err != nil {
		t.Fatal(err)
	}
	p := newProxy(t, u.Host)
	u.Host = p.addr
	s := startServe(t, u.String(), "--write-timeout", "3s")
	client := newLoadClient(clients)
	bodyOf := func(n int) string {
		return fmt.Sprintf(`{"first_name":"Lead %d","email":"cut-%d@example.com","message":"cut"}`, n, n%50)
	}

	var (
		mu          sync.Mutex
		acked       = map[int]string{}
		unavailable int
		other       []string
		next        atomic.Int64
		wg          sync.WaitGroup
		cut         = make(chan struct{})
		restored    = make(chan struct{})
	)
	for range clients {
		wg.Go(func() {
			for n := int(next.Add(1)); n <= captures; n = int(next.Add(1)) {
				status, retryAfter, id := client.post(s, fmt.Sprint("cut-", n), bodyOf(n))
				mu.Lock()
				switch {
				case status == http.StatusOK:
					acked[n] = id
				case status == http.StatusServiceUnavailable && retryAfter != "":
					unavailable++
				default:
					other = append(other, fmt.Sprintf("%d (Retry-After %q)", status, retryAfter))
				}
				if len(acked) == captures/4 {
					select {
					case <-cut:
					default:
						close(cut)
					}
				}
				mu.Unlock()
				select {
				case <-cut:
					select {
					case <-restored:
					default:
						time.Sleep(20 * time.Millisecond) // while cut, as an SDK backs off
					}
				default:
				}
			}
		})
	}
	<-cut
	p.down()
	if r := s.waitHealth(t, http.StatusServiceUnavailable); !r.unavailable("database") {
		t.Errorf("/healthz while the database is cut = %s", r)
	}
	time.Sleep(time.Second)
	p.up()
	close(restored)
	s.waitHealth(t, http.StatusOK)
	wg.Wait()
	if unavailable == 0 {
		t.Error("no capture was answered 503 while the database was cut")
	}
	if len(other) > 0 {
		t.Errorf("%d captures were answered neither 200 nor 503 with Retry-After: %v", len(other), other[:min(len(other), 5)])
	}
	t.Logf("%d acknowledged, %d answered 503 while the database was cut", len(acked), unavailable)

	// Every capture again: stored once, the acknowledged ones keep their ids.
	for n := 1; n <= captures; n++ {
		status, _, id := client.post(s, fmt.Sprint("cut-", n), bodyOf(n))
		if status != http.StatusOK {
			t.Fatalf("capture %d sent again after the database came back: %d", n, status)
		}
		if first, ok := acked[n]; ok && first != id {
			t.Errorf("capture %d was acknowledged as %s and came back as %s", n, first, id)
		}
	}
	if leads := storedLeads(t, db); len(leads) != captures {
		t.Errorf("%d leads stored, want %d", len(leads), captures)
	}

	// The store's metrics tell the batches and the failed transactions.
	res, err := http.Get(s.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	text, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`leadwire_commit_batch_size_count\{store="postgres"\} [1-9]`),
		regexp.MustCompile(`leadwire_database_errors_total\{store="postgres"\} [1-9]`),
		regexp.MustCompile(`leadwire_captures_total\{channel="` + s.channel + `",result="unavailable"\} [1-9]`),
	} {
		if !want.Match(text) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// TestInboxSeesLeadsOfOtherServers: an owner's Leads page open on one
// server shows, within a second, a lead captured through another server
// sharing the PostgreSQL database.
func TestInboxSeesLeadsOfOtherServers(t *testing.T) {
	db := pgtest.NewSchema(t)
	channel := openChannel(t, db)
	const password = "correct horse battery"
	if _, errOut, code := runCLIWith(t, password, nil, "user", "create", "--db", db,
		"--email", "owner@example.com", "--role", "owner", "--password-stdin"); code != 0 {
		t.Fatalf("user create: %s", errOut)
	}
	capturing, reading := startServe(t, db), startServe(t, db)

	jar, _ := cookiejar.New(nil)
	agent := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	res, err := agent.PostForm(reading.url+"/inbox/signin", url.Values{"email": {"owner@example.com"}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Request.URL.Path != "/inbox/" {
		t.Fatalf("sign-in: %d at %s", res.StatusCode, res.Request.URL)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/inbox/events?since=%d", reading.url, time.Now().UnixMilli()), nil)
	stream := &http.Client{Jar: jar} // no timeout: the stream stays open
	res, err = stream.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /inbox/events: %d", res.StatusCode)
	}
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	time.Sleep(300 * time.Millisecond) // the stream's first read is done

	status, _, id := newLoadClient(1).post(&served{url: capturing.url, channel: channel}, "elsewhere-1",
		`{"first_name":"Captured","last_name":"Elsewhere","email":"elsewhere@example.com"}`)
	if status != http.StatusOK {
		t.Fatalf("capture: %d", status)
	}
	captured := time.Now()
	timeout := time.After(time.Second)
	for {
		select {
		case l, open := <-lines:
			if !open {
				t.Fatal("the stream ended")
			}
			if strings.HasPrefix(l, "data:") && strings.Contains(l, id) {
				t.Logf("the other server's page showed the lead %s after the capture", time.Since(captured).Round(time.Millisecond))
				return
			}
		case <-timeout:
			t.Fatalf("the page on the other server did not show lead %s within a second", id)
		}
	}
}
