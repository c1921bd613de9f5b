package sqlite

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/leadwire/leadwire"
)

// wantUnavailable fails t unless err is EUNAVAILABLE with a message
// containing want.
func wantUnavailable(t *testing.T, what string, err error, want string) {
	t.Helper()
	if leadwire.ErrorCode(err) != leadwire.EUNAVAILABLE || !strings.Contains(leadwire.ErrorMessage(err), want) {
		t.Errorf("%s = %v, want %s with %q", what, err, leadwire.EUNAVAILABLE, want)
	}
}

func TestClaimWriterLocksTheFileNotItsName(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "leadwire.db")
	first, _ := openTestAt(t, path)
	if err := first.ClaimWriter(); err != nil {
		t.Fatal(err)
	}
	<-first.Ready()
	// A hard link shares the file but not its write-ahead log: SQLite can
	// open it only with every page in the file itself.
	if _, err := first.w.conn.ExecContext(context.Background(), "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		t.Fatal(err)
	}
	symlink, hardlink := filepath.Join(dir, "symlink.db"), filepath.Join(t.TempDir(), "hardlink.db")
	if err := os.Symlink(path, symlink); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(path, hardlink); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{symlink, hardlink, filepath.Join(dir, ".", "leadwire.db")} {
		t.Run(filepath.Base(name), func(t *testing.T) {
			second, _ := openTestAt(t, name)
			if err := second.ClaimWriter(); err == nil || !strings.Contains(err.Error(), "in use") {
				t.Errorf("a second claim through %s = %v, want an error", name, err)
			}
		})
	}
}

// blockingOp holds the writer until release is closed.
type blockingOp struct{ started, release chan struct{} }

func (o blockingOp) apply(*writer, time.Time) error {
	close(o.started)
	<-o.release
	return nil
}

// holdWriter keeps the writer busy until the returned function is called.
func holdWriter(t *testing.T, s *Store) (release func()) {
	t.Helper()
	o := blockingOp{started: make(chan struct{}), release: make(chan struct{})}
	go s.w.wait(context.Background(), o)
	<-o.started
	return func() { close(o.release) }
}

func TestWriteTimeout(t *testing.T) {
	s, _ := openTest(t)
	ch := &leadwire.Channel{Name: "Site"}
	if err := s.CreateChannel(context.Background(), ch); err != nil {
		t.Fatal(err)
	}
	s.WriteTimeout = 50 * time.Millisecond
	release := holdWriter(t, s)
	start := time.Now()
	_, _, err := s.CaptureLeads(context.Background(), oneLead(ch.ID, "k", "h", "late@example.com"))
	waited := time.Since(start)
	wantUnavailable(t, "a capture behind a stuck write", err, "did not answer within 50ms")
	if waited < s.WriteTimeout || waited > 10*s.WriteTimeout {
		t.Errorf("the capture waited %s, want about %s", waited, s.WriteTimeout)
	}
	wantUnavailable(t, "health while one write takes longer than the timeout", s.checkHealth(), "has not finished a write")
	release()
	s.WriteTimeout = 0 // the default again: a busy machine may take 50ms to commit what follows

	// The capture that timed out was never handed to the writer, so
	// nothing was stored for it and its key is free.
	if n := countLeads(t, s); n != 0 {
		t.Errorf("the capture that timed out stored %d leads", n)
	}
	if leads, replayed, err := s.CaptureLeads(context.Background(), oneLead(ch.ID, "k", "h", "late@example.com")); err != nil || replayed || len(leads) != 1 {
		t.Errorf("sending it again: %d leads, replayed %v, %v", len(leads), replayed, err)
	}
	if err := s.checkHealth(); err != nil {
		t.Errorf("health once the write ended: %v", err)
	}
	// A caller's own cancellation is not the store's fault.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := s.CaptureLeads(ctx, oneLead(ch.ID, "", "", "gone@example.com")); !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled capture = %v, want context.Canceled", err)
	}
}

func TestStartingStore(t *testing.T) {
	s, _ := openTest(t)
	ch := &leadwire.Channel{Name: "Site"}
	if err := s.CreateChannel(context.Background(), ch); err != nil {
		t.Fatal(err)
	}
	// The memory load waits behind a held write, as it would behind a
	// million contacts being read.
	release := holdWriter(t, s)
	if err := s.ClaimWriter(); err != nil {
		t.Fatal(err)
	}
	wantUnavailable(t, "health while loading", s.checkHealth(), "starting")
	s.WriteTimeout = 20 * time.Millisecond
	_, _, err := s.CaptureLeads(context.Background(), oneLead(ch.ID, "", "", "early@example.com"))
	wantUnavailable(t, "a capture that waits longer than the timeout while loading", err, "starting")

	s.WriteTimeout = 0
	captured := make(chan error, 1)
	go func() {
		_, _, err := s.CaptureLeads(context.Background(), oneLead(ch.ID, "", "", "patient@example.com"))
		captured <- err
	}()
	release()
	<-s.Ready()
	if err := s.ReadyErr(); err != nil {
		t.Fatal(err)
	}
	if err := <-captured; err != nil {
		t.Errorf("a capture waiting for the load within the timeout: %v", err)
	}
	if err := s.checkHealth(); err != nil {
		t.Errorf("health once loaded: %v", err)
	}
	if n := countLeads(t, s); n != 1 {
		t.Errorf("%d leads stored, want only the one that waited", n)
	}
}

