package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/leadwire/leadwire/sqlite"
)

// binary is the leadwire command built once for the tests of this package.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "leadwire-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "leadwire")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building leadwire: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// runCLI runs the binary and returns its stdout, stderr and exit code.
func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runCLIWith(t, "", nil, args...)
}

// served is a running `leadwire serve`.
type served struct {
	cmd     *exec.Cmd
	url     string // base URL
	channel string // the default channel's id
	log     *bytes.Buffer
	exited  chan error
}

var (
	listeningLine = regexp.MustCompile(`msg=listening addr=(\S+) .*channel=(\S+)`)
)

// startServe starts `leadwire serve` on a free port and waits until it listens.
func startServe(t *testing.T, db string, args ...string) *served {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"serve", "--addr", "127.0.0.1:0", "--db", db}, args...)...)
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &served{cmd: cmd, log: &bytes.Buffer{}, exited: make(chan error, 1)}
	found := make(chan []string, 1)
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			s.log.WriteString(sc.Text() + "\n")
			if m := listeningLine.FindStringSubmatch(sc.Text()); m != nil {
				found <- m
			}
		}
		s.exited <- cmd.Wait()
	}()
	t.Cleanup(func() { cmd.Process.Kill() })
	select {
	case m := <-found:
		s.url, s.channel = "http://"+m[1], m[2]
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not start; log:\n%s", s.log)
	}
	return s
}

