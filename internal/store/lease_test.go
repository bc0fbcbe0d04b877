package store_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

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

	heldA, releaseA, err := a.AcquireMailbox(ctx, "support")
	if err != nil {
		t.Fatal(err)
	}
	// Another mailbox is independent.
	if _, release, err := b.AcquireMailbox(ctx, "billing"); err != nil {
		t.Fatal(err)
	} else {
		release()
	}
	gotB := make(chan context.Context, 1)
	go func() {
		held, release, err := b.AcquireMailbox(ctx, "support")
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
	if _, _, err := a.AcquireMailbox(waitCtx, "support"); err == nil {
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
