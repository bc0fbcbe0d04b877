// Package sqltabletest gives tests a MySQL/MariaDB database of their own
// on the server the machine runs (127.0.0.1:3306 as root, or the DSN in
// UNLOCKD_TEST_MYSQL), for the sql directory kind. Without a server the
// test skips with the reason, unless CI or the variable is set: then it
// fails.
package sqltabletest

import (
	"crypto/rand"
	"database/sql"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// EnvMySQL names the variable holding a MySQL/MariaDB DSN for the tests.
const EnvMySQL = "UNLOCKD_TEST_MYSQL"

const defaultMySQL = "root@tcp(127.0.0.1:3306)/test"

// MySQLDatabase creates a database of the test's own, named prefix and a
// random suffix, and returns its DSN; it is dropped when the test ends.
func MySQLDatabase(tb testing.TB, prefix string) string {
	tb.Helper()
	dsn := os.Getenv(EnvMySQL)
	if dsn == "" {
		dsn = defaultMySQL
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		tb.Fatalf("%s: %v", EnvMySQL, err)
	}
	if c, err := net.DialTimeout("tcp", cfg.Addr, 2*time.Second); err != nil {
		if os.Getenv("CI") != "" || os.Getenv(EnvMySQL) != "" {
			tb.Fatalf("MySQL/MariaDB on %s is required (CI or %s is set) but unreachable: %v", cfg.Addr, EnvMySQL, err)
		}
		tb.Skipf("MySQL/MariaDB tests skipped: nothing answers on %s (set %s to a DSN)", cfg.Addr, EnvMySQL)
	} else {
		c.Close()
	}
	cfg.DBName = "" // the server only: the DSN's database need not exist
	admin, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		tb.Fatal(err)
	}
	defer admin.Close()
	name := prefix + strings.ToLower(rand.Text()[:12])
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		tb.Fatalf("the MySQL/MariaDB server on %s is required but unusable: %v", cfg.Addr, err)
	}
	tb.Cleanup(func() {
		db, err := sql.Open("mysql", cfg.FormatDSN())
		if err != nil {
			return
		}
		defer db.Close()
		if _, err := db.Exec("DROP DATABASE " + name); err != nil {
			tb.Logf("drop database %s: %v", name, err)
		}
	})
	cfg.DBName = name
	return cfg.FormatDSN()
}
