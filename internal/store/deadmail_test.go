package store_test

import (
	"fmt"
	"testing"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/storetest"
)

// queueDead queues n replies and kills the odd ones as the worker would
// after their last attempt; it returns the ids of the dead ones.
func queueDead(t *testing.T, s *store.Store, n int) []int64 {
	t.Helper()
	var mails []domain.Mail
	for i := range n {
		mails = append(mails, domain.Mail{Kind: domain.MailReply, To: fmt.Sprintf("c%d@acme.example", i), Subject: "Re: unlock",
			MessageID: fmt.Sprintf("dead%d@unlockd.example", i), Text: "body"})
	}
	if err := s.QueueMail(ctx, mails...); err != nil {
		t.Fatal(err)
	}
	all, err := s.Outbox(ctx, store.MailPending)
	if err != nil {
		t.Fatal(err)
	}
	var dead []int64
	for i, m := range all {
		if i%2 == 1 {
			if err := s.MailFailed(ctx, m.ID, "550 5.1.1 mailbox unavailable", s.Now(), true); err != nil {
				t.Fatal(err)
			}
			dead = append(dead, m.ID)
		}
	}
	return dead
}

// TestDeadMailRetryDiscard: dead mail is listed with its last error;
// retry puts it back in the queue, due now with no attempts; discard
// deletes it; each writes an audit entry, and mail that is not dead is not
// found by either.
func TestDeadMailRetryDiscard(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		withClock(s)
		dead := queueDead(t, s, 6)
		list, err := s.ListDeadMail(ctx, store.DeadMailFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 3 || list[0].ID != dead[0] || list[0].LastError != "550 5.1.1 mailbox unavailable" ||
			list[0].Attempts != 1 || list[0].To != "c1@acme.example" || list[0].CreatedAt.IsZero() {
			t.Fatalf("dead mail = %+v", list)
		}
		page, err := s.ListDeadMail(ctx, store.DeadMailFilter{AfterID: dead[0], Limit: 1})
		if err != nil || len(page) != 1 || page[0].ID != dead[1] {
			t.Fatalf("second page = %+v, %v", page, err)
		}

		if _, err := s.RetryMail(ctx, dead[0], "operator:ops@support.example", "http:1"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.DiscardMail(ctx, dead[1], "cli", "cli"); err != nil {
			t.Fatal(err)
		}
		for _, id := range []int64{dead[0], dead[1], dead[0] - 1, 999} {
			_, err := s.RetryMail(ctx, id, "cli", "cli")
			wantCode(t, err, domain.CodeNotFound)
			_, err = s.DiscardMail(ctx, id, "cli", "cli")
			wantCode(t, err, domain.CodeNotFound)
		}
		claimed, err := s.ClaimMail(ctx, "w", 10, 0)
		if err != nil {
			t.Fatal(err)
		}
		var retried *store.OutboxMail
		for i := range claimed {
			if claimed[i].ID == dead[0] {
				retried = &claimed[i]
			}
		}
		if len(claimed) != 4 || retried == nil || retried.Attempts != 0 {
			t.Errorf("claimable after retry = %+v, want the 3 pending and the retried one with 0 attempts", claimed)
		}
		if left, _ := s.ListDeadMail(ctx, store.DeadMailFilter{}); len(left) != 1 || left[0].ID != dead[2] {
			t.Errorf("dead mail left = %+v", left)
		}
		entries, err := s.ListAudit(ctx, store.AuditFilter{Limit: 2})
		if err != nil || len(entries) != 2 || entries[0].Action != domain.ActionMailDiscard || entries[1].Action != domain.ActionMailRetry ||
			entries[1].Actor != "operator:ops@support.example" || entries[0].Target != fmt.Sprintf("mail %d", dead[1]) {
			t.Errorf("audit = %+v, %v", entries, err)
		}
	})
}
