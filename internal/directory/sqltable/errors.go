package sqltable

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/go-sql-driver/mysql"
	"github.com/lib/pq"
)

// temporary reports whether err says the database could not answer now
// rather than that the statement is wrong: no connection, a timeout, a
// server shutting down or overloaded, a deadlock or serialization failure,
// a lock wait cut short. Syntax, permission and constraint errors are not.
func temporary(err error) bool {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		code := string(pqErr.Code)
		// 08: connection exception; 40001 serialization failure; 40P01
		// deadlock; 53: insufficient resources; 55P03 lock not available;
		// 57014 query cancelled (our timeout); 57P01-57P05: shutdown,
		// cannot connect now, idle session timeout.
		return strings.HasPrefix(code, "08") || strings.HasPrefix(code, "53") || strings.HasPrefix(code, "57P") ||
			code == "40001" || code == "40P01" || code == "55P03" || code == "57014"
	}
	var myErr *mysql.MySQLError
	if errors.As(err, &myErr) {
		switch myErr.Number {
		case 1040, // too many connections
			1053,       // server shutdown in progress
			1205,       // lock wait timeout
			1213,       // deadlock
			1317,       // query interrupted
			1927,       // MariaDB: connection killed
			2006, 2013, // server gone away, lost connection
			3024, // MySQL: maximum statement execution time exceeded
			4031: // MySQL: disconnected by the server for inactivity
			return true
		}
		return false
	}
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.Is(err, driver.ErrBadConn) || errors.Is(err, mysql.ErrInvalidConn) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.As(err, &ne)
}
