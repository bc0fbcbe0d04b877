// Package storetest opens real stores for tests: a fresh SQLite file always,
// and a fresh PostgreSQL schema when UNLOCKD_TEST_POSTGRES names a server.
// Each PostgreSQL test gets its own schema, dropped when it ends, so tests
// never see each other's rows. A test that must stop or restart the server
// runs a private cluster of its own (Cluster).
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/lib/pq" // PostgreSQL driver for the schema set-up

	"github.com/unlockd/unlockd/internal/store"
)

// EnvPostgres names the variable holding the PostgreSQL DSN for tests. When
// it is set the PostgreSQL tests must run: an unreachable server fails them.
const EnvPostgres = "UNLOCKD_TEST_POSTGRES"

// Engine is a store dialect to test against.
type Engine struct {
	Name string // "sqlite" or "postgres"
	dsn  string
}

// Engines returns SQLite, and PostgreSQL when EnvPostgres is set.
func Engines() []Engine {
	e := []Engine{{Name: store.SQLite}}
	if dsn := os.Getenv(EnvPostgres); dsn != "" {
		e = append(e, Engine{Name: store.Postgres, dsn: dsn})
	}
	return e
}

// Run runs body as a subtest against each engine, each with a fresh,
// migrated store. Without EnvPostgres the PostgreSQL subtest is skipped with
// the reason.
func Run(t *testing.T, body func(t *testing.T, s *store.Store)) {
	t.Helper()
	for _, e := range Engines() {
		t.Run(e.Name, func(t *testing.T) { body(t, Open(t, e)) })
	}
	if os.Getenv(EnvPostgres) == "" {
		t.Run(store.Postgres, func(t *testing.T) {
			t.Skip("PostgreSQL tests skipped: set " + EnvPostgres + " to a DSN, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
		})
	}
}

// Open returns a fresh, migrated store on engine e, closed (and for
// PostgreSQL, its schema dropped) when the test ends.
func Open(tb testing.TB, e Engine) *store.Store {
	tb.Helper()
	s := openDSN(tb, e, DSN(tb, e))
	if _, err := s.Migrate(context.Background()); err != nil {
		tb.Fatalf("migrate %s store: %v", e.Name, err)
	}
	return s
}

// OpenTwo returns two stores on one fresh, migrated database of engine e,
// each with connections of its own, as two processes would have them
// (serve, and the CLI changing something under it).
func OpenTwo(tb testing.TB, e Engine) (*store.Store, *store.Store) {
	tb.Helper()
	dsn := DSN(tb, e)
	a := openDSN(tb, e, dsn)
	if _, err := a.Migrate(context.Background()); err != nil {
		tb.Fatalf("migrate %s store: %v", e.Name, err)
	}
	return a, openDSN(tb, e, dsn)
}

func openDSN(tb testing.TB, e Engine, dsn string) *store.Store {
	tb.Helper()
	s, err := store.Open(context.Background(), e.Name, dsn)
	if err != nil {
		tb.Fatalf("open %s store: %v", e.Name, err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// DSN returns a DSN for a fresh, empty database on engine e: a new SQLite
// file in the test's temporary folder, or a new PostgreSQL schema (dropped
// at cleanup) selected through search_path.
func DSN(tb testing.TB, e Engine) string {
	tb.Helper()
	if e.Name == store.SQLite {
		return filepath.Join(tb.TempDir(), "unlockd.db")
	}
	schema := "unlockd_test_" + strings.ToLower(rand.Text()[:12])
	admin, err := sql.Open("postgres", e.dsn)
	if err != nil {
		tb.Fatalf("postgres: %v", err)
	}
	defer admin.Close()
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		tb.Fatalf("the PostgreSQL server named by %s is required but unusable: %v", EnvPostgres, err)
	}
	tb.Cleanup(func() {
		db, err := sql.Open("postgres", e.dsn)
		if err != nil {
			return
		}
		defer db.Close()
		if _, err := db.Exec(`DROP SCHEMA ` + schema + ` CASCADE`); err != nil {
			tb.Logf("drop schema %s: %v", schema, err)
		}
	})
	return withSearchPath(tb, e.dsn, schema)
}

func withSearchPath(tb testing.TB, dsn, schema string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			tb.Fatalf("%s: %v", EnvPostgres, err)
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return dsn + " search_path=" + schema
}
