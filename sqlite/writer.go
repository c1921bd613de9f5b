package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/metrics"
)

// maxBatch caps how many requests share one transaction, so one commit
// never holds its first waiter for long.
const maxBatch = 256

// errClosed answers requests made after Close.
var errClosed = errors.New("sqlite: store is closed")

// errWriteTimeout ends a request that waited longer than the write timeout.
var errWriteTimeout = errors.New("sqlite: write timeout")

// op is one write request. apply runs inside the writer's open transaction.
// When the request itself is refused (unknown lead, idempotency conflict)
// apply returns a *leadwire.Error and has written nothing, so the rest of
// the batch goes on; any other error aborts the whole batch.
type op interface {
	apply(w *writer, now time.Time) error
}

type request struct {
	ctx  context.Context
	op   op
	done chan error // buffered: the writer never waits for a waiter
}

// writer owns the write connection and everything kept in memory to write
// without reading: the statements, the contact index and the recent
// idempotency keys.
type writer struct {
	conn     *sql.Conn
	file     *dbFile
	now      func() time.Time
	timeout  func() time.Duration // how long do waits; see Store.WriteTimeout
	maxBatch int

	// busySince is when the batch in progress began (Unix nanoseconds),
	// 0 between batches; loading is true while the memory is loaded ahead
	// of the first capture. Health reads both.
	busySince atomic.Int64
	loading   atomic.Bool
	// sole is true once this process holds the file's writer claim
	// (ClaimWriter): no other process stores contacts, so a contact the
	// memory does not know does not exist, and the writer need not ask
	// the schema.
	sole atomic.Bool
	// searchBehind is true while leads may be missing from the search
	// index (see search.go). stored counts the leads the writer stored,
	// indexed how many of them were when the index was last up to date.
	searchBehind    atomic.Bool
	stored, indexed int64
	indexFailed     time.Time // when indexing last failed: it waits a second

	requests chan *request
	stopping chan struct{}
	stopped  chan struct{}

	insertChannel  *sql.Stmt
	insertContact  *sql.Stmt
	updateContact  *sql.Stmt
	insertLead     *sql.Stmt
	indexCaptures  *sql.Stmt
	findCapture    *sql.Stmt
	indexKeys      *sql.Stmt
	matchContact   *sql.Stmt
	insertActivity *sql.Stmt
	findActivity   *sql.Stmt
	indexSearch    *sql.Stmt
	indexAssignees *sql.Stmt
	indexContacts  *sql.Stmt
	insertAssignee *sql.Stmt
	words          searchWords

	// insertDeliveries fills the outbox in the transaction of the lead
	// (see delivery.go); deliveriesQueued says the batch made deliveries
	// due, and queued wakes the dispatcher once the batch is committed.
	insertDeliveries *sql.Stmt
	deliveriesQueued bool
	// destinations says whether any destination is enabled, as read when
	// the batch's transaction began (no other process can add one while
	// it holds the write lock); without one, captures skip the outbox.
	destinations bool
	queued       chan struct{}
	// leadsStored is signaled after a commit that stored new leads.
	leadsStored chan struct{}

	// mem is loaded from the database by the first capture and dropped
	// whenever a batch fails, since it may then hold rolled-back changes.
	// Processes that never capture (the CLI) never load it.
	mem *memory
}

