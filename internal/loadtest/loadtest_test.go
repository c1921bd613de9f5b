package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/internal/pgtest"
	"github.com/leadwire/leadwire/internal/testserver"
)

// TestVisitorPhones holds the workload to its promise: every new visitor
// has a phone of their own that the server can parse, one in ten
// international and the rest North American.
func TestVisitorPhones(t *testing.T) {
	const visitors = 20_000
	seen := make(map[string]int64, visitors)
	for v := range int64(visitors) {
		phone := string(appendPhone(nil, v))
		key := leadwire.PhoneKey(phone)
		switch {
		case key == "":
			t.Fatalf("visitor %d: the phone %q cannot be parsed", v, phone)
		case v%10 == 9 && strings.HasPrefix(key, "+1"):
			t.Errorf("visitor %d: %q should be international, is %s", v, phone, key)
		case v%10 != 9 && (!strings.HasPrefix(key, "+1") || len(key) != 12):
			t.Errorf("visitor %d: %q should be North American, is %s", v, phone, key)
		}
		if w, ok := seen[key]; ok {
			t.Fatalf("visitors %d and %d share the phone %s", w, v, key)
		}
		seen[key] = v
	}
}

func TestWorkloads(t *testing.T) {
	var lead struct{ Email, Phone_Number string }
	for _, n := range []int64{1, 9, 123_456} {
		body := newVisitors.body(nil, n)
		if err := json.Unmarshal(body, &lead); err != nil {
			t.Fatalf("lead %d: %v in %s", n, err, body)
		}
		if want := "visitor-" + strconv.FormatInt(n, 10) + "@example.com"; lead.Email != want || lead.Phone_Number != string(appendPhone(nil, n)) {
			t.Errorf("lead %d is from %q, %q; want %q and the visitor's phone", n, lead.Email, lead.Phone_Number, want)
		}
		if again := returningVisitors.body(nil, n+returningPool); !bytes.Equal(again, returningVisitors.body(nil, n)) {
			t.Errorf("returning lead %d differs from lead %d", n+returningPool, n)
		}
	}
	if bytes.Equal(newVisitors.body(nil, 1), newVisitors.body(nil, 1+returningPool)) {
		t.Error("new visitors repeat")
	}
}

// next is a response that follows the one under test, which must be read
// to its end and no further.
const next = "HTTP/1.1 299 Next\r\nContent-Length: 0\r\n\r\n"

var responseCases = []struct {
	name, raw string
	status    int // 0 for an error
}{
	{"content length", "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\nhello", 200},
	{"lower-case header", "HTTP/1.1 400 Bad Request\r\ncontent-length:  2 \r\n\r\n{}", 400},
	{"no reason", "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", 200},
	{"bare line ends", "HTTP/1.1 200 OK\nContent-Length: 1\n\nx", 200},
	{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n1a\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\n", 200},
	{"chunk extension and trailer", "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n2;x=y\r\nhi\r\n0\r\nX-Sum: 1\r\n\r\n", 201},
	{"no content", "HTTP/1.1 204 No Content\r\n\r\n", 204},
	{"not HTTP", "SSH-2.0-OpenSSH\r\n\r\n", 0},
	{"status not a number", "HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n", 0},
	{"status too small", "HTTP/1.1 +99 OK\r\nContent-Length: 0\r\n\r\n", 0},
	{"header without colon", "HTTP/1.1 200 OK\r\nContent-Length 0\r\n\r\n", 0},
	{"negative length", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", 0},
	{"body framed by close", "HTTP/1.1 200 OK\r\n\r\nhello", 0},
	{"bad chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 0},
	{"chunk without line end", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi!\r\n0\r\n\r\n", 0},
}

func TestReadResponse(t *testing.T) {
	for _, tt := range responseCases {
		t.Run(tt.name, func(t *testing.T) {
			r := bufio.NewReader(strings.NewReader(tt.raw + next))
			status, err := readResponse(r)
			if tt.status == 0 {
				if !errors.Is(err, errMalformed) {
					t.Fatalf("readResponse = %d, %v; want a malformed response", status, err)
				}
				return
			}
			if err != nil || status != tt.status {
				t.Fatalf("readResponse = %d, %v; want %d", status, err, tt.status)
			}
			if status, err := readResponse(r); err != nil || status != 299 {
				t.Errorf("the next response reads as %d, %v: the body was not read to its end", status, err)
			}
		})
	}
	t.Run("truncated body", func(t *testing.T) {
		_, err := readResponse(bufio.NewReader(strings.NewReader("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nhello")))
		if !errors.Is(err, io.EOF) {
			t.Errorf("err = %v, want EOF", err)
		}
	})
}

// FuzzReadResponse holds the reader to net/http's: whatever both read, they
// read the same status.
func FuzzReadResponse(f *testing.F) {
	for _, tt := range responseCases {
		f.Add([]byte(tt.raw))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		status, err := readResponse(bufio.NewReader(bytes.NewReader(raw)))
		if err != nil {
			return
		}
		if status < 100 || status > 999 {
			t.Fatalf("status %d from %q", status, raw)
		}
		res, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(raw)), nil)
		if err == nil && res.StatusCode != status {
			t.Errorf("%q: status %d, net/http reads %d", raw, status, res.StatusCode)
		}
	})
}

// TestPosterAgainstNetHTTP posts leads to a net/http server over one
// connection and checks what the server received, with answers framed by
// Content-Length and by chunks.
func TestPosterAgainstNetHTTP(t *testing.T) {
	type received struct {
		method, path, contentType, key, remote string
		body                                   []byte
	}
	var (
		mu  sync.Mutex
		got []received
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Error(err)
		}
		mu.Lock()
		got = append(got, received{r.Method, r.URL.Path, r.Header.Get("Content-Type"), r.Header.Get("Idempotency-Key"), r.RemoteAddr, body})
		n := len(got)
		mu.Unlock()
		if n%2 == 0 { // a large answer, flushed early, goes out in chunks
			w.WriteHeader(http.StatusAccepted)
			w.(http.Flusher).Flush()
			w.Write(bytes.Repeat([]byte("x"), 10_000))
			return
		}
		w.Write(body)
	}))
	defer srv.Close()

	p, err := dial(srv.URL + "/leads/channels/c1/webhook")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for n := int64(1); n <= 4; n++ {
		status, err := p.post(newVisitors, n)
		if want := map[bool]int{true: 200, false: 202}[n%2 == 1]; err != nil || status != want {
			t.Fatalf("post %d = %d, %v; want %d", n, status, err, want)
		}
	}
	if len(got) != 4 {
		t.Fatalf("the server received %d requests, want 4", len(got))
	}
	for i, r := range got {
		n := int64(i + 1)
		want := received{"POST", "/leads/channels/c1/webhook", "application/json", string(appendKey(nil, n)), got[0].remote, newVisitors.body(nil, n)}
		if r.method != want.method || r.path != want.path || r.contentType != want.contentType || r.key != want.key || !bytes.Equal(r.body, want.body) {
			t.Errorf("request %d: %s %s %q %q %s\nwant %s %s %q %q %s", n, r.method, r.path, r.contentType, r.key, r.body,
				want.method, want.path, want.contentType, want.key, want.body)
		}
		if r.remote != want.remote {
			t.Errorf("request %d came from %s, request 1 from %s: the connection was not kept alive", n, r.remote, want.remote)
		}
	}
}

