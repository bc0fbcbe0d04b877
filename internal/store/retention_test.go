package store_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/storetest"
)

const day = 24 * time.Hour

// sentMail queues one reply and records it sent at the store's now.
func sentMail(t *testing.T, s *store.Store, id string) int64 {
	t.Helper()
	if err := s.QueueMail(ctx, domain.Mail{Kind: domain.MailReply, To: contactAddr, Subject: "Re: " + id,
		MessageID: id + "@unlockd.example", Text: "text of " + id, HTML: "<p>" + id}); err != nil {
		t.Fatal(err)
	}
	all, err := s.Outbox(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	m := all[len(all)-1]
	if err := s.MailSent(ctx, m.ID, "250 ok"); err != nil {
		t.Fatal(err)
	}
	return m.ID
}

// TestRetentionDeletesExactlyWhatIsPastItsLimit: with an injected clock,
// decisions (with their items and signature keys) and mail older than
// limits.retention, bodies of sent mail older than mail_retention and
// audit entries older than audit_retention go, in batches of the given
// size; everything younger stays, and so does an old decision with a
// queued item. Each kind that lost rows gets one audit entry by system.
func TestRetentionDeletesExactlyWhatIsPastItsLimit(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		clk := withClock(s)
		mustOrg(t, s, "acme", nil)
		mustContact(t, s, "acme", contactAddr)
		mustFailedLock(t, s, "acme", "jsmith", s.Now())

		// Day 0: seven old decisions with an item each, one carrying a
		// signature, and one queued request; seven old sent mails.
		queued := queuedRequest(t, s, "<queued@acme.example>", "jsmith")
		for i := range 7 {
			m := message("support", fmt.Sprintf("<old%d@acme.example>", i))
			if i == 0 {
				m.SignatureKeys = []string{"sig-old"}
			}
			mustDecide(t, s, m, verified(contactAddr, "nobody"))
			sentMail(t, s, fmt.Sprintf("old%d", i))
		}
		oldAudit := auditCount(t, s)

		// Day 370: a sent mail whose body is past mail_retention only.
		clk.Add(370 * day)
		middle := sentMail(t, s, "middle")
		// Day 400 less an hour: young enough on every count.
		clk.Add(30*day - time.Hour)
		young := message("support", "<young@acme.example>")
		young.SignatureKeys = []string{"sig-young"}
		mustDecide(t, s, young, verified(contactAddr, "nobody"))
		fresh := sentMail(t, s, "fresh")
		youngAudit := auditCount(t, s) - oldAudit

		clk.Add(2 * time.Hour) // day 400 and an hour: the day-0 rows are past 400d
		before, _ := s.ListRequests(ctx, store.RequestFilter{Limit: store.MaxLimit})
		swept, err := s.SweepRetention(ctx, store.Retention{Records: 400 * day, MailBodies: 30 * day, Audit: 400 * day, Batch: 3})
		if err != nil {
			t.Fatal(err)
		}
		want := store.RetentionSwept{Decisions: 7, RequestItems: 7, Mail: 7, MailBodies: 1, Audit: oldAudit,
			// 7 decisions in 3+3+1, 7 mails in 3+3+1, one body, audit in batches of 3.
			Batches: 3 + 3 + 1 + (oldAudit+2)/3}
		if swept != want {
			t.Errorf("swept = %+v, want %+v", swept, want)
		}

		reqs, _ := s.ListRequests(ctx, store.RequestFilter{Limit: store.MaxLimit})
		if len(reqs) != 2 || reqs[0].ID != queued || reqs[1].Sender != contactAddr || len(before) != 9 {
			t.Errorf("requests left = %+v (of %d), want the queued one and the young one", reqs, len(before))
		}
		if _, err := s.ReplayedVerdict(ctx, []string{"sig-old"}); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("the old decision's signature key: %v, want it gone with its decision", err)
		}
		if _, err := s.ReplayedVerdict(ctx, []string{"sig-young"}); err != nil {
			t.Errorf("the young decision's signature key: %v", err)
		}
		mail, _ := s.Outbox(ctx, "")
		if len(mail) != 2 || mail[0].ID != middle || mail[0].Text != "" || mail[0].HTML != "" ||
			mail[1].ID != fresh || mail[1].Text != "text of fresh" || mail[1].HTML == "" {
			t.Errorf("outbox left = %+v, want middle without its body and fresh whole", mail)
		}
		log, _ := s.ListAudit(ctx, store.AuditFilter{Limit: store.MaxLimit})
		var retention []string
		for _, e := range log {
			if e.Action == domain.ActionRetention {
				if e.Actor != domain.ActorSystem {
					t.Errorf("retention entry by %q", e.Actor)
				}
				retention = append(retention, e.Target+": "+e.Note)
			}
		}
		if len(log) != youngAudit+len(retention) || len(retention) != 4 {
			t.Fatalf("audit left = %d entries (%d young) with retention entries %q", len(log), youngAudit, retention)
		}
		if !strings.HasPrefix(retention[len(retention)-1], "decisions: 7 decisions with 7 request items older than 400d (before ") {
			t.Errorf("retention entries = %q", retention)
		}

		// Nothing more is due: a second sweep deletes nothing and says so
		// nowhere.
		n := auditCount(t, s)
		again, err := s.SweepRetention(ctx, store.Retention{Records: 400 * day, MailBodies: 30 * day, Batch: 3})
		if err != nil || again != (store.RetentionSwept{}) || auditCount(t, s) != n {
			t.Errorf("second sweep = %+v, %v", again, err)
		}

		// Past every limit, the newest rows still stay (SQLite would reuse
		// their ids), and so does the queued request.
		clk.Add(800 * day)
		if _, err := s.SweepRetention(ctx, store.Retention{Records: 400 * day}); err != nil {
			t.Fatal(err)
		}
		reqs, _ = s.ListRequests(ctx, store.RequestFilter{Limit: store.MaxLimit})
		mail, _ = s.Outbox(ctx, "")
		if len(reqs) != 2 || len(mail) != 1 || mail[0].ID != fresh {
			t.Errorf("after 1200 days: requests %+v, outbox %+v", reqs, mail)
		}
	})
}

