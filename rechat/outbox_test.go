package rechat_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/leadwire/leadwire/internal/testserver"
	"github.com/leadwire/leadwire/rechat"
)

// The test binary doubles as a second process sharing an outbox: with
// RECHAT_CHILD set it runs that role instead of the tests.
func TestMain(m *testing.M) {
	if role := os.Getenv("RECHAT_CHILD"); role != "" {
		os.Exit(child(role))
	}
	os.Exit(m.Run())
}

// child runs one role against RECHAT_API with its outbox in RECHAT_OUTBOX.
//
//	capture: capture leads forever, RECHAT_PREFIX-0@example.com, -1, ...,
//	         printing each email once Capture returned (the parent kills it)
//	flush:   deliver the outbox and exit
func child(role string) int {
	sdk, err := rechat.NewSdk(rechat.Settings{
		APIURL: os.Getenv("RECHAT_API"),
		OfflineSync: rechat.OfflineSyncSettings{
			Dir: os.Getenv("RECHAT_OUTBOX"), MaxQueueSize: 100000,
			MinRetryDelay: time.Hour, PollInterval: time.Hour,
		},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ctx := context.Background()
	switch role {
	case "capture":
		for i := 0; ; i++ {
			email := fmt.Sprintf("%s-%d@example.com", os.Getenv("RECHAT_PREFIX"), i)
			res, err := sdk.Leads.Capture(ctx, rechat.Channel{LeadChannel: os.Getenv("RECHAT_CHANNEL")}, rechat.Lead{Email: email})
			if err != nil || !res.Queued {
				fmt.Fprintln(os.Stderr, "capture:", res, err)
				return 1
			}
			fmt.Println(email)
		}
	case "flush":
		if err := sdk.Close(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "flush:", err)
			return 1
		}
		return 0
	}
	return 2
}

func startChild(t *testing.T, role, api, dir, channel string, env ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "RECHAT_CHILD="+role, "RECHAT_API="+api, "RECHAT_OUTBOX="+dir, "RECHAT_CHANNEL="+channel)
	cmd.Env = append(cmd.Env, env...)
	cmd.Stderr = os.Stderr
	return cmd
}

func TestOutboxDeliversAfterOutage(t *testing.T) {
	s := testserver.Start(t)
	dir := t.TempDir()
	sdk := newSdk(t, s.URL, dir)
	ctx := context.Background()
	ch := rechat.Channel{LeadChannel: s.ChannelID}

	s.Down(t)
	var queued []string
	for i := range 3 {
		res := mustQueue(t, sdk, ch, fmt.Sprintf("down-%d@example.com", i))
		if res.QueueID == "" || res.ID != "" {
			t.Fatalf("capture while down = %+v, want a queue id and no lead id", res)
		}
		queued = append(queued, res.QueueID)
	}
	pending, err := sdk.Leads.Pending()
	if err != nil || len(pending) != 3 {
		t.Fatalf("pending = %v, %v", pending, err)
	}
	for i, p := range pending {
		if p.ID != queued[i] || p.Kind != rechat.KindLead || p.IdempotencyKey == "" {
			t.Errorf("pending[%d] = %+v, want queue id %s in order", i, p, queued[i])
		}
	}
	if err := sdk.Leads.Flush(ctx); err == nil {
		t.Error("Flush while the API is down returned nil")
	}

	s.Up(t)
	if err := sdk.Leads.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := sdk.Leads.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		leadByEmail(t, s, fmt.Sprintf("down-%d@example.com", i))
	}
	leads := s.Leads(t)
	if len(leads) != 3 {
		t.Errorf("%d leads, want 3", len(leads))
	}
	// Newest first: the outbox kept the order of capture.
	if leads[0].Payload.Email != "down-2@example.com" || leads[2].Payload.Email != "down-0@example.com" {
		t.Errorf("delivery order: %s, %s, %s", leads[0].Payload.Email, leads[1].Payload.Email, leads[2].Payload.Email)
	}
	if p, _ := sdk.Leads.Pending(); len(p) != 0 {
		t.Errorf("pending after delivery: %v", p)
	}
}

