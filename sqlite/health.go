package sqlite

import (
	"fmt"
	"sync"
	"time"
)

// healthTTL is how long Health keeps an answer: probes may come often,
// from every load balancer, and the answer costs a few system calls.
const healthTTL = time.Second

type healthCache struct {
	mu  sync.Mutex
	at  time.Time
	err error
}

// Health reports whether a capture can be stored now: nil, or an
// EUNAVAILABLE error naming why not. It checks that the store is open and
// started, that the writer is not stuck on one batch for longer than the
// write timeout, that the file at the path is still the open database,
// that the database can be written and that its disk has space. Answers
// are kept for a second.
func (s *Store) Health() error {
	s.health.mu.Lock()
	defer s.health.mu.Unlock()
	if now := time.Now(); now.Sub(s.health.at) >= healthTTL {
		s.health.at, s.health.err = now, s.checkHealth()
	}
	return s.health.err
}

func (s *Store) checkHealth() error {
	select {
	case <-s.w.stopping:
		return unavailable(nil, "the store is closed")
	default:
	}
	if s.w.loading.Load() {
		return unavailable(nil, "starting: loading the contact index and idempotency keys")
	}
	if since := s.w.busySince.Load(); since != 0 {
		if busy := time.Since(time.Unix(0, since)); busy > s.writeTimeout() {
			return unavailable(fmt.Errorf("one batch has been writing for %s", busy),
				"cannot store now: the database has not finished a write for %s", busy.Round(time.Second))
		}
	}
	if err := s.file.check(); err != nil {
		return err
	}
	return s.file.writable()
}
