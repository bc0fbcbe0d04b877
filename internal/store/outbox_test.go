package store_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/storetest"
)

// TestConcurrentClaimsNeverShareARow: workers claiming at the same time
// (several instances on PostgreSQL) each get different rows, and a claimed
// row stays hidden for its lease.
func TestConcurrentClaimsNeverShareARow(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		clk := withClock(s)
		var mails []domain.Mail
		for i := range 40 {
			mails = append(mails, domain.Mail{Kind: domain.MailReply, To: "it@acme.example", Subject: "Re: x",
				MessageID: fmt.Sprintf("m%d@unlockd.example", i), Text: "hello"})
		}
		if err := s.QueueMail(ctx, mails...); err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		seen := map[int64]int{}
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				got, err := s.ClaimMail(ctx, "w1", 5, time.Minute)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				for _, m := range got {
					seen[m.ID]++
				}
				mu.Unlock()
			})
		}
		wg.Wait()
		if len(seen) != 40 {
			t.Errorf("%d distinct rows claimed, want 40", len(seen))
		}
		for id, n := range seen {
			if n != 1 {
				t.Errorf("row %d claimed %d times", id, n)
			}
		}
		if again, _ := s.ClaimMail(ctx, "w2", 100, time.Minute); len(again) != 0 {
			t.Errorf("%d rows claimed again within their lease", len(again))
		}
		clk.Add(time.Minute)
		if again, _ := s.ClaimMail(ctx, "w2", 100, time.Minute); len(again) != 40 {
			t.Errorf("%d rows due after the lease, want 40", len(again))
		}
	})
}

// TestNotificationsGoToOperatorsByRole: admin notifications reach only the
// org's admins; staff notifications reach staff; nobody to tell, no row.
func TestNotificationsGoToOperatorsByRole(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		acme := mustOrg(t, s, "acme", nil)
		mustOrg(t, s, "globex", nil)
		for _, op := range []store.Operator{
			{Email: "ann@acme.example", Role: domain.RoleAdmin, OrgSlug: "acme"},
			{Email: "gus@globex.example", Role: domain.RoleAdmin, OrgSlug: "globex"},
			{Email: "sam@support.example", Role: domain.RoleStaff},
		} {
			if _, err := s.AddOperator(ctx, op, "h", "cli", "cli"); err != nil {
				t.Fatal(err)
			}
		}
		err := s.QueueMail(ctx,
			domain.Mail{Kind: domain.MailNotifyAdmins, OrgID: acme.ID, Subject: "a", MessageID: "n1@x.example", Text: "t"},
			domain.Mail{Kind: domain.MailNotifyStaff, Subject: "s", MessageID: "n2@x.example", Text: "t"})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := s.Outbox(ctx, store.MailPending)
		var to []string
		for _, m := range got {
			to = append(to, string(m.Kind)+":"+m.To)
		}
		if want := "[notify_admins:ann@acme.example notify_staff:sam@support.example]"; fmt.Sprint(to) != want {
			t.Errorf("recipients %v, want %s", to, want)
		}
	})
}