func TestOutboxQueuesTrackingEvents(t *testing.T) {
	s := testserver.Start(t)
	sdk := newSdk(t, s.URL, "")
	ctx := context.Background()
	res, err := sdk.Leads.Capture(ctx, rechat.Channel{LeadChannel: s.ChannelID}, rechat.Lead{Email: "t@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	s.Down(t)
	if err := sdk.Leads.Tracker.ForLead(res.ID).ViewedListing(ctx, rechat.Listing{MLSNumber: "9"}, ""); err != nil {
		t.Fatalf("tracking while down: %v", err)
	}
	if p, _ := sdk.Leads.Pending(); len(p) != 1 || p[0].Kind != rechat.KindActivity {
		t.Fatalf("pending = %+v", p)
	}
	s.Up(t)
	if err := sdk.Leads.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if tl := leadByEmail(t, s, "t@example.com").Timeline; len(tl) != 1 || tl[0].Listing.MLSNumber != "9" {
		t.Errorf("timeline = %+v", tl)
	}
}

func TestOutboxQueuesOnServerErrors(t *testing.T) {
	s := testserver.Start(t)
	var failing sync.Map // path -> remaining failures
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n, _ := failing.Load("fail"); n.(int) > 0 {
			failing.Store("fail", n.(int)-1)
			w.Header().Set("Retry-After", "1")
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
			return
		}
		s.Handler.ServeHTTP(w, r)
	}))
	defer front.Close()
	failing.Store("fail", 2)
	sdk := newSdk(t, front.URL, "")
	ctx := context.Background()
	mustQueue(t, sdk, rechat.Channel{LeadChannel: s.ChannelID}, "503@example.com")
	err := sdk.Leads.Flush(ctx)
	var apiErr *rechat.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 503 || apiErr.RetryAfter != time.Second {
		t.Fatalf("flush on 503 = %v", err)
	}
	if err := sdk.Leads.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	leadByEmail(t, s, "503@example.com")
}

// TestOutboxLostResponse loses the answer of a capture the server
// committed: the capture is queued, and the replay with the same key must
// not create a second lead.
func TestOutboxLostResponse(t *testing.T) {
	s := testserver.Start(t)
	lose, rc, url := startLossy(t, s)
	sdk := newSdk(t, url, "")
	ctx := context.Background()
	lose.Store(true)
	mustQueue(t, sdk, rechat.Channel{LeadChannel: s.ChannelID}, "lost@example.com")
	leadByEmail(t, s, "lost@example.com") // committed before the answer was lost
	lose.Store(false)
	if err := sdk.Leads.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	leadByEmail(t, s, "lost@example.com")
	if n := len(s.Leads(t)); n != 1 {
		t.Errorf("%d leads after a lost answer, want 1", n)
	}
	if keys := rc.Keys(); len(keys) < 2 || slices.ContainsFunc(keys, func(k string) bool { return k != keys[0] }) {
		t.Errorf("Idempotency-Keys sent = %q, want the same key on the first attempt and the replay", keys)
	}
}

func TestOutboxFull(t *testing.T) {
	sdk := newSdk(t, deadURL(t), "", func(s *rechat.Settings) { s.OfflineSync.MaxQueueSize = 2 })
	ctx := context.Background()
	ch := rechat.Channel{LeadChannel: "c"}
	for i := range 2 {
		mustQueue(t, sdk, ch, strconv.Itoa(i))
	}
	res, err := sdk.Leads.Capture(ctx, ch, rechat.Lead{Email: "one too many"})
	if !errors.Is(err, rechat.ErrQueueFull) || res != nil {
		t.Fatalf("capture into a full outbox = %+v, %v; want ErrQueueFull", res, err)
	}
	if p, _ := sdk.Leads.Pending(); len(p) != 2 {
		t.Errorf("%d pending, want 2", len(p))
	}
}