func TestLostDatabaseFileIsUnavailable(t *testing.T) {
	for _, tt := range []struct {
		name string
		lose func(t *testing.T, path string)
		want string
	}{
		{"directory deleted", func(t *testing.T, path string) {
			if err := os.RemoveAll(filepath.Dir(path)); err != nil {
				t.Fatal(err)
			}
		}, "deleted"},
		{"file deleted", func(t *testing.T, path string) {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
		}, "deleted"},
		{"file replaced", func(t *testing.T, path string) {
			if err := os.WriteFile(path+".new", nil, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(path+".new", path); err != nil {
				t.Fatal(err)
			}
		}, "replaced"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "db", "leadwire.db")
			if err := os.Mkdir(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			s, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			ch := &leadwire.Channel{Name: "Site"}
			if err := s.CreateChannel(ctx, ch); err != nil {
				t.Fatal(err)
			}
			mustCapture(t, s, oneLead(ch.ID, "before", "h", "before@example.com"))
			tt.lose(t, path)

			_, _, err = s.CaptureLeads(ctx, oneLead(ch.ID, "after", "h", "after@example.com"))
			wantUnavailable(t, "a capture into a lost file", err, tt.want)
			// Nor is a replay answered from memory: the memory is dropped.
			_, _, err = s.CaptureLeads(ctx, oneLead(ch.ID, "before", "h", "before@example.com"))
			wantUnavailable(t, "a replay from a lost file", err, tt.want)
			wantUnavailable(t, "health", s.checkHealth(), tt.want)
		})
	}
}

// TestFileLostDuringCommitIsNotAcknowledged deletes the file while a batch
// is being written: its captures are committed into the lost file and must
// not be answered as stored, nor remembered for a retry.
func TestFileLostDuringCommitIsNotAcknowledged(t *testing.T) {
	s, ch := openStopped(t, nil)
	o := prepare(t, s, oneLead(ch.ID, "k", "h", "lost@example.com"))
	lose := loseFileOp{path: s.path}
	errs := runBatch(s, context.Background(), o, lose)
	wantUnavailable(t, "a capture committed into a deleted file", errs[0], "deleted")
	if s.w.mem != nil {
		t.Error("the memory of a batch committed into a deleted file is kept")
	}
}

// loseFileOp deletes the database file from inside a batch.
type loseFileOp struct{ path string }

func (o loseFileOp) apply(*writer, time.Time) error { return os.Remove(o.path) }

func TestStorageFaultIsUnavailable(t *testing.T) {
	s, ch := openStopped(t, nil)
	// A read-only connection fails its writes with SQLITE_READONLY, as a
	// read-only file does.
	if _, err := s.w.conn.ExecContext(context.Background(), "PRAGMA query_only = 1"); err != nil {
		t.Fatal(err)
	}
	err := runBatch(s, context.Background(), prepare(t, s, oneLead(ch.ID, "k", "h", "ro@example.com")))[0]
	wantUnavailable(t, "a capture into a read-only database", err, "read-only")

	if _, err := s.w.conn.ExecContext(context.Background(), "PRAGMA query_only = 0"); err != nil {
		t.Fatal(err)
	}
	if err := runBatch(s, context.Background(), prepare(t, s, oneLead(ch.ID, "k", "h", "ro@example.com")))[0]; err != nil {
		t.Errorf("a capture once the fault is gone: %v", err)
	}
	if n := countLeads(t, s); n != 1 {
		t.Errorf("%d leads stored, want 1", n)
	}
}

func TestHealth(t *testing.T) {
	s, _ := openTest(t)
	if err := s.Health(); err != nil {
		t.Fatalf("health of a new store: %v", err)
	}
	// The answer is kept for a second.
	if err := os.Remove(s.path); err != nil {
		t.Fatal(err)
	}
	if err := s.Health(); err != nil {
		t.Errorf("health within a second of the last check: %v, want the kept answer", err)
	}
	s.health.at = time.Time{}
	wantUnavailable(t, "health once the kept answer is old", s.Health(), "deleted")
}

func TestHealthOfAClosedStore(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "leadwire.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wantUnavailable(t, "health after Close", s.Health(), "closed")
}

// BenchmarkFileCheck is what each batch pays twice to know that the file
// it writes is still the database at the path.
func BenchmarkFileCheck(b *testing.B) {
	path := filepath.Join(b.TempDir(), "leadwire.db")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		b.Fatal(err)
	}
	f, err := openedFile(path)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := f.check(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHealth is one uncached health check.
func BenchmarkHealth(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "leadwire.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for b.Loop() {
		if err := s.checkHealth(); err != nil {
			b.Fatal(err)
		}
	}
}