func newWriter(ctx context.Context, conn *sql.Conn, file *dbFile, now func() time.Time, timeout func() time.Duration) (*writer, error) {
	w := &writer{
		conn:        conn,
		file:        file,
		now:         now,
		timeout:     timeout,
		maxBatch:    maxBatch,
		requests:    make(chan *request),
		stopping:    make(chan struct{}),
		stopped:     make(chan struct{}),
		queued:      make(chan struct{}, 1),
		leadsStored: make(chan struct{}, 1),
	}
	w.searchBehind.Store(true) // leads stored by an earlier version or lost with a failed batch
	w.words = searchWords{conn}
	for _, q := range searchWordsSetup {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return nil, err
		}
	}
	for _, p := range []struct {
		stmt  **sql.Stmt
		query string
	}{
		{&w.insertChannel, `INSERT INTO channels (id, name, brand_id, user_id, allowed_origins, screening, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`},
		{&w.insertContact, `INSERT INTO contacts (id, brand, first_name, last_name, email, phone_number,
			email_key, phone_key, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`},
		// A lead fills the contact's empty values and never replaces one;
		// an email or phone filled brings its match key along.
		{&w.updateContact, `UPDATE contacts SET
			first_name = iif(first_name = '', ?1, first_name),
			last_name = iif(last_name = '', ?2, last_name),
			email = iif(email = '', ?3, email), email_key = iif(email = '', ?5, email_key),
			phone_number = iif(phone_number = '', ?4, phone_number), phone_key = iif(phone_number = '', ?6, phone_key),
			updated_at = max(updated_at, ?7) WHERE id = ?8`},
		{&w.insertLead, `INSERT INTO leads (id, channel_id, contact_id, created_at, idempotency_key,
			request_hash, parsed_payload, raw_payload, status, spam_reasons,
			source_address, source_user_agent, source_origin) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`},
		{&w.findCapture, findCaptureQuery},
		{&w.indexCaptures, indexCapturesQuery},
		{&w.indexKeys, indexContactKeysQuery},
		{&w.matchContact, matchQuery},
		// The existence check rides along with the insert: no row inserted
		// means no such lead, decided without a failed statement.
		{&w.insertActivity, `INSERT INTO activities (id, lead_id, action, details, created_at, idempotency_key)
			SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE EXISTS (SELECT 1 FROM leads WHERE id = ?2)`},
		{&w.findActivity, `SELECT id, action, details, created_at FROM activities
			WHERE lead_id = ? AND idempotency_key = ? AND idempotency_key != ''`},
		{&w.indexSearch, indexSearchQuery},
		{&w.indexAssignees, indexAssigneesQuery},
		{&w.indexContacts, indexContactsQuery},
		{&w.insertAssignee, `INSERT OR IGNORE INTO lead_assignees (email_key, lead_id) VALUES (?, ?)`},
		{&w.insertDeliveries, enqueueDeliveriesQuery},
	} {
		stmt, err := conn.PrepareContext(ctx, p.query)
		if err != nil {
			return nil, err
		}
		*p.stmt = stmt
	}
	return w, nil
}

// do hands o to the writer and waits until it is committed or refused, for
// at most the write timeout: a client held longer by a stuck disk or a
// long start-up is better told EUNAVAILABLE, and sends again. A request
// the writer has not begun when the time is up is never written; one it
// has may still be, as with a response lost on the network.
func (w *writer) do(ctx context.Context, o op) error {
	timeout := w.timeout()
	ctx, cancel := context.WithTimeoutCause(ctx, timeout, errWriteTimeout)
	defer cancel()
	err := w.wait(ctx, o)
	if err != nil && context.Cause(ctx) == errWriteTimeout {
		if w.loading.Load() {
			return unavailable(err, "leadwire is starting (loading its contact index); retry later")
		}
		return unavailable(err, "cannot store now: the database did not answer within %s; retry later", timeout)
	}
	return err
}

// wait hands o to the writer and waits until it is committed or refused.
// When ctx ends first wait returns at once; the write may still happen.
func (w *writer) wait(ctx context.Context, o op) error {
	r := &request{ctx: ctx, op: o, done: make(chan error, 1)}
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
}

func (w *writer) loop() {
	defer close(w.stopped)
	batch := make([]*request, 0, w.maxBatch+1)
	idle := time.NewTimer(time.Hour)
	for {
		if w.searchDue() {
			idle.Reset(searchIdle)
		} else {
			idle.Stop()
		}
		var r *request
		select {
		case r = <-w.requests:
		case <-w.stopping:
			w.drain(batch)
			return
		case <-idle.C:
			w.run([]*request{newIndexRequest()}) // nobody came for a while
			continue
		}
		// Let the handlers that are ready to run reach the queue first.
		// Commits cost the same whatever their size, so the writer is the
		// bottleneck and fuller batches are what raise throughput: under
		// the HTTP load test this yield takes batches from about 5 to 13
		// requests and throughput up by a sixth.
		runtime.Gosched()
		batch = w.collect(append(batch[:0], r))
		if w.searchDue() && w.stored-w.indexed > maxSearchBacklog {
			// Under constant load the index shares the batch's commit.
			batch = append(batch, newIndexRequest())
		}
		w.run(batch)
	}
}

