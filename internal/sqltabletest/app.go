package sqltabletest

import (
	"database/sql"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// A made-up application's users table on MySQL/MariaDB, and the
// statements of an sql directory over it (directories[].lookup and so on).
const (
	AppTable = `CREATE TABLE accounts (
		tenant VARCHAR(32) NOT NULL, login VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
		is_locked TINYINT(1) NOT NULL DEFAULT 0, locked_because VARCHAR(20),
		locked_since DATETIME(6), admin_note TEXT, pw_hash TEXT,
		UNIQUE KEY (tenant, login)) ENGINE=InnoDB`
	Lookup = `SELECT login AS username, is_locked AS locked, locked_because AS lock_reason,
		locked_since AS locked_at, admin_note AS lock_note FROM accounts WHERE tenant = :org AND login = :username`
	Unlock = `UPDATE accounts SET is_locked = 0, locked_because = NULL, locked_since = NULL, admin_note = NULL
		WHERE tenant = :org AND login = :username AND is_locked AND locked_because = :lock_reason AND locked_since = :locked_at`
	Lock = `UPDATE accounts SET is_locked = 1, locked_because = 'admin', locked_since = :now, admin_note = :note
		WHERE tenant = :org AND login = :username`
	List = `SELECT login AS username, is_locked AS locked, locked_because AS lock_reason, locked_since AS locked_at,
		admin_note AS lock_note FROM accounts WHERE tenant = :org AND is_locked ORDER BY login LIMIT :limit`
)

// App is a MySQL/MariaDB database of the test's own holding accounts.
type App struct {
	DSN string
	db  *sql.DB
}

// NewApp creates the database and its accounts table.
func NewApp(tb testing.TB) *App {
	tb.Helper()
	dsn := MySQLDatabase(tb, "unlockd_app_")
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		tb.Fatal(err)
	}
	cfg.ParseTime = true
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	if _, err := db.Exec(AppTable); err != nil {
		tb.Fatalf("create accounts: %v", err)
	}
	return &App{DSN: dsn, db: db}
}

// Add inserts an account of tenant, locked for reason ("failed_logins",
// "admin") when reason is not empty.
func (a *App) Add(tb testing.TB, tenant, login, reason string) {
	tb.Helper()
	var why, at any
	if reason != "" {
		why, at = reason, time.Now().UTC().Truncate(time.Microsecond)
	}
	if _, err := a.db.Exec(`INSERT INTO accounts (tenant, login, is_locked, locked_because, locked_since) VALUES (?, ?, ?, ?, ?)`,
		tenant, login, reason != "", why, at); err != nil {
		tb.Fatalf("insert %s/%s: %v", tenant, login, err)
	}
}

// State is "active" or "locked <reason>" for tenant's login.
func (a *App) State(tb testing.TB, tenant, login string) string {
	tb.Helper()
	var locked bool
	var reason sql.NullString
	if err := a.db.QueryRow(`SELECT is_locked, locked_because FROM accounts WHERE tenant = ? AND login = ?`, tenant, login).
		Scan(&locked, &reason); err != nil {
		tb.Fatalf("state of %s/%s: %v", tenant, login, err)
	}
	if !locked {
		return "active"
	}
	return "locked " + reason.String
}
