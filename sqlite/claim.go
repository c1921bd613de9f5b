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
// the same file. It holds an exclusive lock on the file's "-writer.lock"
// companion until Close (or until the process dies) and fails at once when
// another process holds it. Processes that only read or create channels,
// like the CLI, need not claim.
//
// It also loads the writer's memory from the file, so that the first
// capture after a restart does not wait while every contact is read.
func (s *Store) ClaimWriter() error {
	path := s.path + "-writer.lock"
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return fmt.Errorf("%s is in use by another leadwire server (lock %s): %w", s.path, path, err)
	}
	s.claim = f
	return s.w.do(context.Background(), loadMemoryOp{})
}

// loadMemoryOp loads the writer's memory ahead of the first capture.
type loadMemoryOp struct{}

func (loadMemoryOp) apply(w *writer, now time.Time) error {
	_, err := w.memory(now)
	return err
}
