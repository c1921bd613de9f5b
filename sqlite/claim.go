package sqlite

import (
	"fmt"
	"os"
	"syscall"
)

// ClaimWriter makes this process the one that captures leads into the
// file, as the server does: the writer's in-memory contact index and
// idempotency keys are exact only while no other process captures into
// the same file. It holds an exclusive lock on the file's "-writer.lock"
// companion until Close (or until the process dies) and fails at once when
// another process holds it. Processes that only read or create channels,
// like the CLI, need not claim.
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
	return nil
}
