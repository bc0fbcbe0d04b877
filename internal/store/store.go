package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/unlockd/unlockd/internal/domain"
)

// Dialects, as named by the database.driver configuration key.
const (
	Postgres = "postgres"
	SQLite   = "sqlite"
)

func init() {
	// sqlx does not know modernc's driver name.
	sqlx.BindDriver("sqlite", sqlx.QUESTION)
}

// DefaultTimeout bounds each operation unless Store.Timeout says otherwise.
const DefaultTimeout = 10 * time.Second

// Store is the SQL store. Its zero value is not usable: call Open.
type Store struct {
	db      *sqlx.DB
	dialect string
	// Now is the clock; tests replace it.
	Now func() time.Time
	// Timeout bounds each operation's queries.
	Timeout time.Duration
	// ConfirmTTL is how long a confirmation link works
	// (limits.confirmation_ttl); 0, the default, makes none (confirm.go):
	// the program sets it once replies can carry links.
	ConfirmTTL time.Duration

	path      string      // SQLite: the database file, "" in memory
	lockFile  *os.File    // SQLite: held by LockFile until Close
	migrating atomic.Bool // PostgreSQL: lifts the silence limit (pgconn.go)

	pool     Pool // PostgreSQL: the pool's size (pool.go)
	reserved int  // PostgreSQL: connections kept for leases, on top

	stmts   statements // prepared statements (prepared.go)
	callSQL callSQL    // the API calls' reads (apicalls.go)
}

// Open connects to the database. driver is "postgres" or "sqlite"; for
// SQLite, dsn is a file path (or a "file:" URI) and the pragmas unlockd needs
// (foreign keys, WAL, busy timeout, immediate transactions) are added. It
// fails when the database does not answer; New does not ask.
func Open(ctx context.Context, driver, dsn string) (*Store, error) {
	s, err := New(driver, dsn)
	if err != nil {
		return nil, err
	}
	if err := s.Ping(ctx); err != nil {
		s.Close()
		if driver == SQLite {
			// A path is no secret, and says where to look.
			return nil, fmt.Errorf("store: open SQLite database %s: %w", dsn, err)
		}
		return nil, fmt.Errorf("store: connect to %s: %w", driver, err)
	}
	return s, nil
}

// New returns a store for driver and dsn (as for Open) without connecting:
// the first query does, so a server that is not up yet is no error here.
func New(driver, dsn string) (*Store, error) {
	s := &Store{dialect: driver, Now: time.Now, Timeout: DefaultTimeout}
	var db *sqlx.DB
	var err error
	switch driver {
	case Postgres:
		db, err = s.openPostgres(dsn)
	case SQLite:
		db, err = sqlx.Open("sqlite", sqliteDSN(dsn))
		if err == nil {
			// One connection serialises writers, so SQLite never answers
			// "database is locked" under concurrent use.
			db.SetMaxOpenConns(1)
			s.path = sqlitePath(dsn)
		}
	default:
		return nil, fmt.Errorf("store: unknown driver %q (want postgres or sqlite)", driver)
	}
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", driver, err)
	}
	s.db = db
	s.SetPool(Pool{})
	s.buildCallSQL()
	return s, nil
}

// postgresDSN turns on lib/pq's binary parameters unless the DSN says
// otherwise: each query then takes one round trip instead of two.
func postgresDSN(dsn string) string {
	if strings.Contains(dsn, "binary_parameters") {
		return dsn
	}
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		if strings.Contains(dsn, "?") {
			return dsn + "&binary_parameters=yes"
		}
		return dsn + "?binary_parameters=yes"
	}
	return dsn + " binary_parameters=yes"
}

// sqliteDSN makes a file: URI of an SQLite DSN, with the pragmas. A plain
// path is escaped, so that a "?", "#" or "%" in it names the file rather
// than starting the URI's query or fragment.
func sqliteDSN(dsn string) string {
	const pragmas = "_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	if !strings.HasPrefix(dsn, "file:") {
		dsn = "file:" + strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(dsn)
	}
	if strings.Contains(dsn, "?") {
		return dsn + "&" + pragmas
	}
	return dsn + "?" + pragmas
}

// Close closes the database and drops the file lock, if held.
func (s *Store) Close() error {
	s.closeStatements()
	err := s.db.Close()
	if s.lockFile != nil {
		s.lockFile.Close()
	}
	return err
}

// Dialect returns "postgres" or "sqlite".
func (s *Store) Dialect() string { return s.dialect }

// Ping checks that the database answers, for readiness probes.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

func (s *Store) timeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.Timeout)
}

// now returns the clock's time in UTC at microsecond precision, the
// precision both engines keep, so values read back compare equal.
func (s *Store) now() time.Time { return s.Now().UTC().Truncate(time.Microsecond) }

// inTx runs fn in one transaction under the store's timeout; fn's error, or
// a failed commit, rolls everything back.
func (s *Store) inTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", mapErr(err))
	}
	return nil
}

// forUpdate is the row-locking suffix for reads that precede a write in the
// same transaction. SQLite needs none: its transactions take the write lock
// when they begin (_txlock=immediate).
func (s *Store) forUpdate() string {
	if s.dialect == Postgres {
		return " FOR UPDATE"
	}
	return ""
}

// insertID runs an INSERT ... RETURNING id (both engines support it).
func insertID(ctx context.Context, tx *sqlx.Tx, query string, args ...any) (int64, error) {
	var id int64
	err := tx.QueryRowxContext(ctx, tx.Rebind(query), args...).Scan(&id)
	return id, err
}

// isUnique reports whether err is a unique-constraint violation.
func isUnique(err error) bool {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		return pqErr.Code == "23505"
	}
	var sqlErr *sqlite.Error
	if errors.As(err, &sqlErr) {
		c := sqlErr.Code()
		return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// mapErr turns driver errors callers can act on into domain errors.
func mapErr(err error) error {
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return domain.ErrNotFound
	case isUnique(err):
		return domain.Errorf(domain.CodeConflict, "already exists")
	}
	return err
}

// nullTime converts a zero time to NULL.
func nullTime(t time.Time) sql.NullTime {
	if t.IsZero() {
		return sql.NullTime{}
	}
	return sql.NullTime{Time: t.UTC(), Valid: true}
}

// timeOf converts a nullable column back, in UTC.
func timeOf(t sql.NullTime) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}

// nullID converts 0 to NULL.
func nullID(id int64) sql.NullInt64 { return sql.NullInt64{Int64: id, Valid: id != 0} }
