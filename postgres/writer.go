package postgres

import (
	"context"
	"errors"
	"runtime"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/metrics"
)

// maxBatch caps how many captures share one transaction, so one commit
// never holds its first waiter for long.
const maxBatch = 256

// maxAttempts is how often a batch is run when PostgreSQL aborts it to
// break a deadlock with another server's batch (see storeBatch): the whole
// transaction was rolled back, so running it again is safe.
const maxAttempts = 3

// errClosed answers captures made after Close.
var errClosed = errors.New("postgres: store is closed")

// errWriteTimeout ends a capture that waited longer than the write timeout.
var errWriteTimeout = errors.New("postgres: write timeout")

type request struct {
	ctx  context.Context
	c    *pendingCapture
	done chan error // buffered: the writer never waits for a waiter
}

// writer stores the captures of this process in batches, one transaction
// each (group commit): its goroutine takes every capture waiting and
// stores them together. A commit costs a disk flush and a round trip
// whatever it holds, so sharing it is what lets one server store more
// leads per second than clients inserting one row per transaction.
//
// One batch of a process is in flight at a time: captures arriving while
// it commits make the next one larger, which is what amortizes its round
// trips and statements. A second goroutine overlapping the first halves
// the batches and, measured with the load test, stores no more leads per
// second from one server and fewer from three sharing a database.
type writer struct {
	s        *Store
	requests chan *request
	stopping chan struct{}
	running  sync.WaitGroup
}

func newWriter(s *Store) *writer {
	w := &writer{s: s, requests: make(chan *request), stopping: make(chan struct{})}
	w.running.Go(w.loop)
	return w
}

// do hands c to the writer and waits until it is committed or refused, for
// at most the write timeout: a client held longer by an unreachable
// database is better told EUNAVAILABLE, and sends again. A capture the
// writer has not begun when the time is up is never written; one it has
// may still be, as with a response lost on the network.
func (w *writer) do(ctx context.Context, c *pendingCapture) error {
	timeout := w.s.writeTimeout()
	ctx, cancel := context.WithTimeoutCause(ctx, timeout, errWriteTimeout)
	defer cancel()
	r := &request{ctx: ctx, c: c, done: make(chan error, 1)}
	err := func() error {
		select {
		case w.requests <- r:
		case <-w.stopping:
			return errClosed
		case <-ctx.Done():
			return ctx.Err()
		}
		select {
		case err := <-r.done:
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	}()
	if err != nil && context.Cause(ctx) == errWriteTimeout {
		return unavailable(err, "cannot store now: the database did not answer within %s; retry later", timeout)
	}
	return err
}

func (w *writer) loop() {
	batch := make([]*request, 0, maxBatch)
	for {
		var r *request
		select {
		case r = <-w.requests:
		case <-w.stopping:
			for {
				if batch = w.collect(batch[:0]); len(batch) == 0 {
					return
				}
				w.run(batch)
			}
		}
		// Let the handlers that are ready to run reach the queue first:
		// fuller batches are what raise throughput.
		runtime.Gosched()
		batch = w.collect(append(batch[:0], r))
		w.run(batch)
	}
}

// collect appends the captures waiting right now, up to the batch cap.
func (w *writer) collect(batch []*request) []*request {
	for len(batch) < maxBatch {
		select {
		case r := <-w.requests:
			batch = append(batch, r)
		default:
			return batch
		}
	}
	return batch
}

// stop makes new captures fail and waits for the batches in progress.
func (w *writer) stop() {
	close(w.stopping)
	w.running.Wait()
}

// run stores the batch in one transaction and answers every capture once
// it is committed, or refused. When the database refuses the data of the
// batch (a text it cannot store), the captures are stored one by one, so
// that only the one at fault fails.
func (w *writer) run(batch []*request) {
	live := batch[:0:0]
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.done <- err // its caller is gone: do not write on its behalf
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}
	metrics.BatchSize.WithLabelValues("postgres").Observe(float64(len(live)))
	captures := make([]*pendingCapture, len(live))
	for i, r := range live {
		captures[i] = r.c
	}
	errs := make([]error, len(live))
	if err := w.store(captures); err != nil && len(captures) > 1 && leadwire.ErrorCode(err) == leadwire.EINVALID {
		for i := range captures {
			errs[i] = w.store(captures[i : i+1])
		}
	} else {
		for i := range errs {
			errs[i] = err
		}
	}
	for i, r := range live {
		if errs[i] != nil {
			r.done <- errs[i]
		} else {
			r.done <- captures[i].err
		}
	}
}

// store stores the captures in one transaction, again when PostgreSQL
// aborted it to break a deadlock, and returns storageFault's error.
func (w *writer) store(captures []*pendingCapture) error {
	var err error
	for attempt := 1; ; attempt++ {
		// A waiter's cancellation must not interrupt the others' commit;
		// the write timeout bounds a database that stopped answering.
		ctx, cancel := context.WithTimeout(context.Background(), w.s.writeTimeout())
		err = w.s.storeBatch(ctx, captures, w.s.Now().UnixMilli())
		cancel()
		if !retryable(err) || attempt == maxAttempts {
			break
		}
	}
	if err != nil {
		metrics.DBErrors.WithLabelValues("postgres").Inc()
	}
	return storageFault(err)
}

// retryable reports whether PostgreSQL rolled the transaction back to
// break a deadlock or a serialization conflict.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001")
}

// inTx runs fn in a transaction and commits it, turning faults of the
// database into EUNAVAILABLE.
func (s *Store) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	ctx, cancel := context.WithTimeout(ctx, s.writeTimeout())
	defer cancel()
	var err error
	for attempt := 1; ; attempt++ {
		err = pgx.BeginFunc(ctx, s.pool, fn)
		if !retryable(err) || attempt == maxAttempts {
			break
		}
	}
	if err != nil && !isRefusal(err) {
		metrics.DBErrors.WithLabelValues("postgres").Inc()
	}
	return storageFault(err)
}

// isRefusal reports whether err is the application refusing a request.
func isRefusal(err error) bool {
	var e *leadwire.Error
	return errors.As(err, &e) && e.Code != leadwire.EUNAVAILABLE
}

// sinceMillis is a helper for now in Unix milliseconds.
func (s *Store) nowMillis() int64 { return s.Now().UnixMilli() }
