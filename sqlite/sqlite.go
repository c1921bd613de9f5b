// Package sqlite implements the leadwire services on a SQLite file.
//
// All writes go through one goroutine that owns the only write connection:
// it takes every request that is waiting, runs them in one transaction and
// commits once, so concurrent captures share one fsync (group commit).
// Reads use a separate pool of read-only connections and, thanks to WAL
// mode, never wait for the writer.
//
// The writer keeps the contact index and the recent idempotency keys in
// memory so that storing a lead needs no reads. That is correct only while
// a single process writes leads and contacts: the server. Other processes
// (the CLI) may open the same file to read and to create channels, which
// are never cached by the writer.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/leadwire/leadwire/internal/chancache"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migrations/*.sql
var migrations embed.FS

// busyTimeout is how long a connection waits for another process's lock
// (the CLI creating a channel, a checkpoint) before giving up.
const busyTimeout = 10 * time.Second

// Store is a SQLite database holding channels, contacts, leads and their
// timelines. It implements leadwire.LeadService, leadwire.ChannelService and
// leadwire.ContactService and is safe for concurrent use.
type Store struct {
	// Now returns the current time; tests replace it right after Open.
	Now func() time.Time
	// WriteTimeout bounds how long a write waits for the writer before it
	// answers EUNAVAILABLE; 0 means DefaultWriteTimeout. Set it right
	// after Open.
	WriteTimeout time.Duration

	writeDB    *sql.DB
	read       *sql.DB
	w          *writer
	contactIDs contactIDs

	// channels caches channels by id, for chancache.TTL.
	channels chancache.Cache

	path  string
	file  *dbFile
	claim *os.File // the database file as ClaimWriter locked it, if it did
	// ready is closed once the memory load ClaimWriter starts has ended,
	// with readyErr.
	ready    chan struct{}
	readyErr error

	health healthCache

	// tokenUses holds, by token id, the last-used time last written
	// (Unix milliseconds); see tokenUsed.
	tokenUses sync.Map

	closeOnce sync.Once
	closeErr  error
}

// Open opens the database at path, creating the file and its schema when
// missing, and starts the writer.
func Open(path string) (*Store, error) {
	ctx := context.Background()
	pragmas := fmt.Sprintf("_pragma=busy_timeout(%d)", busyTimeout.Milliseconds())

	writeDB, err := sql.Open("sqlite", path+"?"+pragmas+
		"&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)"+
		// What is deleted is overwritten, so an erased contact leaves
		// nothing behind in free space (see EraseContact); temporary
		// tables, which hold the words of erased leads for a moment, stay
		// in memory.
		"&_pragma=secure_delete(1)&_pragma=temp_store(2)")
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	writeDB.SetMaxOpenConns(1)
	conn, err := writeDB.Conn(ctx)
	if err != nil {
		writeDB.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := migrate(ctx, conn); err != nil {
		conn.Close()
		writeDB.Close()
		return nil, fmt.Errorf("migrate %s: %w", path, err)
	}

	read, err := sql.Open("sqlite", path+"?"+pragmas+"&_pragma=query_only(1)")
	if err != nil {
		conn.Close()
		writeDB.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	poolSize := max(4, runtime.NumCPU())
	read.SetMaxOpenConns(poolSize)
	read.SetMaxIdleConns(poolSize)

	file, err := openedFile(path)
	if err != nil {
		conn.Close()
		writeDB.Close()
		read.Close()
		return nil, err
	}
	s := &Store{Now: time.Now, writeDB: writeDB, read: read, path: path, file: file}
	s.w, err = newWriter(ctx, conn, file, func() time.Time { return s.Now() }, s.writeTimeout)
	if err == nil {
		s.contactIDs, err = loadContactIDs(ctx, read)
	}
	if err != nil {
		s.closeDBs(conn)
		return nil, err
	}
	go s.w.loop()
	return s, nil
}

// Close finishes the writes already queued, stops the writer and closes the
// database. Calls after the first return the first result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.w.stop()
		s.closeErr = s.closeDBs(s.w.conn)
		if s.claim != nil {
			// Only now that SQLite closed the file: closing any descriptor
			// of a file drops every POSIX lock the process holds on it.
			s.closeErr = errors.Join(s.closeErr, s.claim.Close()) // closing releases the lock
		}
	})
	return s.closeErr
}

func (s *Store) writeTimeout() time.Duration {
	if s.WriteTimeout > 0 {
		return s.WriteTimeout
	}
	return DefaultWriteTimeout
}

func (s *Store) closeDBs(conn *sql.Conn) error {
	return errors.Join(conn.Close(), s.writeDB.Close(), s.read.Close())
}

// Check verifies the database file: PRAGMA integrity_check must report ok
// and PRAGMA foreign_key_check nothing.
func (s *Store) Check(ctx context.Context) error {
	var problems []string
	// A connection of its own: the FTS5 integrity check of a connection
	// that read the index before another one deleted from it reports
	// corruption that is not there (SQLite 3.54; searches are not
	// affected, they read the index afresh).
	db, err := sql.Open("sqlite", s.path+"?_pragma=query_only(1)")
	if err != nil {
		return err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return err
	}
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			rows.Close()
			return err
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	if err := rows.Close(); err != nil {
		return err
	}

	rows, err = db.QueryContext(ctx, "PRAGMA foreign_key_check")
	if err != nil {
		return err
	}
	for rows.Next() {
		var table, parent string
		var rowid sql.NullInt64
		var fkid int
		if err := rows.Scan(&table, &rowid, &parent, &fkid); err != nil {
			rows.Close()
			return err
		}
		problems = append(problems, fmt.Sprintf("%s row %d refers to a missing %s", table, rowid.Int64, parent))
	}
	if err := rows.Close(); err != nil {
		return err
	}
	if len(problems) > 0 {
		return fmt.Errorf("database check failed: %s", strings.Join(problems, "; "))
	}
	return nil
}

// fromMillis reads a time column: Unix milliseconds, given back in UTC.
func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// migrate applies, in file name order and in one transaction, every
// migration not yet recorded in schema_version.
func migrate(ctx context.Context, conn *sql.Conn) (err error) {
	// IMMEDIATE takes the write lock at once, so two processes opening a new
	// file together apply the migrations once instead of failing halfway.
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			conn.ExecContext(ctx, "ROLLBACK")
		}
	}()
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		name       TEXT PRIMARY KEY,
		applied_at INTEGER NOT NULL
	) STRICT`); err != nil {
		return err
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	now := time.Now().UnixMilli()
	for _, name := range names {
		var done bool
		if err := conn.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM schema_version WHERE name = ?)", name).Scan(&done); err != nil {
			return err
		}
		if done {
			continue
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return err
		}
		if _, err := conn.ExecContext(ctx, string(body)); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if _, err := conn.ExecContext(ctx, "INSERT INTO schema_version (name, applied_at) VALUES (?, ?)", name, now); err != nil {
			return err
		}
	}
	_, err = conn.ExecContext(ctx, "COMMIT")
	return err
}
