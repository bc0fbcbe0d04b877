package app_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"

	"github.com/unlockd/unlockd/internal/app"
	"github.com/unlockd/unlockd/internal/config"
	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/mailtest"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/storetest"
)

// TestTwoInstancesAndABulkResetDoNotDeadlock: two instances drain one
// backlog from two mailboxes of one PostgreSQL database (each mailbox held
// by its own instance), the requests of both naming the same users, while
// the API's bulk reset of failed-login locks runs over the same users again
// and again while failed logins lock them anew. No transaction deadlocks (PostgreSQL counts every deadlock it
// breaks) and every message is decided exactly once.
func TestTwoInstancesAndABulkResetDoNotDeadlock(t *testing.T) {
	e := storetest.Engine{Name: store.Postgres}
	dsn := storetest.DSN(t, e)
	store.LeaseRetry = 100 * time.Millisecond
	const users, perMailbox = 300, 3000
	imapSrv := mailtest.StartIMAP(t, mailtest.IMAPOptions{})
	smtpSrv := mailtest.StartSMTP(t)
	ctx := context.Background()
	cfgFor := func(mailbox, folder string) *config.Config {
		cfg := testConfig(t, e, imapSrv.Addr, smtpSrv.Addr)
		cfg.Database.DSN = dsn
		cfg.Mailboxes[0].Name, cfg.Mailboxes[0].IMAP.Mailbox = mailbox, folder
		cfg.SenderAuth.Mode = config.SenderAuthOff // contention is under test, not DKIM
		return cfg
	}
	a := newApp(t, ctx, cfgFor("support", "INBOX"), app.Options{})
	seedN(t, a, users)
	if err := imapSrv.User.Create("Sales", nil); err != nil {
		t.Fatal(err)
	}
	for i := range perMailbox {
		// Both mailboxes name users in opposite orders, so that the two
		// instances' batches take the same rows from opposite ends.
		imapSrv.Append(t, "INBOX", contentionRequest("in", i, i%users, (i+1)%users))
		imapSrv.Append(t, "Sales", contentionRequest("sa", i, (users-1-i%users), (2*users-2-i%users)%users))
	}
	deadlocksBefore := pgDeadlocks(t, dsn)
	b := newApp(t, ctx, cfgFor("sales", "Sales"), app.Options{})
	start(t, ctx, a)
	start(t, ctx, b)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := a.Store.ResetFailedLogins(ctx, "acme", "token:test", "http:test"); err != nil {
				t.Errorf("bulk reset: %v", err)
				return
			}
		}
	})
	// Users keep failing their logins, so the reset always has rows to
	// take and the mail has locks to lift.
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, _, _, err := a.Store.RecordFailedLogin(ctx, "acme", fmt.Sprintf("user%d", i%users), "http:test"); err != nil {
				t.Errorf("failed login: %v", err)
				return
			}
		}
	})
	waitUntil(t, 60*time.Second, "every message decided", func() bool {
		n1, _ := a.Store.CountDecisions(ctx, "support")
		n2, _ := a.Store.CountDecisions(ctx, "sales")
		return n1 == perMailbox && n2 == perMailbox
	})
	close(stop)
	wg.Wait()
	if _, err := a.Store.ResetFailedLogins(ctx, "acme", "token:test", "http:test"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // PostgreSQL publishes its counters within a second
	if d := pgDeadlocks(t, dsn) - deadlocksBefore; d != 0 {
		t.Errorf("%d deadlocks broken by PostgreSQL", d)
	}
	waitUntil(t, 10*time.Second, "both mailboxes filed", func() bool {
		return imapSrv.Count(t, "INBOX") == 0 && imapSrv.Count(t, "Sales") == 0
	})
	for _, mb := range []string{"support", "sales"} {
		if n, err := a.Store.CountDecisions(ctx, mb); err != nil || n != perMailbox {
			t.Errorf("%s: %d decisions, %v; want %d, one per message", mb, n, err, perMailbox)
		}
	}
	locked, err := a.Store.ListUsers(ctx, "acme", store.UserFilter{Status: domain.StatusLocked, Limit: store.MaxLimit})
	if err != nil || len(locked) != 0 {
		t.Errorf("%d users still locked, %v", len(locked), err)
	}
}

func contentionRequest(prefix string, i, u1, u2 int) []byte {
	return fmt.Appendf(nil, "From: it@acme.example\r\nSubject: Unlock: user%d, user%d\r\nMessage-ID: <%s-%d@acme.example>\r\n\r\nPlease.\r\n",
		u1, u2, prefix, i)
}

// pgDeadlocks reads how many deadlocks the test database has broken.
func pgDeadlocks(t *testing.T, dsn string) int64 {
	t.Helper()
	db, err := sqlx.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int64
	if err := db.Get(&n, `SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()`); err != nil {
		t.Fatal(err)
	}
	return n
}
