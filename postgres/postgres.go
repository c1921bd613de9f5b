// Package postgres implements the leadwire services on PostgreSQL, for
// several leadwire servers sharing one database behind a load balancer.
//
// Every rule that makes a capture correct lives in the schema, where each
// server's transaction finds it: a channel's Idempotency-Key is a primary
// key, which a second server inserting the same key waits on and then
// finds; a contact's match keys are rows of contact_keys, read under a
// transaction-scoped advisory lock on the key, so two servers given the
// same new email at once create one contact. Nothing is kept in memory
// between requests but the channels, for a few seconds (chancache.TTL).
//
// Captures in one process share a transaction (see writer.go): one
// goroutine takes every capture waiting, stores them with a few pipelined
// round trips and commits once, with synchronous_commit on.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/internal/chancache"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DefaultWriteTimeout is how long a write may wait for the database
// before it answers EUNAVAILABLE.
const DefaultWriteTimeout = 10 * time.Second

// IsURL reports whether db names a PostgreSQL database (a postgres:// or
// postgresql:// URL) rather than a SQLite file.
func IsURL(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// Store is a PostgreSQL database holding channels, contacts, leads, their
// timelines and users. It implements the services of the root package and
// is safe for concurrent use, also by several processes on one database.
type Store struct {
	// Now returns the current time; tests replace it right after Open.
	Now func() time.Time
	// WriteTimeout bounds how long a write waits for the database before
	// it answers EUNAVAILABLE; 0 means DefaultWriteTimeout. Set it right
	// after Open.
	WriteTimeout time.Duration

	pool *pgxpool.Pool
	// writes is the writer's own connection (see storeBatch).
	writes *pgxpool.Pool
	w      *writer

	// channels caches channels by id, for chancache.TTL.
	channels chancache.Cache

	health healthCache

	// signals wake this process's dispatcher and live inbox, and through
	// the notifier the other servers' (notify.go).
	signals    *signals
	stopNotify context.CancelFunc
	notifying  sync.WaitGroup

	closeOnce sync.Once
}

// Open connects to the database at url (postgres://user@host/db), applies
// the migrations it lacks and starts the writer.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("database URL: %w", err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		// A database that is down answers captures 503 within seconds,
		// instead of holding them for the kernel's TCP timeout.
		cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	// Commits wait for the write-ahead log to be flushed, whatever the
	// server's default: an acknowledged lead is on disk.
	cfg.ConnConfig.RuntimeParams["synchronous_commit"] = "on"
	cfg.ConnConfig.RuntimeParams["application_name"] = "leadwire"
	cfg.HealthCheckPeriod = 5 * time.Second
	if !strings.Contains(url, "pool_max_conns") {
		// A few for reads and one for the writer: several servers share
		// the database's max_connections (100 by default).
		cfg.MaxConns = 4
	}
	// The writer's statements take arrays, and their best plan does not
	// depend on what the arrays hold: planned once, not for each batch.
	wcfg := cfg.Copy()
	wcfg.ConnConfig.RuntimeParams["plan_cache_mode"] = "force_generic_plan"
	wcfg.MaxConns = 1
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to the database: %w", err)
	}
	writes, err := pgxpool.NewWithConfig(ctx, wcfg)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("connecting to the database: %w", err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		writes.Close()
		return nil, fmt.Errorf("migrating the database: %w", storageFault(err))
	}
	s := &Store{Now: time.Now, pool: pool, writes: writes, signals: newSignals()}
	s.w = newWriter(s)
	notifyCtx, stop := context.WithCancel(context.Background())
	s.stopNotify = stop
	s.notifying.Go(func() { s.notifier(notifyCtx) })
	s.notifying.Go(func() { s.listener(notifyCtx, cfg.ConnConfig) })
	return s, nil
}

// Close finishes the captures already queued, stops the writer and closes
// the connections.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.w.stop()
		s.stopNotify()
		s.notifying.Wait()
		s.pool.Close()
		s.writes.Close()
	})
	return nil
}

func (s *Store) writeTimeout() time.Duration {
	if s.WriteTimeout > 0 {
		return s.WriteTimeout
	}
	return DefaultWriteTimeout
}

// migrationLock is the advisory lock key that servers starting together
// take, so the migrations are applied once.
const migrationLock = 0x6c65_6164_7769_7265 // "leadwire"