// TestLoadAgainstServer loads a real server with each workload for a
// moment and checks that every lead the run counted was stored, from as
// many contacts as the workload has visitors.
func TestLoadAgainstServer(t *testing.T) {
	for _, tt := range []struct {
		w           workload
		contactsFor func(leads int64) int64
	}{
		{newVisitors, func(leads int64) int64 { return leads }},
		{returningVisitors, func(leads int64) int64 { return min(leads, returningPool) }},
	} {
		t.Run(tt.w.name, func(t *testing.T) {
			s := testserver.Start(t)
			s.Unlimited(t, s.ChannelID) // as the load test's targets
			r := &run{w: tt.w, t: &target{urls: []string{s.URL + "/leads/channels/" + s.ChannelID + "/webhook"}}}
			r.load(4, 50*time.Millisecond, 200*time.Millisecond)
			if r.next == 0 || len(r.latencies) == 0 || len(r.perRound) != 1 || r.clientCPU <= 0 || r.machineCPU < r.clientCPU/4 {
				t.Fatalf("the run counted %d leads, %d latencies, %d rounds, client CPU %s, machine CPU %s",
					r.next, len(r.latencies), len(r.perRound), r.clientCPU, r.machineCPU)
			}
			leads := s.Leads(t)
			contacts := make(map[string]bool)
			for _, l := range leads {
				contacts[l.ContactID] = true
			}
			if int64(len(leads)) != r.next || int64(len(contacts)) != tt.contactsFor(r.next) {
				t.Errorf("the run counted %d leads; the store holds %d from %d contacts, want %d contacts",
					r.next, len(leads), len(contacts), tt.contactsFor(r.next))
			}
		})
	}
}

// TestPgbenchBaselines runs each baseline for one short round with a few
// clients against the tests' PostgreSQL and checks that it measured
// transactions: the script runs on the schema as it is.
func TestPgbenchBaselines(t *testing.T) {
	for name, newBaseline := range map[string]func(string, int) *pgbench{"f": newPgbench, "g": newLeadPgbench} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := newBaseline(pgtest.ServerURL(t), 4)
			defer p.drop()
			p.round(time.Second)
			if len(p.perRound) != 1 || p.perRound[0] <= 0 || p.transactions <= 0 || p.machineCPU <= 0 {
				t.Errorf("pgbench measured %v transactions/s, %d transactions, machine CPU %s", p.perRound, p.transactions, p.machineCPU)
			}
		})
	}
}

// TestVisitorsPassScreening: the load's visitors are people as screening
// sees them, so the capture targets measure the path of an accepted lead,
// not of spam.
func TestVisitorsPassScreening(t *testing.T) {
	s := testserver.Start(t)
	for v := range int64(300) {
		res, err := http.Post(s.URL+"/leads/channels/"+s.ChannelID+"/webhook", "application/json", bytes.NewReader(leadBody(nil, v)))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("visitor %d: %s", v, res.Status)
		}
	}
	spam, _, err := s.Store.SearchLeads(context.Background(), leadwire.LeadFilter{Status: leadwire.StatusSpam, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range spam {
		t.Errorf("visitor %s quarantined: %v", l.Payload.Email, l.SpamReasons)
	}
}
