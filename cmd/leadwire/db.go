package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"

	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/postgres"
	"github.com/leadwire/leadwire/sqlite"
)

// dbFlag adds the --db flag every command has; dbEnv lets it come from
// LEADWIRE_DB.
func dbFlag(fs *flag.FlagSet) *string {
	return fs.String("db", "./leadwire.db", "SQLite database file, or postgres://user@host/db for PostgreSQL (env LEADWIRE_DB)")
}

var dbEnv = map[string]string{"db": "LEADWIRE_DB"}

// store is what the commands use of a database, SQLite or PostgreSQL.
type store interface {
	leadwire.LeadService
	leadwire.ChannelService
	leadwire.ContactService
	leadwire.UserService
	leadwire.DeliveryService
	// Health reports whether a capture can be stored now.
	Health() error
	Close() error
}

// openStore opens the database db names: a PostgreSQL database for a
// postgres:// URL, else the SQLite file at that path. create says whether
// a missing SQLite file is created (serve, channel create, user create);
// otherwise a mistyped path is an error rather than an empty database.
func openStore(ctx context.Context, db string, create bool) (store, error) {
	if postgres.IsURL(db) {
		return postgres.Open(ctx, db)
	}
	if !create {
		if _, err := os.Stat(db); err != nil {
			return nil, fmt.Errorf("no database at %s (give --db or LEADWIRE_DB the file or postgres:// URL leadwire serve uses)", db)
		}
	}
	return sqlite.Open(db)
}

// onStore opens the database db names (see openStore) and runs fn on it;
// an error of the application comes back as its message alone.
func onStore(ctx context.Context, db string, create bool, fn func(store) error) error {
	s, err := openStore(ctx, db, create)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := fn(s); err != nil {
		var e *leadwire.Error
		if errors.As(err, &e) {
			return errors.New(e.Message)
		}
		return err
	}
	return nil
}

// dbName is db as it may be logged: a URL without its password.
func dbName(db string) string {
	if u, err := url.Parse(db); err == nil && postgres.IsURL(db) {
		return u.Redacted()
	}
	return db
}

// onDeliveries runs fn on the outbox of the database db names (see
// onStore).
func onDeliveries(ctx context.Context, db string, fn func(leadwire.DeliveryService) error) error {
	return onStore(ctx, db, false, func(s store) error { return fn(s) })
}
