package sqltable

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/lib/pq"

	"github.com/unlockd/unlockd/internal/domain"
)

// Directory is an application's own users table, reached through the
// configured statements. It is safe for concurrent use.
type Directory struct {
	name   string
	cfg    Config
	db     *sql.DB
	failed map[string]bool // lock_reason values meaning failed logins

	lookup, unlock, lock, list, setPassword *prepared // nil when not configured

	// Now is the clock behind :now; time.Now unless a test sets it.
	Now func() time.Time
}

// prepared is a compiled statement prepared on the pool.
type prepared struct {
	name string
	compiled
	stmt *sql.Stmt
}

var _ domain.Directory = (*Directory)(nil)

// Open connects to the database c names and prepares its statements. A
// statement that does not compile or prepare is a configuration error
// naming it; a database that cannot be reached is a Temporary error.
func Open(ctx context.Context, name string, c Config) (*Directory, error) {
	c, err := c.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("directory %q: %w", name, err)
	}
	d := &Directory{name: name, cfg: c, failed: map[string]bool{}, Now: time.Now}
	for _, r := range c.FailedReasons {
		d.failed[r] = true
	}
	if d.db, err = openDB(c); err != nil {
		return nil, fmt.Errorf("directory %q: dsn: %w", name, err)
	}
	d.db.SetMaxOpenConns(c.MaxConns)
	d.db.SetMaxIdleConns(c.MaxConns)
	d.db.SetConnMaxIdleTime(5 * time.Minute)
	d.db.SetConnMaxLifetime(30 * time.Minute)

	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	if err := d.db.PingContext(ctx); err != nil {
		d.db.Close()
		return nil, d.fail("connect", err)
	}
	slots := []**prepared{&d.lookup, &d.unlock, &d.lock, &d.list, &d.setPassword}
	for i, st := range c.statements() {
		if st.text == "" {
			continue
		}
		p, err := d.prepare(ctx, st)
		if err != nil {
			d.Close()
			return nil, err
		}
		*slots[i] = p
	}
	return d, nil
}

// openDB returns the pool for c: lib/pq with answer deadlines, or
// go-sql-driver with the options the statements' contract relies on.
func openDB(c Config) (*sql.DB, error) {
	if c.Driver == Postgres {
		connector, err := pq.NewConnector(c.DSN)
		var ue *url.Error
		if errors.As(err, &ue) {
			// Its message quotes the URL, password and all.
			return nil, errors.New("not a valid postgres:// URL (check its percent-escapes)")
		}
		if err != nil {
			return nil, err
		}
		connector.Dialer(pgDialer{limit: c.Timeout + pgGrace})
		return sql.OpenDB(connector), nil
	}
	mc, err := mysql.ParseDSN(c.DSN)
	if err != nil {
		return nil, err
	}
	mc.ParseTime = true       // DATETIME and TIMESTAMP as time.Time
	mc.ClientFoundRows = true // rows affected = rows matched, changed or not
	mc.InterpolateParams = false
	mc.Logger = quietLogger{} // its errors reach the caller; it must not write to stderr
	mc.MultiStatements = false
	if mc.Loc == nil {
		mc.Loc = time.UTC
	}
	if mc.Timeout == 0 || mc.Timeout > c.Timeout {
		mc.Timeout = c.Timeout
	}
	connector, err := mysql.NewConnector(mc)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(connector), nil
}

// quietLogger drops go-sql-driver's own log lines.
type quietLogger struct{}

func (quietLogger) Print(...any) {}

// prepare compiles and prepares st.
func (d *Directory) prepare(ctx context.Context, st statement) (*prepared, error) {
	c, err := compile(st.text, d.cfg.Driver == MySQL, st.allowed)
	if err != nil {
		return nil, fmt.Errorf("directory %q: statement %s: %w", d.name, st.name, err)
	}
	for _, p := range st.required {
		if !c.uses(p) {
			return nil, fmt.Errorf("directory %q: statement %s must use :%s", d.name, st.name, p)
		}
	}
	stmt, err := d.db.PrepareContext(ctx, c.query)
	if err != nil {
		return nil, d.fail("statement "+st.name, err)
	}
	return &prepared{name: st.name, compiled: c, stmt: stmt}, nil
}

// fail wraps err from op with the directory's name, as a Temporary error
// when the database could not answer.
func (d *Directory) fail(op string, err error) error {
	if temporary(err) {
		return domain.Temporary("directory %q: %s: %w", d.name, op, err)
	}
	return fmt.Errorf("directory %q: %s: %w", d.name, op, err)
}

// Name is the directory's name in the configuration.
func (d *Directory) Name() string { return d.name }

// Capabilities reports the optional statements configured.
func (d *Directory) Capabilities() domain.Capabilities {
	return domain.Capabilities{Lock: d.lock != nil, ListLocked: d.list != nil, SetPassword: d.setPassword != nil}
}

// Ping checks the database answers within the timeout.
func (d *Directory) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	if err := d.db.PingContext(ctx); err != nil {
		return d.fail("ping", err)
	}
	return nil
}

// Close releases the prepared statements and the pool.
func (d *Directory) Close() error {
	for _, p := range []*prepared{d.lookup, d.unlock, d.lock, d.list, d.setPassword} {
		if p != nil {
			p.stmt.Close()
		}
	}
	return d.db.Close()
}
