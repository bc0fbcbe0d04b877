package store

import (
	"time"
)

// Pool sizes the PostgreSQL connection pool (database.max_open_conns and
// database.max_idle_conns). SQLite always uses one connection, which
// serialises writers so that it never answers "database is locked".
type Pool struct {
	// MaxOpen is how many connections queries may use at once; 0 means
	// DefaultMaxOpenConns. Requests beyond it wait for a connection, up to
	// the store's timeout.
	MaxOpen int
	// MaxIdle is how many of them stay open while idle; 0 means MaxOpen,
	// so that a busy server does not reconnect for most queries.
	MaxIdle int
}

// DefaultMaxOpenConns is the default database.max_open_conns: as many as
// the concurrent API calls a busy host application makes, so that none
// waits for a connection. database/sql hands a freed connection to a
// random waiter, not the first, so a pool smaller than the calls in
// flight shows at once in the tail latency, and more commits in flight
// let PostgreSQL flush more of them at once. Two instances with it fit
// PostgreSQL's default of 100 connections with room to spare; more need a
// smaller pool or a higher max_connections.
const DefaultMaxOpenConns = 32

// maxConns bounds the pool; config validation keeps
// database.max_open_conns within it.
const maxConns = 1000

func (p Pool) open() int {
	if p.MaxOpen == 0 {
		return DefaultMaxOpenConns
	}
	return p.MaxOpen
}

func (p Pool) idle() int {
	if p.MaxIdle == 0 {
		return p.open()
	}
	return p.MaxIdle
}

// SetPool sizes the PostgreSQL pool; connections reserved with
// ReserveConns stay on top of it. A size out of bounds is clamped to them
// (config validation reports it first), and MaxIdle to MaxOpen.
func (s *Store) SetPool(p Pool) {
	s.pool = p
	s.applyPool()
}

// ReserveConns widens the PostgreSQL pool by n connections for holders
// that keep one for long, such as mailbox leases, so that they never take
// a query's share. SQLite's single connection is left alone.
func (s *Store) ReserveConns(n int) {
	s.reserved = max(0, n)
	s.applyPool()
}

// OpenConns is the PostgreSQL pool's current limit, reserved connections
// included; 1 for SQLite.
func (s *Store) OpenConns() int { return s.db.Stats().MaxOpenConnections }

func (s *Store) applyPool() {
	if s.dialect != Postgres {
		return
	}
	open := min(max(s.pool.open(), 1), maxConns)
	idle := min(max(s.pool.idle(), 1), open)
	s.db.SetMaxOpenConns(open + s.reserved)
	s.db.SetMaxIdleConns(idle + s.reserved)
	s.db.SetConnMaxIdleTime(5 * time.Minute)
}
