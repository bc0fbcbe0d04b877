package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"math/rand/v2"
	"time"
)

// Lease timings: how often a standby instance asks for a mailbox, and how
// often the holder checks that its database session, and so its lock, is
// still alive.
var (
	LeaseRetry     = 5 * time.Second
	LeaseKeepalive = 5 * time.Second
)

// AcquireMailbox blocks until this instance may watch the named mailbox, or
// ctx ends (SPEC §4). On PostgreSQL the right is a session advisory lock
// held on a connection of its own: when the instance dies, its connection
// closes and another instance takes over within LeaseRetry. The returned
// context ends when the lock is lost (the connection broke) or release is
// called; release gives the lock up. SQLite is a single-host file with one
// writer, so there every caller holds the mailbox at once.
func (s *Store) AcquireMailbox(ctx context.Context, mailbox string) (held context.Context, release func(), err error) {
	if s.dialect != Postgres {
		held, cancel := context.WithCancel(ctx)
		return held, cancel, nil
	}
	for {
		conn, ok, err := s.tryMailboxLock(ctx, mailbox)
		if err != nil {
			return nil, nil, err
		}
		if ok {
			held, cancel := context.WithCancel(ctx)
			done := make(chan struct{})
			go s.keepLease(held, cancel, conn, done)
			return held, func() { cancel(); <-done }, nil
		}
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-time.After(LeaseRetry/2 + rand.N(LeaseRetry/2+1)):
		}
	}
}

// tryMailboxLock asks once for the mailbox's advisory lock on a dedicated
// connection, which it returns when the lock was granted.
func (s *Store) tryMailboxLock(ctx context.Context, mailbox string) (*sql.Conn, bool, error) {
	tctx, cancel := s.timeout(ctx)
	defer cancel()
	conn, err := s.db.Conn(tctx)
	if err != nil {
		return nil, false, fmt.Errorf("store: lease connection: %w", err)
	}
	var ok bool
	if err := conn.QueryRowContext(tctx, `SELECT pg_try_advisory_lock(`+LeaseKeySQL+`)`, mailbox).Scan(&ok); err != nil {
		discard(conn)
		return nil, false, fmt.Errorf("store: lease of mailbox %s: %w", mailbox, err)
	}
	if !ok {
		conn.Close() // holds no lock: back to the pool
		return nil, false, nil
	}
	return conn, true, nil
}

// keepLease pings the lock's connection until held ends, and ends held
// when the connection fails. It then discards the connection, which ends
// the database session and so releases the lock, whatever state it is in.
func (s *Store) keepLease(held context.Context, lost context.CancelFunc, conn *sql.Conn, done chan<- struct{}) {
	defer close(done)
	defer discard(conn)
	t := time.NewTicker(LeaseKeepalive)
	defer t.Stop()
	for {
		select {
		case <-held.Done():
			return
		case <-t.C:
			ctx, cancel := s.timeout(context.Background())
			err := conn.PingContext(ctx)
			cancel()
			if err != nil {
				lost()
				return
			}
		}
	}
}

// discard closes conn's underlying session instead of returning it to the
// pool, so no advisory lock can outlive its lease.
func discard(conn *sql.Conn) {
	conn.Raw(func(any) error { return driver.ErrBadConn })
	conn.Close()
}

// LeaseKeySQL computes a mailbox's advisory-lock key from its name ($1).
// The schema is part of it, so deployments in different schemas of one
// database never contend.
const LeaseKeySQL = `hashtextextended('unlockd mailbox ' || current_schema() || ' ' || $1, 0)`
