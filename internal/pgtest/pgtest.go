// Package pgtest gives tests a PostgreSQL database of their own: a fresh
// schema on the server LEADWIRE_TEST_POSTGRES names, or else on the one
// listening on 127.0.0.1:5432. A test that finds neither fails, never
// skips: ./test.sh starts a throwaway server on a machine without one.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Env names the variable that gives the tests' PostgreSQL server as a URL.
const Env = "LEADWIRE_TEST_POSTGRES"

// localURL is the server tried when Env is not set.
const localURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// ServerURL returns the URL of the tests' PostgreSQL server, failing t
// when there is none.
func ServerURL(t testing.TB) string {
	t.Helper()
	if u := os.Getenv(Env); u != "" {
		return u
	}
	c, err := net.DialTimeout("tcp", "127.0.0.1:5432", 2*time.Second)
	if err != nil {
		t.Fatalf("no PostgreSQL for the tests: set %s to a postgres:// URL, or run one on 127.0.0.1:5432 "+
			"(user postgres, database test, trust auth), or run ./test.sh, which starts one: %v", Env, err)
	}
	c.Close()
	return localURL
}

// NewSchema creates an empty schema on the tests' server, dropped when t
// ends, and returns the URL of a database whose search_path is that
// schema: as good as a database of its own, and much cheaper to make.
func NewSchema(t testing.TB) string {
	t.Helper()
	base := ServerURL(t)
	b := make([]byte, 8)
	rand.Read(b)
	schema := "lw_test_" + hex.EncodeToString(b)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connecting to the tests' PostgreSQL (%s): %v", base, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Error(err)
		}
	})
	u, err := WithSearchPath(base, schema)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// WithSearchPath returns the database URL base with its search_path set
// to schema.
func WithSearchPath(base, schema string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}
