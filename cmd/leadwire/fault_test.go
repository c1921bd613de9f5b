//go:build linux

package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/leadwire/leadwire/sqlite"
)

// The faults here are real: a second server through a link, a directory
// deleted under the server, a full disk (a tmpfs, or a file size limit on
// the server's process where mounting is not allowed), immutable files.

// reply is one answer of the server.
type reply struct {
	status     int
	retryAfter string
	code       string
	message    string
	id         string
}

func (r reply) String() string {
	return fmt.Sprintf("%d %s %q (Retry-After %q)", r.status, r.code, r.message, r.retryAfter)
}

// send posts body to the webhook of the default channel with key (when
// not empty) as its Idempotency-Key.
func (s *served) send(t *testing.T, key, body string) reply {
	t.Helper()
	req, err := http.NewRequest("POST", s.url+"/leads/channels/"+s.channel+"/webhook", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	return s.do(t, req)
}

func (s *served) healthz(t *testing.T) reply {
	t.Helper()
	req, err := http.NewRequest("GET", s.url+"/healthz", nil)
	if err != nil {
		t.Fatal(err)
	}
	return s.do(t, req)
}

func (s *served) do(t *testing.T, req *http.Request) reply {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v; log:\n%s", req.Method, req.URL.Path, err, s.log)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var body struct {
		Code, Message string
		Data          struct{ ID, Status string }
	}
	json.Unmarshal(raw, &body)
	return reply{status: res.StatusCode, retryAfter: res.Header.Get("Retry-After"),
		code: body.Code, message: body.Message, id: body.Data.ID}
}

// unavailable tells whether r is a 503 that says when to come back.
func (r reply) unavailable(reason string) bool {
	return r.status == http.StatusServiceUnavailable && r.code == "unavailable" &&
		r.retryAfter != "" && strings.Contains(r.message, reason)
}

// waitHealth polls /healthz until it answers status (its answer is kept
// for a second) and returns that answer.
func (s *served) waitHealth(t *testing.T, status int) reply {
	t.Helper()
	var r reply
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if r = s.healthz(t); r.status == status {
			return r
		}
	}
	t.Fatalf("/healthz kept answering %s, want %d", r, status)
	return r
}

// leadIDs lists the ids of the leads stored in db, with the CLI.
func leadIDs(t *testing.T, db string) map[string]bool {
	t.Helper()
	out, errOut, code := runCLI(t, "leads", "list", "--db", db, "--limit", "0", "--json")
	if code != 0 {
		t.Fatalf("leads list: %s", errOut)
	}
	var leads []struct{ ID string }
	if err := json.Unmarshal([]byte(out), &leads); err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, l := range leads {
		ids[l.ID] = true
	}
	return ids
}

// stop stops the server with SIGTERM and waits for it.
func (s *served) stop(t *testing.T) {
	t.Helper()
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not stop; log:\n%s", s.log)
	}
}

// TestSecondServerThroughALinkRefused: the lock is on the file, so a
// symlink or a hard link to a database in use cannot start a second
// writer, which would answer one Idempotency-Key with two leads.
func TestSecondServerThroughALinkRefused(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "leads.db")
	// A clean stop leaves every page in the file, so the hard link can be
	// opened: it shares the file but not the write-ahead log.
	startServe(t, db).stop(t)
	symlink, hardlink := filepath.Join(t.TempDir(), "symlink.db"), filepath.Join(dir, "hardlink.db")
	if err := os.Symlink(db, symlink); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(db, hardlink); err != nil {
		t.Fatal(err)
	}
	first := startServe(t, db)
	first.capture(t, first.channel, `{"email":"first@example.com"}`)
	for _, link := range []string{symlink, hardlink} {
		// A second server that starts runs until it is killed.
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		out, err := exec.CommandContext(ctx, binary, "serve", "--addr", "127.0.0.1:0", "--db", link).CombinedOutput()
		cancel()
		if err == nil || !strings.Contains(string(out), "in use by another leadwire server") {
			t.Errorf("second serve through %s: %v\n%s", filepath.Base(link), err, out)
		}
	}
	first.capture(t, first.channel, `{"email":"second@example.com"}`)
}

// TestDeletedDatabaseAnswers503: once the database's directory is gone,
// no capture is acknowledged (each would be lost at the next start), and
// /healthz says why.
func TestDeletedDatabaseAnswers503(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s := startServe(t, filepath.Join(dir, "leads.db"))
	s.capture(t, s.channel, `{"email":"before@example.com"}`)
	s.waitHealth(t, http.StatusOK)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		if r := s.send(t, fmt.Sprintf("after-%d", i), fmt.Sprintf(`{"email":"after-%d@example.com"}`, i)); !r.unavailable("deleted") {
			t.Fatalf("capture %d after the directory was deleted: %s, want 503 naming the deleted file", i, r)
		}
	}
	if r := s.waitHealth(t, http.StatusServiceUnavailable); !r.unavailable("deleted") {
		t.Errorf("/healthz = %s", r)
	}
	if !strings.Contains(s.log.String(), "leads.db: no such file or directory") {
		t.Errorf("the log should name the lost file:\n%s", s.log)
	}
}

