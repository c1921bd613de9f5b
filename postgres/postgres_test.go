package postgres

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leadwire/leadwire/internal/pgtest"
	"github.com/leadwire/leadwire/internal/storetest"
)

// openAt opens a store on url whose clock reads storetest.Start until set.
func openAt(t testing.TB, url string, now *atomic.Pointer[time.Time]) *Store {
	t.Helper()
	s, err := Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	s.Now = func() time.Time { return *now.Load() }
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func openTest(t testing.TB) (*Store, func(time.Time)) {
	t.Helper()
	var now atomic.Pointer[time.Time]
	setNow := func(at time.Time) { now.Store(&at) }
	setNow(storetest.Start)
	return openAt(t, pgtest.NewSchema(t), &now), setNow
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (storetest.Store, func(time.Time)) {
		return openTest(t)
	})
}

func TestSharedStore(t *testing.T) {
	storetest.RunShared(t, func(t *testing.T) (a, b storetest.Store, setNow func(time.Time)) {
		var now atomic.Pointer[time.Time]
		setNow = func(at time.Time) { now.Store(&at) }
		setNow(storetest.Start)
		url := pgtest.NewSchema(t)
		return openAt(t, url, &now), openAt(t, url, &now), setNow
	})
}
