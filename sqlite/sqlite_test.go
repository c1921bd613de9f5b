package sqlite

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leadwire/leadwire/internal/storetest"
)

// openTest opens a new store in t.TempDir whose clock reads storetest.Start
// until set, and checks the file when t ends.
func openTest(t *testing.T) (*Store, func(time.Time)) {
	t.Helper()
	return openTestAt(t, filepath.Join(t.TempDir(), "leadwire.db"))
}

func openTestAt(t *testing.T, path string) (*Store, func(time.Time)) {
	t.Helper()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var now atomic.Pointer[time.Time]
	setNow := func(at time.Time) { now.Store(&at) }
	setNow(storetest.Start)
	s.Now = func() time.Time { return *now.Load() }
	t.Cleanup(func() {
		if err := s.Check(context.Background()); err != nil {
			t.Error(err)
		}
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s, setNow
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (storetest.Store, func(time.Time)) {
		return openTest(t)
	})
}
