package store_test

import (
	"context"
	"database/sql"
	"sync/atomic"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/mailtest"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/storetest"
)

// TestMailboxLeaseFailsOver runs two "instances" (two stores on one
// PostgreSQL database): only one holds a mailbox at a time, the other takes
// over when the holder releases it or its database session dies.
func TestMailboxLeaseFailsOver(t *testing.T) {
	e := storetest.Engine{Name: store.Postgres}
	dsn := storetest.DSN(t, e) // skips without PostgreSQL
	store.LeaseRetry, store.LeaseKeepalive = 50*time.Millisecond, 50*time.Millisecond
	open := func() *store.Store {
		s, err := store.Open(ctx, store.Postgres, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	a, b := open(), open()

	heldA, releaseA, err := a.AcquireMailbox(ctx, "support", nil)
	if err != nil {
		t.Fatal(err)
	}
	// Another mailbox is independent.
	if _, release, err := b.AcquireMailbox(ctx, "billing", nil); err != nil {
		t.Fatal(err)
	} else {
		release()
	}
	gotB := make(chan context.Context, 1)
	var standby atomic.Int64
	go func() {
		held, release, err := b.AcquireMailbox(ctx, "support", func() { standby.Add(1) })
		if err != nil {
			t.Error(err)
			return
		}
		t.Cleanup(release)
		gotB <- held
	}()
	select {
	case <-gotB:
		t.Fatal("second instance got the mailbox while the first held it")
	case <-time.After(300 * time.Millisecond):
	}
	if standby.Load() == 0 {
		t.Error("the waiting instance never reported standby")
	}

	// The first instance's session dies: its lease ends and b takes over.
	killLeaseHolder(t, dsn, "support")
	select {
	case <-heldA.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the first instance did not notice it lost the lease")
	}
	releaseA()
	var heldB context.Context
	select {
	case heldB = <-gotB:
	case <-time.After(5 * time.Second):
		t.Fatal("the second instance did not take the mailbox over")
	}
	if heldB.Err() != nil {
		t.Errorf("second instance's lease ended at once: %v", heldB.Err())
	}
	// And a, trying again, now waits.
	waitCtx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if _, _, err := a.AcquireMailbox(waitCtx, "support", nil); err == nil {
		t.Error("first instance got the mailbox back while the second held it")
	}
}

// killLeaseHolder terminates the database session holding the mailbox's
// advisory lock, as if its instance had died.
func killLeaseHolder(t *testing.T, dsn, mailbox string) {
	t.Helper()
	db, err := sql.Open(store.Postgres, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var killed int
	// A bigint advisory key shows in pg_locks as classid (high half) and
	// objid (low half) with objsubid 1.
	err = db.QueryRowContext(ctx, `SELECT count(pg_terminate_backend(l.pid)) FROM pg_locks l,
		(SELECT `+store.LeaseKeySQL+` AS k) key
		WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
		AND l.classid::bigint = ((key.k >> 32) & 4294967295) AND l.objid::bigint = (key.k & 4294967295)`, mailbox).Scan(&killed)
	if err != nil {
		t.Fatal(err)
	}
	if killed != 1 {
		t.Fatalf("terminated %d sessions holding mailbox %s, want 1", killed, mailbox)
	}
}

// TestLeaseOfASilentHolderRunsOut: the holder's link to the database stops
// forwarding without a FIN (its machine vanished). The server ends the
// lease's session after LeaseTimeout without a statement, so another
// instance takes the mailbox over; the silent holder, for its part, gives
// the lease up on its own before that.
func TestLeaseOfASilentHolderRunsOut(t *testing.T) {
	dsn := postgresDSN(t)
	store.LeaseRetry, store.LeaseKeepalive, store.LeaseTimeout = 50*time.Millisecond, 50*time.Millisecond, time.Second
	t.Cleanup(func() {
		store.LeaseRetry, store.LeaseKeepalive, store.LeaseTimeout = 5*time.Second, 2*time.Second, 10*time.Second
	})
	proxy := mailtest.StartProxy(t, pgAddr(t, dsn))
	open := func(dsn string) *store.Store {
		s, err := store.Open(ctx, store.Postgres, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	a, b := open(viaProxy(t, dsn, proxy.Addr)), open(dsn)
	heldA, releaseA, err := a.AcquireMailbox(ctx, "support", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer releaseA()
	time.Sleep(1500 * time.Millisecond) // longer than LeaseTimeout: keepalives hold it
	if heldA.Err() != nil {
		t.Fatal("the lease ended while its holder was alive")
	}
	proxy.Stall()
	stalled := time.Now()
	heldB, releaseB, err := b.AcquireMailbox(ctx, "support", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer releaseB()
	took := time.Since(stalled)
	t.Logf("the other instance took over %v after the link went silent", took)
	if took > 5*time.Second {
		t.Errorf("takeover after %v, want within LeaseTimeout and a retry", took)
	}
	select {
	case <-heldA.Done():
	default:
		t.Error("the silent holder still believes it holds the lease")
	}
	if heldB.Err() != nil {
		t.Error("the new holder's lease ended at once")
	}
}