// TestRetentionOff: zero durations keep everything.
func TestRetentionOff(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		clk := withClock(s)
		mustOrg(t, s, "acme", nil)
		mustContact(t, s, "acme", contactAddr)
		mustDecide(t, s, message("support", "<a@acme.example>"), verified(contactAddr, "nobody"))
		mustDecide(t, s, message("support", "<b@acme.example>"), verified(contactAddr, "nobody"))
		sentMail(t, s, "a")
		sentMail(t, s, "b")
		clk.Add(3000 * day)
		n := auditCount(t, s)
		swept, err := s.SweepRetention(ctx, store.Retention{})
		if err != nil || swept != (store.RetentionSwept{}) || auditCount(t, s) != n {
			t.Errorf("swept = %+v, %v", swept, err)
		}
		if mail, _ := s.Outbox(ctx, ""); len(mail) != 2 || mail[0].Text == "" {
			t.Errorf("outbox = %+v", mail)
		}
	})
}

// TestRetentionKeepsDecisionsStillApplying: a decision whose unlock still
// waits for its remote directory is needed until the answer is recorded
// (the reply is written then), however old it is.
func TestRetentionKeepsDecisionsStillApplying(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		clk := withClock(s)
		org := remoteOrg(t, s)
		l := store.Lookup{Users: map[string]domain.User{
			"jsmith": ldapUser("jsmith", domain.LockFailedLogins, "20261123110000Z", s.Now().Add(-time.Hour)),
		}}
		d := decideRemote(t, s, org, "<applying@acme.example>", l, &decisionReplies{}, "jsmith")
		if d.Decision.Items[0].State != domain.ItemApplying {
			t.Fatalf("items = %+v", d.Decision.Items)
		}
		mustDecide(t, s, message("support", "<newest@acme.example>"), verified(contactAddr, "nobody"))
		clk.Add(800 * day)
		swept, err := s.SweepRetention(ctx, store.Retention{Records: 400 * day})
		if err != nil {
			t.Fatal(err)
		}
		if swept.Decisions != 0 {
			t.Errorf("swept %+v: the applying decision went", swept)
		}
		if claimed, err := s.ClaimApplying(ctx, "w1", 10, time.Minute); err != nil || len(claimed) != 1 {
			t.Errorf("after the sweep the worker claims %+v, %v; want the applying item", claimed, err)
		}
	})
}
