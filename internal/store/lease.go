package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"math/rand/v2"
	"time"
)

// Lease timings: how often a standby instance asks for a mailbox, how
// often the holder proves to the server that it is alive, and how long the
// server waits for that proof before it ends the holder's session and so
// frees the mailbox. The holder gives up on its own after a third of
// LeaseTimeout without an answer, well before the server frees the lease.
var (
	LeaseRetry     = 5 * time.Second
	LeaseKeepalive = 2 * time.Second
	LeaseTimeout   = 10 * time.Second
)

// AcquireMailbox blocks until this instance may watch the named mailbox, or
// ctx ends (SPEC §4); standby, when set, is called each time it finds
// another instance holding the mailbox. On PostgreSQL the right is a
// transaction-level advisory lock, held in a transaction left open on a
// connection of its own, whose session the server ends when it goes
// LeaseTimeout without a statement (idle_in_transaction_session_timeout):
// the holder's keepalive runs one every LeaseKeepalive. So another instance
// takes over within LeaseTimeout plus LeaseRetry when the holder dies, its
// machine vanishes or its link stops forwarding, not only when its
// connection closes. The returned context ends when the lease is lost or
// release is called; release gives the lock up. SQLite is a single-host
// file (see LockFile), so there every caller holds the mailbox at once.
func (s *Store) AcquireMailbox(ctx context.Context, mailbox string, standby func()) (held context.Context, release func(), err error) {
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
		if standby != nil {
			standby()
		}
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-time.After(LeaseRetry/2 + rand.N(LeaseRetry/2+1)):
		}
	}
}

// leaseBegin opens the lease's transaction with the server-side timeouts
// that free it when the holder goes quiet.
func leaseBegin() string {
	return fmt.Sprintf("BEGIN; SET LOCAL idle_in_transaction_session_timeout = %d; SET LOCAL statement_timeout = %d",
		LeaseTimeout.Milliseconds(), (LeaseTimeout / 2).Milliseconds())
}

// tryMailboxLock asks once for the mailbox's advisory lock on a dedicated
// connection, which it returns, inside the lease's open transaction, when
// the lock was granted.
func (s *Store) tryMailboxLock(ctx context.Context, mailbox string) (*sql.Conn, bool, error) {
	tctx, cancel := s.timeout(ctx)
	defer cancel()
	conn, err := s.db.Conn(tctx)
	if err != nil {
		return nil, false, fmt.Errorf("store: lease connection: %w", err)
	}
	var ok bool
	if _, err = conn.ExecContext(tctx, leaseBegin()); err == nil {
		err = conn.QueryRowContext(tctx, `SELECT pg_try_advisory_xact_lock(`+LeaseKeySQL+`)`, mailbox).Scan(&ok)
	}
	if err != nil {
		discard(conn)
		return nil, false, fmt.Errorf("store: lease of mailbox %s: %w", mailbox, err)
	}
	if !ok {
		if _, err := conn.ExecContext(tctx, `ROLLBACK`); err != nil {
			discard(conn)
			return nil, false, fmt.Errorf("store: lease of mailbox %s: %w", mailbox, err)
		}
		conn.Close() // holds no lock and no transaction: back to the pool
		return nil, false, nil
	}
	return conn, true, nil
}

// keepLease runs a statement in the lease's transaction every
// LeaseKeepalive until held ends, and ends held when one fails or goes
// unanswered for a third of LeaseTimeout. It then discards the connection,
// which ends the database session and so releases the lock, whatever
// state it is in.
func (s *Store) keepLease(held context.Context, lost context.CancelFunc, conn *sql.Conn, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(LeaseKeepalive)
	defer t.Stop()
	for {
		select {
		case <-held.Done():
			discard(conn)
			return
		case <-t.C:
		}
		limit := LeaseTimeout / 3
		ctx, cancel := context.WithTimeout(context.Background(), limit)
		answered := make(chan error, 1)
		go func() { _, err := conn.ExecContext(ctx, `SELECT 1`); answered <- err }()
		select {
		case err := <-answered:
			cancel()
			if err != nil {
				lost()
				discard(conn)
				return
			}
		case <-time.After(limit):
			// lib/pq may go on waiting on a dead link after ctx ends: the
			// lease is lost now all the same, and the connection is
			// discarded once its silence limit frees it.
			lost()
			go func() { <-answered; cancel(); discard(conn) }()
			return
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
