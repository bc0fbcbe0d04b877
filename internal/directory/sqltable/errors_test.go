package sqltable

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"syscall"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/lib/pq"
)

// The drivers' errors that mean "not now" are temporary; those that mean
// "wrong" are not. (The tests against the servers reach the connection
// and timeout cases; deadlocks and serialization failures are rare enough
// to check by their codes.)
func TestTemporary(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{&pq.Error{Code: "40001"}, true},         // serialization failure
		{&pq.Error{Code: "40P01"}, true},         // deadlock
		{&pq.Error{Code: "55P03"}, true},         // lock not available
		{&pq.Error{Code: "57014"}, true},         // query cancelled
		{&pq.Error{Code: "57P01"}, true},         // admin shutdown
		{&pq.Error{Code: "08006"}, true},         // connection failure
		{&pq.Error{Code: "53300"}, true},         // too many connections
		{&pq.Error{Code: "42601"}, false},        // syntax error
		{&pq.Error{Code: "42501"}, false},        // insufficient privilege
		{&pq.Error{Code: "23505"}, false},        // unique violation
		{&mysql.MySQLError{Number: 1213}, true},  // deadlock
		{&mysql.MySQLError{Number: 1205}, true},  // lock wait timeout
		{&mysql.MySQLError{Number: 1040}, true},  // too many connections
		{&mysql.MySQLError{Number: 1064}, false}, // syntax error
		{&mysql.MySQLError{Number: 1142}, false}, // command denied
		{&mysql.MySQLError{Number: 1054}, false}, // unknown column
		{fmt.Errorf("lookup: %w", context.DeadlineExceeded), true},
		{driver.ErrBadConn, true},
		{mysql.ErrInvalidConn, true},
		{syscall.ECONNREFUSED, true},
		{errors.New(`unexpected column "x"`), false},
	}
	for _, tt := range tests {
		if got := temporary(tt.err); got != tt.want {
			t.Errorf("temporary(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
