package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/lib/pq"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// IsUnavailable reports whether err says the database could not be
// reached or did not answer in time, rather than that the operation was
// wrong: the connection was refused, lost or silent, the server is
// starting or shutting down, the pool had no connection in time, or
// SQLite stayed locked. Such an operation may succeed when retried; the
// API answers it with 503.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		code := string(pqErr.Code)
		// Class 08: connection exception; 57P01-57P03: admin or crash
		// shutdown, cannot connect now; 53300: too many connections.
		return strings.HasPrefix(code, "08") || code == "57P01" || code == "57P02" || code == "57P03" || code == "53300"
	}
	var sqlErr *sqlite.Error
	if errors.As(err, &sqlErr) {
		c := sqlErr.Code() & 0xff // the primary code
		return c == sqlite3.SQLITE_BUSY || c == sqlite3.SQLITE_LOCKED
	}
	var ne net.Error
	return errors.Is(err, driver.ErrBadConn) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) || errors.As(err, &ne)
}