// TestDiskFullAnswers503 fills the disk under a running server: captures
// that cannot be stored answer 503 with Retry-After, never 200 or 500;
// /healthz says the disk is full; once space is back the server stores
// again without a restart, every acknowledged lead is on disk, and every
// refused one, sent again with its key, is stored once. The disk is a
// small tmpfs where mounting is allowed; a file size limit on the server's
// process (RLIMIT_FSIZE, which /healthz cannot see) fills it everywhere.
func TestDiskFullAnswers503(t *testing.T) {
	for _, tt := range []struct {
		name string
		full func(t *testing.T, dir string) diskFull
	}{
		{"tmpfs", fullTmpfs},
		{"file size limit", fullFileSizeLimit},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			disk := tt.full(t, dir)
			db := filepath.Join(dir, "leads.db")
			s := startServe(t, db)
			acked := map[string]string{ // key -> lead id
				"before": s.capture(t, s.channel, `{"email":"before@example.com"}`)["id"].(string),
			}
			disk.fill(s)

			var refused []string
			var first reply
			message := strings.Repeat("Is the house on Elm Street still available? ", 40)
			body := func(key string) string {
				return fmt.Sprintf(`{"email":"%s@example.com","message":%q}`, key, message)
			}
			for n := 0; n < 5000 && len(refused) < 20; n++ {
				key := fmt.Sprintf("lead-%d", n)
				switch r := s.send(t, key, body(key)); {
				case r.status == http.StatusOK:
					acked[key] = r.id
				case r.unavailable("cannot store now"):
					if len(refused) == 0 {
						first = r
					}
					refused = append(refused, key)
				default:
					t.Fatalf("capture %d on a full disk: %s", n, r)
				}
			}
			if len(refused) == 0 {
				t.Fatalf("%d captures on a full disk, none refused", len(acked))
			}
			t.Logf("full disk: %d captures stored, %d refused, the first with %s", len(acked), len(refused), first)
			if disk.healthSeesIt {
				if r := s.waitHealth(t, http.StatusServiceUnavailable); !r.unavailable("disk is full") {
					t.Errorf("/healthz on a full disk = %s", r)
				}
			}

			disk.free(s)
			s.waitHealth(t, http.StatusOK)
			for _, key := range refused {
				r := s.send(t, key, body(key))
				if r.status != http.StatusOK {
					t.Fatalf("capture %s sent again once space is back: %s", key, r)
				}
				acked[key] = r.id
			}

			s.stop(t)
			stored := leadIDs(t, db)
			for key, id := range acked {
				if !stored[id] {
					t.Errorf("lead %s was acknowledged as %s and is not on disk", key, id)
				}
			}
			if len(stored) != len(acked) {
				t.Errorf("%d leads on disk, want the %d acknowledged", len(stored), len(acked))
			}
			checkIntact(t, db)
		})
	}
}

// diskFull takes all free space from the server's database files and
// gives it back.
type diskFull struct {
	fill, free   func(*served)
	healthSeesIt bool // whether the server can see the lack of space before writing
}

// fullTmpfs mounts a small tmpfs on dir and fills it with another file.
func fullTmpfs(t *testing.T, dir string) diskFull {
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=16m"); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v); the file size limit fills the disk instead", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	filler := filepath.Join(dir, "filler")
	fill := func(*served) {
		f, err := os.Create(filler)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		block := make([]byte, 64<<10)
		for {
			if _, err := f.Write(block); err != nil {
				if !errors.Is(err, syscall.ENOSPC) {
					t.Fatal(err)
				}
				return
			}
		}
	}
	free := func(*served) {
		if err := os.Remove(filler); err != nil {
			t.Fatal(err)
		}
	}
	return diskFull{fill: fill, free: free, healthSeesIt: true}
}

// fullFileSizeLimit lets no database file of the server grow past its
// size: the server ignores SIGXFSZ, as every Go program does, and its
// writes fail with EFBIG.
func fullFileSizeLimit(t *testing.T, dir string) diskFull {
	limit := func(s *served, bytes uint64) {
		lim := syscall.Rlimit{Cur: bytes, Max: ^uint64(0)}
		if _, _, e := syscall.RawSyscall6(syscall.SYS_PRLIMIT64, uintptr(s.cmd.Process.Pid), syscall.RLIMIT_FSIZE,
			uintptr(unsafe.Pointer(&lim)), 0, 0, 0); e != 0 {
			t.Fatalf("prlimit: %v", e)
		}
	}
	fill := func(s *served) {
		var largest int64
		files, _ := filepath.Glob(filepath.Join(dir, "leads.db*"))
		for _, f := range files {
			if fi, err := os.Stat(f); err == nil {
				largest = max(largest, fi.Size())
			}
		}
		limit(s, uint64(largest))
	}
	free := func(s *served) { limit(s, ^uint64(0)) }
	return diskFull{fill: fill, free: free}
}

