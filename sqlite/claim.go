package sqlite

import (
	"context"
	"fmt"
	"os"
	"syscall"
	"time"
)

// ClaimWriter makes this process the one that captures leads into the
// file, as the server does: the writer's in-memory contact index and
// idempotency keys are exact only while no other process captures into
// the same file. It holds an exclusive lock on the database file until
// Close (or until the process dies) and fails at once when another
// process holds it. Processes that only read or create channels, like the
// CLI, need not claim.
//
// The lock is a flock on the database file itself, so it belongs to the
// file and not to a name: a second server given a symlink, a hard link or
// another spelling of the path finds it taken. flock locks are apart from
// the POSIX record locks SQLite takes on the same file, except on NFS,
// where SQLite's WAL mode does not work anyway.
//
// Once claimed, the writer's memory is loaded in the background, so the
// server can listen at once; Health says the store is starting and
// captures wait (within the write timeout) until Ready is closed.
func (s *Store) ClaimWriter() error {
	if s.ready != nil {
		return nil // claimed already
	}
	if s.claim == nil {
		f, err := os.Open(s.path)
		if err != nil {
			return err
		}
		// Kept open even when the lock is refused: closing a descriptor of
		// the file would drop the POSIX locks SQLite holds on it.
		s.claim = f
		fi, err := f.Stat()
		if err != nil {
			return err
		}
		if !os.SameFile(fi, s.file.opened) {
			return fmt.Errorf("%s was replaced while leadwire opened it", s.path)
		}
	}
	if err := syscall.Flock(int(s.claim.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return fmt.Errorf("%s is in use by another leadwire server: %w", s.path, err)
	}
	s.ready = make(chan struct{})
	s.w.sole.Store(true)
	s.w.loading.Store(true)
	go func() {
		defer close(s.ready)
		defer s.w.loading.Store(false)
		// Not bound by the write timeout: loading is the writer's own work,
		// and captures wait behind it within theirs.
		s.readyErr = s.w.wait(context.Background(), loadMemoryOp{})
	}()
	return nil
}

// Ready is closed when the memory load ClaimWriter started has ended;
// ReadyErr then tells whether it failed (the first capture loads it
// again). Before ClaimWriter it is nil.
func (s *Store) Ready() <-chan struct{} { return s.ready }

// ReadyErr is the error of the memory load, once Ready is closed.
func (s *Store) ReadyErr() error { return s.readyErr }

// loadMemoryOp loads the writer's memory ahead of the first capture.
type loadMemoryOp struct{}

func (loadMemoryOp) apply(w *writer, now time.Time) error {
	_, err := w.memory(now)
	return err
}
