package rechat

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// sender delivers the outbox in the background: one pass at start, then a
// pass after each backoff delay while the API is unreachable, and one per
// poll interval while it is idle (to pick up items other processes left).
type sender struct {
	client *client
	box    *outbox
	min    time.Duration
	max    time.Duration
	poll   time.Duration

	queued chan struct{} // an item was added; buffered 1

	stopOnce sync.Once
	stopping chan struct{} // closed by close: start no pass and no item
	ctx      context.Context
	abort    context.CancelFunc // cancels the request of the running pass
	done     chan struct{}      // closed when run returns
}

func newSender(c *client, base string, s OfflineSyncSettings) (*sender, error) {
	dir := s.Dir
	if dir == "" {
		var err error
		if dir, err = defaultOutboxDir(base); err != nil {
			return nil, err
		}
	}
	if s.MaxQueueSize <= 0 {
		s.MaxQueueSize = 500
	}
	if s.MinRetryDelay <= 0 {
		s.MinRetryDelay = time.Second
	}
	if s.MaxRetryDelay < s.MinRetryDelay {
		s.MaxRetryDelay = max(5*time.Minute, s.MinRetryDelay)
	}
	if s.PollInterval <= 0 {
		s.PollInterval = time.Minute
	}
	box, err := openOutbox(dir, s.MaxQueueSize)
	if err != nil {
		return nil, err
	}
	ctx, abort := context.WithCancel(context.Background())
	return &sender{
		client: c, box: box,
		min: s.MinRetryDelay, max: s.MaxRetryDelay, poll: s.PollInterval,
		queued:   make(chan struct{}, 1),
		stopping: make(chan struct{}),
		ctx:      ctx, abort: abort, done: make(chan struct{}),
	}, nil
}

func (s *sender) run() {
	defer close(s.done)
	timer := time.NewTimer(0)
	defer timer.Stop()
	attempt := 0 // failed passes in a row
	for {
		select {
		case <-s.stopping:
			return
		case <-s.queued:
			if attempt > 0 {
				continue // already retrying on its own schedule
			}
			// The API just failed the caller: try again soon, not at once.
			timer.Reset(backoff(1, 0, s.min, s.max))
			continue
		case <-timer.C:
		}
		err := s.flush(s.ctx, s.stopping, false)
		select {
		case <-s.stopping:
			return
		default:
		}
		if err != nil {
			attempt++
			timer.Reset(backoff(attempt, retryAfter(err), s.min, s.max))
		} else {
			attempt = 0
			timer.Reset(s.poll)
		}
	}
}

// backoff is the wait before retry number attempt (1, 2, ...): an
// exponential delay from first capped at limit, with jitter between half
// and all of it so that many senders do not retry in step, and never
// shorter than what the server asked for with Retry-After.
func backoff(attempt int, retryAfter, first, limit time.Duration) time.Duration {
	d := first
	for i := 1; i < attempt && d < limit; i++ {
		d *= 2
	}
	d = min(d, limit)
	d = d/2 + rand.N(d/2+1)
	return max(d, retryAfter)
}

// notify wakes the background loop after an item was added.
func (s *sender) notify() {
	select {
	case s.queued <- struct{}{}:
	default:
	}
}

// close stops the loop and makes one last pass bounded by ctx. A request
// the loop has in flight is let finish rather than cut off, so that an
// item is not sent twice for nothing; only when ctx ends first is it
// aborted (the item stays queued).
func (s *sender) close(ctx context.Context) error {
	first := false
	s.stopOnce.Do(func() { first = true; close(s.stopping) })
	if !first {
		return errClosed
	}
	defer s.abort()
	select {
	case <-s.done:
	case <-ctx.Done():
		s.abort()
		<-s.done
		return ctx.Err()
	}
	return s.flush(ctx, nil, true)
}

// flush delivers queued items oldest first and stops at the first failure
// that may pass (the API is still unreachable), returning it; refused
// items go to dead letters. An item another sender holds is skipped, or
// with wait, left to that sender to finish (or give back) first. Once stop
// is closed (nil: never) no further item is started.
func (s *sender) flush(ctx context.Context, stop <-chan struct{}, wait bool) error {
	names, err := s.box.names()
	if err != nil {
		return err
	}
	for _, name := range names {
		select {
		case <-stop:
			return nil
		default:
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		c, err := s.box.claim(ctx, name, wait)
		if err != nil {
			return err
		}
		if c == nil {
			continue
		}
		if err := s.deliver(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

// deliver sends one claimed item with its own idempotency key, so that a
// replay of a request whose answer was lost returns the original lead.
func (s *sender) deliver(ctx context.Context, c *claim) error {
	if c.item == nil {
		return c.bury(0, "unreadable", c.err.Error())
	}
	err := s.client.post(ctx, &c.item.request, nil)
	var apiErr *APIError
	switch {
	case err == nil:
		return c.done()
	case retryable(err) || ctx.Err() != nil:
		c.release()
		return err
	case errors.As(err, &apiErr):
		return c.bury(apiErr.Status, apiErr.Code, apiErr.Message)
	default:
		return c.bury(0, "", err.Error())
	}
}

// send posts r and, when the API cannot be reached or answers 429/5xx,
// queues it in the outbox (when s is not nil). queueID is set when it was
// queued.
func send(ctx context.Context, c *client, s *sender, kind string, r *request, out any) (queueID string, err error) {
	err = c.post(ctx, r, out)
	if err == nil || s == nil || !retryable(err) {
		return "", err
	}
	queueID, qerr := s.box.add(kind, *r)
	if qerr != nil {
		return "", fmt.Errorf("%w; not queued: %w", err, qerr)
	}
	s.notify()
	return queueID, nil
}
