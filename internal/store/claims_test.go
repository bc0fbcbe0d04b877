package store_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/storetest"
)

func queueN(t *testing.T, s *store.Store, n int) {
	t.Helper()
	var mails []domain.Mail
	for i := range n {
		mails = append(mails, domain.Mail{Kind: domain.MailReply, To: "it@acme.example", Subject: "Re: x",
			MessageID: fmt.Sprintf("c%d@unlockd.example", i), Text: "hello"})
	}
	if err := s.QueueMail(ctx, mails...); err != nil {
		t.Fatal(err)
	}
}

func ids(mails []store.OutboxMail) []int64 {
	out := make([]int64, len(mails))
	for i, m := range mails {
		out[i] = m.ID
	}
	return out
}

// TestClaimsRunOutUnlessRenewed: a claim hides mail for its time to live;
// renewing keeps it hidden, and once it runs out another worker takes the
// mail and the first one's renewal no longer holds it.
func TestClaimsRunOutUnlessRenewed(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		clk := withClock(s)
		queueN(t, s, 3)
		a, err := s.ClaimMail(ctx, "a", 10, 5*time.Second)
		if err != nil || len(a) != 3 {
			t.Fatalf("ClaimMail = %d, %v", len(a), err)
		}
		due, ok, err := s.NextMailDue(ctx)
		if err != nil || !ok || !due.Equal(clk.Now().Add(5*time.Second).Truncate(time.Microsecond)) {
			t.Errorf("NextMailDue = %v, %v, %v; want the claims' end", due, ok, err)
		}
		clk.Add(4 * time.Second)
		if held, err := s.RenewClaims(ctx, "a", ids(a), 5*time.Second); err != nil || len(held) != 3 {
			t.Fatalf("RenewClaims = %v, %v", held, err)
		}
		clk.Add(4 * time.Second) // 8 s after the claim, 4 s after the renewal
		if b, _ := s.ClaimMail(ctx, "b", 10, 5*time.Second); len(b) != 0 {
			t.Fatalf("another worker claimed %d renewed mails", len(b))
		}
		clk.Add(2 * time.Second) // the renewal ran out
		b, err := s.ClaimMail(ctx, "b", 10, 5*time.Second)
		if err != nil || len(b) != 3 {
			t.Fatalf("after the claims ran out, b claimed %d, %v", len(b), err)
		}
		if held, err := s.RenewClaims(ctx, "a", ids(a), 5*time.Second); err != nil || len(held) != 0 {
			t.Errorf("a still holds %v (%v) after b took them", held, err)
		}
		// b records one, releases one; its renewal holds only the third.
		if err := s.MailSent(ctx, b[0].ID, "250 ok"); err != nil {
			t.Fatal(err)
		}
		if err := s.ReleaseMail(ctx, "a", ids(b[1:2])); err != nil { // not a's to release
			t.Fatal(err)
		}
		if err := s.ReleaseMail(ctx, "b", ids(b[1:2])); err != nil {
			t.Fatal(err)
		}
		held, err := s.RenewClaims(ctx, "b", ids(b), 5*time.Second)
		if err != nil || !slices.Equal(held, ids(b[2:])) {
			t.Errorf("b holds %v (%v), want only %v", held, err, ids(b[2:]))
		}
		if c, _ := s.ClaimMail(ctx, "c", 10, 5*time.Second); len(c) != 1 || c[0].ID != b[1].ID {
			t.Errorf("after the release c claimed %v, want the released mail %d", ids(c), b[1].ID)
		}
	})
}

// TestReleaseClaimsFreesOrphans: the file lock's new holder hands back
// every claim at once; mail waiting for a retry keeps its time.
func TestReleaseClaimsFreesOrphans(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		clk := withClock(s)
		queueN(t, s, 3)
		got, err := s.ClaimMail(ctx, "dead", 10, time.Hour)
		if err != nil || len(got) != 3 {
			t.Fatal(len(got), err)
		}
		if err := s.MailFailed(ctx, got[0].ID, "451", clk.Now().Add(time.Hour), false); err != nil {
			t.Fatal(err)
		}
		if n, err := s.ReleaseClaims(ctx); err != nil || n != 2 {
			t.Fatalf("ReleaseClaims = %d, %v; want 2", n, err)
		}
		again, err := s.ClaimMail(ctx, "new", 10, time.Minute)
		if err != nil || !slices.Equal(ids(again), ids(got[1:])) {
			t.Errorf("claimed %v after the release (%v), want %v", ids(again), err, ids(got[1:]))
		}
		if _, ok, err := s.NextMailDue(ctx); err != nil || !ok {
			t.Errorf("NextMailDue = %v, %v", ok, err)
		}
	})
}

func TestNextMailDueEmpty(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		if _, ok, err := s.NextMailDue(ctx); err != nil || ok {
			t.Errorf("NextMailDue on an empty outbox = %v, %v", ok, err)
		}
	})
}

// TestLockFileAdmitsOneProcess: a second store on the same SQLite file
// cannot take the lock until the first closes.
func TestLockFileAdmitsOneProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "unlockd.db")
	open := func() *store.Store {
		s, err := store.Open(ctx, store.SQLite, path)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	first, second := open(), open()
	defer second.Close()
	if err := first.LockFile(); err != nil {
		t.Fatal(err)
	}
	err := second.LockFile()
	if err == nil || !strings.Contains(err.Error(), "in use by another unlockd process") {
		t.Fatalf("second LockFile = %v, want in use", err)
	}
	first.Close()
	if err := second.LockFile(); err != nil {
		t.Errorf("LockFile after the holder closed: %v", err)
	}
}