// drain writes whoever is already waiting when the writer stops.
func (w *writer) drain(batch []*request) {
	for {
		batch = w.collect(batch[:0])
		if len(batch) == 0 {
			return
		}
		w.run(batch)
	}
}

// collect appends the requests waiting right now, up to the batch cap:
// those that arrived while the previous batch was committing share the
// next commit.
func (w *writer) collect(batch []*request) []*request {
	for len(batch) < w.maxBatch {
		select {
		case r := <-w.requests:
			batch = append(batch, r)
		default:
			return batch
		}
	}
	return batch
}

// stop makes new requests fail and waits for the batch in progress.
func (w *writer) stop() {
	close(w.stopping)
	<-w.stopped
}

// run applies the batch in one transaction and answers every request.
func (w *writer) run(batch []*request) {
	ctx := context.Background() // a waiter's cancellation must not interrupt the others' commit
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
	w.busySince.Store(time.Now().UnixNano())
	defer w.busySince.Store(0)
	metrics.BatchSize.WithLabelValues("sqlite").Observe(float64(len(live)))
	results := make([]error, len(live))
	w.deliveriesQueued = false
	err := w.transact(ctx, func(now time.Time) error {
		if err := w.conn.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM destinations WHERE enabled)").Scan(&w.destinations); err != nil {
			return err
		}
		for i, r := range live {
			err := r.op.apply(w, now)
			var refused *leadwire.Error
			if err != nil && !errors.As(err, &refused) {
				return err
			}
			results[i] = err
		}
		return nil
	})
	if err != nil {
		metrics.DBErrors.WithLabelValues("sqlite").Inc()
	} else {
		if w.deliveriesQueued {
			signal(w.queued)
		}
		for i, r := range live {
			if c, ok := r.op.(*captureOp); ok && results[i] == nil && !c.replayed {
				signal(w.leadsStored)
				break
			}
		}
	}
	var after []int // the committers, answered once the others are
	for i, r := range live {
		if _, ok := r.op.(committer); ok && err == nil && results[i] == nil {
			after = append(after, i)
		} else if err != nil {
			r.done <- err
		} else {
			r.done <- results[i]
		}
	}
	for _, i := range after {
		live[i].done <- live[i].op.(committer).committed(w)
	}
}

// committer is an op with work to do once its transaction is committed,
// outside of any transaction, before its caller is answered.
type committer interface {
	committed(w *writer) error
}

// transact runs fn in one IMMEDIATE transaction and commits it. On any
// failure it rolls back and forgets the memory, which may hold changes of
// the rolled-back batch. Faults of the machine come back as EUNAVAILABLE.
//
// The database file is checked before the transaction, so nothing is
// written into a file that is no longer the one at the path, and after the
// commit, so nothing committed into a file deleted meanwhile is
// acknowledged. A stat costs about 2 µs (BenchmarkFileCheck), a commit
// milliseconds.
func (w *writer) transact(ctx context.Context, fn func(now time.Time) error) error {
	if err := w.file.check(); err != nil {
		w.mem = nil
		return err
	}
	if _, err := w.conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return storageFault(err)
	}
	err := fn(w.now())
	if err == nil {
		_, err = w.conn.ExecContext(ctx, "COMMIT")
	}
	if err == nil {
		// A commit into a file deleted meanwhile is lost with it, and its
		// keys must leave the memory, where a retry would find them and
		// be answered with a lead that is not on disk.
		err = w.file.check()
	}
	if err != nil {
		// After a failed COMMIT SQLite may already have rolled back; the
		// error of this ROLLBACK then says so and tells nothing new.
		w.conn.ExecContext(ctx, "ROLLBACK")
		w.mem = nil
		w.searchBehind.Store(true) // the batch may have indexed leads committed before
	}
	return storageFault(err)
}

// memory returns the in-memory indexes, loading them on first use inside
// the current transaction.
func (w *writer) memory(now time.Time) (*memory, error) {
	if w.mem == nil {
		m, err := loadMemory(context.Background(), w.conn, now)
		if err != nil {
			return nil, err
		}
		w.mem = m
	}
	return w.mem, nil
}

// newID returns a time-ordered UUID, so rows keyed by it append to the
// B-tree instead of landing on random pages.
func newID() uuid.UUID {
	return uuid.Must(uuid.NewV7())
}

// signal sends on c unless a value is waiting there already.
func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}