// migrate applies, in file name order and each in its own transaction,
// every migration not yet recorded in schema_version, holding an advisory
// lock so that servers starting together apply each once.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", int64(migrationLock)); err != nil {
		return err
	}
	defer conn.Exec(context.Background(), "SELECT pg_advisory_unlock($1)", int64(migrationLock))
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		name       text PRIMARY KEY,
		applied_at bigint NOT NULL
	)`); err != nil {
		return err
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	for _, name := range names {
		var done bool
		if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM schema_version WHERE name = $1)", name).Scan(&done); err != nil {
			return err
		}
		if done {
			continue
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return err
		}
		err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, string(body)); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			_, err := tx.Exec(ctx, "INSERT INTO schema_version (name, applied_at) VALUES ($1, $2)", name, time.Now().UnixMilli())
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// fromMillis reads a time column: Unix milliseconds, given back in UTC.
func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// newID returns a time-ordered UUID, so rows keyed by it append to the
// B-tree instead of landing on random pages.
func newID() uuid.UUID {
	return uuid.Must(uuid.NewV7())
}

// unavailable returns an EUNAVAILABLE error whose message is for the
// client, wrapping cause (when not nil) for the log.
func unavailable(cause error, format string, args ...any) error {
	return wrapped(leadwire.EUNAVAILABLE, cause, format, args...)
}

// wrapped returns an error of code whose message is for the client,
// wrapping cause (when not nil) for the log.
func wrapped(code string, cause error, format string, args ...any) error {
	e := leadwire.Errorf(code, format, args...)
	if cause == nil {
		return e
	}
	return fmt.Errorf("%w: %w", e, cause)
}

// storageFault turns an error the client did not cause (the database
// unreachable, restarting, out of connections or disk) into EUNAVAILABLE,
// so the SDKs keep the lead and send it again, a text the database cannot
// store (NUL, or too long for an index) into EINVALID, and returns any
// other error as it is. An error that is not the database's own answer is
// one of the connection: the request may or may not have been committed,
// which a retry with its Idempotency-Key settles.
func storageFault(err error) error {
	if err == nil {
		return nil
	}
	var le *leadwire.Error
	if errors.As(err, &le) {
		return err
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case strings.HasPrefix(pe.Code, "08"): // connection exception
			return unavailable(err, "cannot store now: the connection to the database failed; retry later")
		case strings.HasPrefix(pe.Code, "53"): // insufficient resources: disk full, out of memory or connections
			return unavailable(err, "cannot store now: the database is out of resources; retry later")
		case strings.HasPrefix(pe.Code, "57P"): // shutting down, starting, cannot connect now
			return unavailable(err, "cannot store now: the database is restarting; retry later")
		case pe.Code == "25006": // read-only transaction: a standby
			return unavailable(err, "cannot store now: the database is read-only; retry later")
		case pe.Code == "22021": // a byte sequence the encoding refuses: NUL
			return wrapped(leadwire.EINVALID, err, "the request holds the NUL character (\\u0000), which cannot be stored")
		case pe.Code == "54000": // program limit exceeded: a value too long for an index
			return wrapped(leadwire.EINVALID, err, "a value of the request is too long to store")
		}
		return err
	}
	var ne net.Error
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) || errors.As(err, &ne) || pgconn.SafeToRetry(err) || pgconn.Timeout(err) ||
		errors.Is(err, pgx.ErrTxClosed) || strings.Contains(err.Error(), "conn closed") ||
		strings.Contains(err.Error(), "unexpected EOF") || strings.Contains(err.Error(), "closed pool") {
		return unavailable(err, "cannot store now: the database cannot be reached; retry later")
	}
	return err
}

// healthTTL is how long Health keeps an answer: probes may come often,
// from every load balancer.
const healthTTL = time.Second

type healthCache struct {
	mu  sync.Mutex
	at  time.Time
	err error
}

// Health reports whether a capture can be stored now: nil, or an
// EUNAVAILABLE error naming why not. It asks the database whether it
// answers and takes writes; answers are kept for a second.
func (s *Store) Health() error {
	s.health.mu.Lock()
	defer s.health.mu.Unlock()
	if now := time.Now(); now.Sub(s.health.at) >= healthTTL {
		s.health.err = s.checkHealth()
		s.health.at = time.Now()
	}
	return s.health.err
}

func (s *Store) checkHealth() error {
	select {
	case <-s.w.stopping:
		return unavailable(nil, "the store is closed")
	default:
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var readOnly bool
	err := s.pool.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&readOnly)
	if err != nil {
		return unavailable(err, "cannot store now: the database does not answer")
	}
	if readOnly {
		return unavailable(nil, "cannot store now: the database is a read-only standby")
	}
	return nil
}