func (s *served) capture(t *testing.T, channel, body string) map[string]any {
	t.Helper()
	res, err := http.Post(s.url+"/leads/channels/"+channel+"/webhook", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var answer struct{ Data map[string]any }
	raw, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(raw, &answer); err != nil || res.StatusCode != 200 {
		t.Fatalf("capture: %d %s", res.StatusCode, raw)
	}
	return answer.Data
}

// checkIntact fails t unless the database file db passes Store.Check.
func checkIntact(t *testing.T, db string) {
	t.Helper()
	store, err := sqlite.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := store.Check(t.Context()); err != nil {
		t.Errorf("integrity check of %s: %v", db, err)
	}
}

var uuidLine = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\n$`)

func TestHelp(t *testing.T) {
	for _, args := range [][]string{
		{"--help"}, {"serve", "--help"}, {"channel", "create", "--help"},
		{"channel", "list", "--help"}, {"leads", "list", "--help"},
	} {
		out, errOut, code := runCLI(t, args...)
		if code != 0 || !strings.Contains(out, "Usage") {
			t.Errorf("leadwire %v: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
	if _, errOut, code := runCLI(t, "frobnicate"); code == 0 || !strings.Contains(errOut, `unknown command "frobnicate"`) {
		t.Errorf("unknown command: exit %d, %q", code, errOut)
	}
}

func TestCLIWhileServing(t *testing.T) {
	db := filepath.Join(t.TempDir(), "leads.db")
	s := startServe(t, db)
	if !strings.Contains(s.log.String(), "created the default channel") {
		t.Errorf("first start should log the default channel it created:\n%s", s.log)
	}

	out, errOut, code := runCLI(t, "channel", "create", "--db", db, "--name", "Open house", "--brand-id", "b1",
		"--allowed-origin", "https://a.example", "--allowed-origin", "https://b.example")
	if code != 0 || !uuidLine.MatchString(out) {
		t.Fatalf("channel create: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	created := strings.TrimSpace(out)
	if _, errOut, code := runCLI(t, "channel", "create", "--db", db, "--name", "Bad", "--allowed-origin", "example.com"); code == 0 || !strings.Contains(errOut, "example.com") {
		t.Errorf("bad origin: exit %d, %q", code, errOut)
	}

	out, _, _ = runCLI(t, "channel", "list", "--db", db, "--json")
	var channels []struct {
		ID, Name       string
		AllowedOrigins []string `json:"allowed_origins"`
	}
	if err := json.Unmarshal([]byte(out), &channels); err != nil || len(channels) != 2 ||
		channels[0].ID != s.channel || channels[1].ID != created || len(channels[1].AllowedOrigins) != 2 {
		t.Fatalf("channel list --json: %v %s", err, out)
	}
	if out, _, _ := runCLI(t, "channel", "list", "--db", db); !strings.Contains(out, "Open house") || !strings.Contains(out, "https://b.example") {
		t.Errorf("channel list: %s", out)
	}

	// The running server accepts leads on the channel the CLI just made.
	first := s.capture(t, s.channel, `{"first_name":"Ada","email":"ada@example.com"}`)
	second := s.capture(t, created, `{"first_name":"Bob","email":"bob@example.com"}`)
	res, err := http.Post(s.url+"/leads/"+second["id"].(string)+"/timeline", "application/json",
		strings.NewReader(`{"action":"ContactViewedListing","listing":{"mls_number":"42"}}`))
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("timeline: %v %v", err, res)
	}
	res.Body.Close()

	out, _, code = runCLI(t, "leads", "list", "--db", db, "--json")
	var leads []struct {
		ID            string
		LeadChannel   string         `json:"lead_channel"`
		ParsedPayload map[string]any `json:"parsed_payload"`
		Timeline      []struct{ Action string }
	}
	if err := json.Unmarshal([]byte(out), &leads); err != nil || code != 0 {
		t.Fatalf("leads list --json: %v %s", err, out)
	}
	if len(leads) != 2 || leads[0].ID != second["id"] || leads[1].ID != first["id"] {
		t.Fatalf("leads list should be newest first: %s", out)
	}
	if len(leads[0].Timeline) != 1 || leads[0].Timeline[0].Action != "ContactViewedListing" {
		t.Errorf("timeline missing: %+v", leads[0])
	}
	out, _, _ = runCLI(t, "leads", "list", "--db", db, "--channel", created, "--json")
	if err := json.Unmarshal([]byte(out), &leads); err != nil || len(leads) != 1 || leads[0].LeadChannel != created {
		t.Errorf("leads list --channel: %s", out)
	}
	out, _, _ = runCLI(t, "leads", "list", "--db", db, "--limit", "1")
	if !strings.Contains(out, "bob@example.com") || strings.Contains(out, "ada@example.com") {
		t.Errorf("leads list --limit 1:\n%s", out)
	}
	if _, errOut, code := runCLI(t, "leads", "list", "--db", db, "--limit", "x"); code == 0 || !strings.Contains(errOut, "limit") {
		t.Errorf("bad --limit: exit %d %q", code, errOut)
	}

	// SIGTERM stops the server cleanly.
	s.cmd.Process.Signal(os.Interrupt)
	select {
	case err := <-s.exited:
		if err != nil {
			t.Errorf("serve exited with %v; log:\n%s", err, s.log)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop on SIGINT")
	}
}

func TestServeEnvironment(t *testing.T) {
	cmd := exec.Command(binary, "serve")
	cmd.Env = append(os.Environ(), "LEADWIRE_ADDR=127.0.0.1:0", "LEADWIRE_DB="+filepath.Join(t.TempDir(), "x.db"), "LEADWIRE_MAX_BODY=lots")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "LEADWIRE_MAX_BODY") {
		t.Errorf("a bad LEADWIRE_MAX_BODY should be refused by name: %v %s", err, out)
	}
}

// TestSecondServerRefused: two servers capturing into one file would each
// trust their own in-memory contact index and idempotency keys.
func TestSecondServerRefused(t *testing.T) {
	db := filepath.Join(t.TempDir(), "one.db")
	startServe(t, db)
	out, err := exec.Command(binary, "serve", "--addr", "127.0.0.1:0", "--db", db).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "in use by another leadwire server") {
		t.Errorf("second serve on the same file: %v\n%s", err, out)
	}
	if _, errOut, code := runCLI(t, "leads", "list", "--db", filepath.Join(t.TempDir(), "missing.db")); code == 0 || !strings.Contains(errOut, "no database at") {
		t.Errorf("leads list on a missing file: exit %d, %q", code, errOut)
	}
	if _, errOut, code := runCLI(t, "leads", "list", "--db", db, "--channel", "2c55e69d-adbe-42d9-97a5-bedb43783b80"); code == 0 || !strings.Contains(errOut, "not found") {
		t.Errorf("leads list --channel unknown: exit %d, %q", code, errOut)
	}
	for _, args := range [][]string{{"channel", "--help"}, {"leads", "--help"}} {
		if out, _, code := runCLI(t, args...); code != 0 || !strings.Contains(out, "Usage") {
			t.Errorf("leadwire %v: exit %d", args, code)
		}
	}
}
