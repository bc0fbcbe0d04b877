package sqltable

import (
	"database/sql"
	"net"
	"net/url"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/unlockd/unlockd/internal/sqltabletest"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/storetest"
)

// engine is a database the tests run against: a fresh schema or database
// of its own, reached through dsn, and its DDL for the made-up application
// table.
type engine struct {
	driver string
	dsn    string
	ddl    []string
}

// appSchema is the made-up application's table. PostgreSQL's locked_since
// is a timestamp without time zone (as Rails makes them), the harder round
// trip for :locked_at. There is no unique key on
// (tenant, login), so a test can insert two rows for one username.
func appSchema(driver string) []string {
	if driver == MySQL {
		return []string{`CREATE TABLE app_users (
			tenant VARCHAR(32) NOT NULL, login VARCHAR(64) NOT NULL,
			full_name VARCHAR(200), mail VARCHAR(200),
			is_locked TINYINT(1) NOT NULL DEFAULT 0, locked_because VARCHAR(20),
			locked_since DATETIME(6), lock_until DATETIME(6), admin_note TEXT, pw_hash TEXT,
			KEY (tenant, login)) ENGINE=InnoDB`}
	}
	return []string{`CREATE TABLE app_users (
		tenant TEXT NOT NULL, login TEXT NOT NULL, full_name TEXT, mail TEXT,
		is_locked BOOLEAN NOT NULL DEFAULT false, locked_because TEXT,
		locked_since TIMESTAMP(6), lock_until TIMESTAMPTZ, admin_note TEXT, pw_hash TEXT)`,
		`CREATE INDEX ON app_users (tenant, login)`}
}

// runEngines runs body against PostgreSQL (when storetest's variable names
// a server) and MariaDB/MySQL, each with a fresh schema holding app_users.
func runEngines(t *testing.T, body func(t *testing.T, e engine)) {
	t.Helper()
	t.Run(Postgres, func(t *testing.T) {
		var pg *storetest.Engine
		for _, e := range storetest.Engines() {
			if e.Name == store.Postgres {
				pg = &e
			}
		}
		if pg == nil {
			t.Skip("PostgreSQL tests skipped: set " + storetest.EnvPostgres + " to a DSN, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
		}
		e := engine{driver: Postgres, dsn: storetest.DSN(t, *pg), ddl: appSchema(Postgres)}
		createTable(t, e)
		body(t, e)
	})
	t.Run(MySQL, func(t *testing.T) {
		e := engine{driver: MySQL, dsn: mysqlDatabase(t), ddl: appSchema(MySQL)}
		createTable(t, e)
		body(t, e)
	})
}

func createTable(t *testing.T, e engine) {
	t.Helper()
	db := mustDB(t, e)
	for _, q := range e.ddl {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: create app_users: %v", e.driver, err)
		}
	}
}

// mustDB opens a plain connection to e for setting rows up and checking
// them, closed when the test ends.
func mustDB(tb testing.TB, e engine) *sql.DB {
	tb.Helper()
	dsn := e.dsn
	if e.driver == MySQL {
		cfg, err := mysql.ParseDSN(dsn)
		if err != nil {
			tb.Fatal(err)
		}
		cfg.ParseTime = true
		dsn = cfg.FormatDSN()
	}
	db, err := sql.Open(e.driver, dsn)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// mysqlDatabase creates a database of the test's own on the MySQL server
// and returns its DSN; it is dropped when the test ends.
func mysqlDatabase(t *testing.T) string {
	t.Helper()
	return sqltabletest.MySQLDatabase(t, "unlockd_sqltable_")
}

// viaAddr returns e's DSN with the server's address replaced by addr
// (host:port), for reaching it through a test proxy.
func viaAddr(t *testing.T, e engine, addr string) string {
	t.Helper()
	if e.driver == MySQL {
		cfg, err := mysql.ParseDSN(e.dsn)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Addr = addr
		return cfg.FormatDSN()
	}
	u, err := url.Parse(e.dsn)
	if err != nil || u.Scheme == "" {
		host, port, _ := net.SplitHostPort(addr)
		return e.dsn + " host=" + host + " port=" + port
	}
	u.Host = addr
	return u.String()
}

// serverAddr returns the host:port of e's server.
func serverAddr(t *testing.T, e engine) string {
	t.Helper()
	if e.driver == MySQL {
		cfg, err := mysql.ParseDSN(e.dsn)
		if err != nil {
			t.Fatal(err)
		}
		return cfg.Addr
	}
	u, err := url.Parse(e.dsn)
	if err != nil || u.Host == "" {
		t.Skip("the proxy tests need a postgres:// URL DSN")
	}
	if u.Port() == "" {
		return u.Host + ":5432"
	}
	return u.Host
}