func TestOutboxDeadLetters(t *testing.T) {
	s := testserver.Start(t)
	sdk := newSdk(t, s.URL, "")
	ctx := context.Background()
	s.Down(t)
	unknown := rechat.Channel{LeadChannel: "0193a6f0-0000-7000-8000-000000000000"}
	mustQueue(t, sdk, unknown, "nowhere@example.com")
	mustQueue(t, sdk, rechat.Channel{LeadChannel: s.ChannelID}, "fine@example.com")
	s.Up(t)
	if err := sdk.Leads.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	leadByEmail(t, s, "fine@example.com")
	dead, err := sdk.Leads.DeadLetters()
	if err != nil || len(dead) != 1 {
		t.Fatalf("dead letters = %+v, %v", dead, err)
	}
	if d := dead[0]; d.Status != 404 || d.Code != "not_found" || d.Message == "" || d.Kind != rechat.KindLead || d.IdempotencyKey == "" {
		t.Errorf("dead letter = %+v", d)
	}
	if p, _ := sdk.Leads.Pending(); len(p) != 0 {
		t.Errorf("pending = %v", p)
	}
}

func TestOutboxBackgroundSender(t *testing.T) {
	s := testserver.Start(t)
	sdk := newSdk(t, s.URL, "", func(st *rechat.Settings) {
		st.OfflineSync.MinRetryDelay = 20 * time.Millisecond
		st.OfflineSync.MaxRetryDelay = 100 * time.Millisecond
	})
	s.Down(t)
	mustQueue(t, sdk, rechat.Channel{LeadChannel: s.ChannelID}, "bg@example.com")
	s.Up(t)
	for deadline := time.Now().Add(20 * time.Second); len(s.Leads(t)) == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the background sender did not deliver the queued lead")
		}
	}
	leadByEmail(t, s, "bg@example.com")
}

func TestCloseMakesLastAttempt(t *testing.T) {
	s := testserver.Start(t)
	sdk := newSdk(t, s.URL, "") // its cleanup's second Close does nothing
	s.Down(t)
	mustQueue(t, sdk, rechat.Channel{LeadChannel: s.ChannelID}, "close@example.com")
	s.Up(t)
	if err := sdk.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	leadByEmail(t, s, "close@example.com")
}