// TestImmutableDatabaseAnswers503 makes the database files immutable
// under a running server: captures answer 503 with Retry-After, /healthz
// says the database is read-only, and both recover when the files are
// writable again.
func TestImmutableDatabaseAnswers503(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "leads.db")
	s := startServe(t, db)
	s.capture(t, s.channel, `{"email":"before@example.com"}`)
	files := []string{db, db + "-wal", db + "-shm"}
	chattr := func(flag string) error {
		out, err := exec.Command("chattr", append([]string{flag}, files...)...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("chattr %s: %v %s", flag, err, out)
		}
		return nil
	}
	if err := chattr("+i"); err != nil {
		if os.Geteuid() != 0 {
			t.Skipf("making files immutable needs root: %v", err)
		}
		t.Fatal(err)
	}
	t.Cleanup(func() { chattr("-i") })

	if r := s.send(t, "ro-1", `{"email":"ro@example.com"}`); !r.unavailable("cannot store now") {
		t.Errorf("capture into immutable files: %s, want 503", r)
	}
	if r := s.waitHealth(t, http.StatusServiceUnavailable); !r.unavailable("read-only") {
		t.Errorf("/healthz = %s", r)
	}
	if err := chattr("-i"); err != nil {
		t.Fatal(err)
	}
	s.waitHealth(t, http.StatusOK)
	if r := s.send(t, "ro-1", `{"email":"ro@example.com"}`); r.status != http.StatusOK {
		t.Errorf("capture once the files are writable again: %s", r)
	}
	s.stop(t)
	if n := len(leadIDs(t, db)); n != 2 {
		t.Errorf("%d leads stored, want 2", n)
	}
}

// bigDatabase creates db with contacts contacts, as a site that has run
// for years has.
func bigDatabase(t *testing.T, db string, contacts int) {
	t.Helper()
	store, err := sqlite.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	conn, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
		INSERT INTO contacts (id, brand, first_name, email, phone_number, email_key, phone_key, created_at, updated_at)
		SELECT printf('%08x-0000-7000-8000-%012x', i, i), 'b', 'Person ' || i, 'p' || i || '@example.com',
			printf('+1214%07d', i), 'p' || i || '@example.com', printf('+1214%07d', i), i, i FROM n`, contacts); err != nil {
		t.Fatal(err)
	}
}

// TestServeListensWhileLoading: a server on a big database accepts
// connections at once, says "starting" on /healthz until its contact
// index is loaded, and holds the captures that arrive meanwhile until it
// can store them.
func TestServeListensWhileLoading(t *testing.T) {
	const contacts = 300_000 // about a second to load
	db := filepath.Join(t.TempDir(), "big.db")
	start := time.Now()
	bigDatabase(t, db, contacts)
	t.Logf("created %d contacts in %s", contacts, time.Since(start).Round(time.Millisecond))

	start = time.Now()
	s := startServe(t, db)
	listening := time.Since(start)
	first := s.healthz(t)
	early := s.send(t, "early", `{"email":"early@example.com"}`)
	s.waitHealth(t, http.StatusOK)
	ready := time.Since(start)
	t.Logf("listening after %s, ready after %s; a capture sent at once answered %s",
		listening.Round(time.Millisecond), ready.Round(time.Millisecond), early)

	if !first.unavailable("starting") {
		t.Errorf("the first /healthz = %s, want 503 starting", first)
	}
	if early.status != http.StatusOK && !early.unavailable("starting") {
		t.Errorf("a capture while starting = %s, want it stored or 503 starting", early)
	}
	if !strings.Contains(s.log.String(), "msg=ready") {
		t.Errorf("the log should say when the server is ready:\n%s", s.log)
	}
}

// TestServeLimits: headers over 64 KiB are refused with 431, and a bad
// write timeout is refused by name.
func TestServeLimits(t *testing.T) {
	s := startServe(t, filepath.Join(t.TempDir(), "limits.db"))
	req, _ := http.NewRequest("GET", s.url+"/healthz", nil)
	req.Header.Set("X-Padding", strings.Repeat("a", 900<<10))
	if r := s.do(t, req); r.status != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("a 900 KB header: %s, want 431", r)
	}

	cmd := exec.Command(binary, "serve")
	cmd.Env = append(os.Environ(), "LEADWIRE_ADDR=127.0.0.1:0", "LEADWIRE_DB="+filepath.Join(t.TempDir(), "x.db"),
		"LEADWIRE_WRITE_TIMEOUT=soon")
	if out, err := cmd.CombinedOutput(); err == nil || !bytes.Contains(out, []byte("LEADWIRE_WRITE_TIMEOUT")) {
		t.Errorf("a bad LEADWIRE_WRITE_TIMEOUT should be refused by name: %v %s", err, out)
	}
	out, err := exec.Command(binary, "serve", "--addr", "127.0.0.1:0", "--write-timeout", "0s").CombinedOutput()
	if err == nil || !bytes.Contains(out, []byte("--write-timeout")) {
		t.Errorf("--write-timeout 0s should be refused: %v %s", err, out)
	}
}
