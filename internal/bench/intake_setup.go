package main

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/mailtest"
	"github.com/unlockd/unlockd/internal/store"
)

// mailbox is the IMAP server a drain reads: a Dovecot of its own or the
// in-process server.
type mailbox struct {
	addr, user, password string
	dovecot              bool
	left                 func(n int) (int, error) // how many of n are not yet filed
	close                func()
}

// fillMailbox starts the server kind names and puts msgs in its INBOX.
func fillMailbox(kind string, msgs [][]byte) (*mailbox, error) {
	if kind == "memory" {
		srv, err := mailtest.NewIMAP(mailtest.IMAPOptions{})
		if err != nil {
			return nil, err
		}
		for _, m := range msgs {
			if _, err := srv.Add("INBOX", m); err != nil {
				srv.Close()
				return nil, err
			}
		}
		left := func(n int) (int, error) {
			inbox, err := srv.Messages("INBOX")
			if err != nil {
				return 0, err
			}
			done, err := filed(srv.Messages)
			return max(inbox, n-done), err
		}
		return &mailbox{addr: srv.Addr, user: mailtest.IMAPUser, password: mailtest.IMAPPassword, left: left,
			close: func() { srv.Close() }}, nil
	}
	dv, err := mailtest.StartDovecot()
	if err != nil {
		return nil, fmt.Errorf("%w (or use -imap memory)", err)
	}
	if err := dv.Deliver(msgs...); err != nil {
		dv.Close()
		return nil, err
	}
	left := func(n int) (int, error) {
		done, _ := filed(func(f string) (int, error) { return dv.Count(f), nil })
		return max(dv.Count("INBOX"), n-done), nil
	}
	return &mailbox{addr: dv.Addr, user: dv.User, password: dv.Password, dovecot: true, left: left,
		close: func() { dv.Close() }}, nil
}

// filed counts the messages in the folders serve moves decided mail to.
func filed(count func(folder string) (int, error)) (int, error) {
	p, err := count("Processed")
	if err != nil {
		return 0, err
	}
	r, err := count("Rejected")
	return p + r, err
}

// seedIntakeStore makes a fresh store of kind with org acme, its contact
// it@acme.example and n users user0... locked for failed logins, and
// returns serve's DSN for it.
func seedIntakeStore(ctx context.Context, f intakeFlags, dir, kind string, n int) (string, error) {
	dsn := filepath.Join(dir, fmt.Sprintf("unlockd-%d.db", time.Now().UnixNano()))
	if kind == store.Postgres {
		var err error
		if dsn, err = freshSchema(ctx, f.dsn, f.schema); err != nil {
			return "", err
		}
	}
	st, err := store.Open(ctx, kind, dsn)
	if err != nil {
		return "", err
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		return "", err
	}
	p := domain.DefaultPolicy()
	p.MaxRequestsPerHour = 0 // a backlog of one contact's requests, none held back
	if _, err := st.CreateOrg(ctx, domain.Org{Slug: "acme", Name: "Acme", Policy: p}); err != nil {
		return "", err
	}
	users := make([]domain.User, n)
	for i := range users {
		users[i] = domain.User{Username: fmt.Sprintf("user%d", i), Lock: &domain.Lock{Reason: domain.LockFailedLogins, At: time.Now()}}
	}
	if _, err := st.Import(ctx, "acme", []domain.Contact{{Email: "it@acme.example"}}, users, "bench", "cli"); err != nil {
		return "", err
	}
	return dsn, nil
}

// checkDrained checks that the store holds n decisions, no locked user and
// n queued replies.
func checkDrained(ctx context.Context, kind, dsn string, n int) error {
	st, err := store.Open(ctx, kind, dsn)
	if err != nil {
		return err
	}
	defer st.Close()
	decided, err := st.CountDecisions(ctx, "support")
	if err != nil {
		return err
	}
	locked, err := st.ListUsers(ctx, "acme", store.UserFilter{Status: domain.StatusLocked, Limit: 1})
	if err != nil {
		return err
	}
	mails, err := st.Outbox(ctx, "")
	if err != nil {
		return err
	}
	if decided != n || len(locked) != 0 || len(mails) != n {
		return fmt.Errorf("after the drain: %d decisions, a locked user left: %v, %d replies queued; want %d, none, %d",
			decided, len(locked) > 0, len(mails), n, n)
	}
	return nil
}

// parallel runs fn(0) ... fn(n-1) on every CPU.
func parallel(n int, fn func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				fn(i)
			}
		})
	}
	wg.Wait()
}