// TestOutboxSurvivesKill kills, round after round, a process capturing
// leads into the outbox in a tight loop. Nearly all of its time goes to
// writing items (temp file, fsync, rename, directory fsync), so a kill at
// a random moment lands in the middle of a write; the rounds go on until
// several kills were seen to (an item half-written in tmp/, or written
// whole but not yet reported). After each kill every item in queue/ must
// read back whole, and delivery must bring every lead the dead process
// reported queued exactly once, plus at most the one it was writing.
func TestOutboxSurvivesKill(t *testing.T) {
	s := testserver.Start(t)
	s.Unlimited(t, s.ChannelID)
	dir := t.TempDir()
	s.Down(t)
	sdk := newSdk(t, s.URL, dir)
	// Kills land at random moments, so the test goes on until enough of
	// them caught a write in progress. Where syncing costs nothing (a /tmp
	// in memory) writes are brief and one kill in five catches one.
	const maxRounds, wantMidWrite = 200, 5
	midWrite, tmpLeft, round := 0, 0, 0
	for ; round < maxRounds && midWrite < wantMidWrite; round++ {
		prefix := fmt.Sprintf("round%d", round)
		reported := killCapturingChild(t, s, dir, prefix)

		// Every item readable now; a half-written one may only be in tmp/.
		queue, err := os.ReadDir(filepath.Join(dir, "queue"))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range queue {
			b, err := os.ReadFile(filepath.Join(dir, "queue", e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := rechat.DecodeItem(b); err != nil {
				t.Fatalf("round %d: item %s read back broken after the kill: %v", round, e.Name(), err)
			}
		}
		if len(queue) < len(reported) {
			t.Fatalf("round %d: %d items queued, the child reported %d", round, len(queue), len(reported))
		}
		tmp, _ := os.ReadDir(filepath.Join(dir, "tmp"))
		if len(tmp) > tmpLeft || len(queue) > len(reported) {
			midWrite++
		}
		tmpLeft = len(tmp)

		s.Up(t)
		if err := sdk.Leads.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		s.Down(t)
		if p, _ := sdk.Leads.Pending(); len(p) != 0 {
			t.Fatalf("round %d: %d items still pending", round, len(p))
		}
		seen := map[string]int{}
		for _, l := range s.Leads(t) {
			if strings.HasPrefix(l.Payload.Email, prefix+"-") {
				seen[l.Payload.Email]++
			}
		}
		for _, email := range reported {
			if seen[email] != 1 {
				t.Errorf("round %d: %s delivered %d times, want once", round, email, seen[email])
			}
		}
		if len(seen) > len(reported)+1 {
			t.Errorf("round %d: %d leads delivered, %d reported queued", round, len(seen), len(reported))
		}
	}
	t.Logf("%d of %d kills landed in the middle of a write", midWrite, round)
	if midWrite < wantMidWrite {
		t.Errorf("only %d of %d kills landed in the middle of a write", midWrite, round)
	}
	if dead, _ := sdk.Leads.DeadLetters(); len(dead) != 0 {
		t.Errorf("dead letters after kills: %+v", dead)
	}
}

// killCapturingChild starts a child capturing leads into dir while the API
// is down, SIGKILLs it at a random moment once it is looping, and returns
// the emails it reported queued.
func killCapturingChild(t *testing.T, s *testserver.Server, dir, prefix string) []string {
	t.Helper()
	cmd := startChild(t, "capture", s.URL, dir, s.ChannelID, "RECHAT_PREFIX="+prefix)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(out)
	var reported []string
	for lines.Scan() {
		reported = append(reported, lines.Text())
		if len(reported) == 1 {
			time.AfterFunc(rand.N(30*time.Millisecond), func() { cmd.Process.Signal(syscall.SIGKILL) })
		}
	}
	cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("the child ended by itself (%v) instead of being killed", cmd.ProcessState)
	}
	if len(reported) == 0 {
		t.Fatal("the child queued no lead")
	}
	return reported
}

// TestOutboxSharedBySenders lets two Sdks and a second process deliver one
// outbox at once: each item must reach the API once, not merely end up
// as one lead thanks to the idempotency key.
func TestOutboxSharedBySenders(t *testing.T) {
	s := testserver.Start(t)
	rc, url := startRecorder(t, s)
	dir := t.TempDir()
	const n = 60
	offline := newSdk(t, deadURL(t), dir)
	for i := range n {
		mustQueue(t, offline, rechat.Channel{LeadChannel: s.ChannelID}, fmt.Sprintf("shared-%d@example.com", i))
	}

	cmd := startChild(t, "flush", url, dir, s.ChannelID)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 2 {
		sdk := newSdk(t, url, dir)
		wg.Go(func() {
			if err := sdk.Leads.Flush(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v", err)
	}

	keys := rc.Keys()
	count := map[string]int{}
	for _, k := range keys {
		count[k]++
	}
	for k, c := range count {
		if c != 1 {
			t.Errorf("key %s sent %d times", k, c)
		}
	}
	if len(keys) != n || len(s.Leads(t)) != n {
		t.Errorf("%d requests, %d leads; want %d of each", len(keys), len(s.Leads(t)), n)
	}
	if p, _ := offline.Leads.Pending(); len(p) != 0 {
		t.Errorf("%d pending", len(p))
	}
	if strings.Contains(fmt.Sprint(count), "\"\"") {
		t.Error("a request without an Idempotency-Key")
	}
}
