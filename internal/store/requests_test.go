package store_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/storetest"
)

// answers is a FollowUpRenderer that records what it rendered and gives
// each answer a unique Message-ID.
type answers struct {
	mu  sync.Mutex
	got []store.FollowUp
	// notices are the FollowUpRequeued notices to staff, apart.
	notices []store.FollowUp
	n       atomic.Int64
}

func (a *answers) render(f store.FollowUp) (domain.Mail, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if f.Kind == store.FollowUpRequeued {
		a.notices = append(a.notices, f)
		return domain.Mail{Kind: domain.MailNotifyStaff, Subject: "requeued", MessageID: fmt.Sprintf("notice-%d@unlockd.test", a.n.Add(1))}, nil
	}
	a.got = append(a.got, f)
	return domain.Mail{Kind: domain.MailReply, To: f.To, Subject: f.Kind + " " + strings.Join(f.Usernames, ","),
		MessageID: fmt.Sprintf("answer-%d@unlockd.test", a.n.Add(1)), InReplyTo: f.MessageID, Text: f.Note}, nil
}

// queuedRequest queues an unverified request for a failed-login lock of
// username in org acme (created by the caller) and returns its item id.
func queuedRequest(t *testing.T, s *store.Store, key, username string) int64 {
	t.Helper()
	d := mustDecide(t, s, message("support", key), domain.Facts{Sender: contactAddr, Usernames: domain.NamesIn(domain.InSubject, username)})
	if len(d.Decision.Items) != 1 || d.Decision.Items[0].State != domain.ItemPending {
		t.Fatalf("decision items = %+v, want one pending", d.Decision.Items)
	}
	reqs, err := s.ListRequests(ctx, store.RequestFilter{State: domain.ItemPending, Limit: store.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reqs {
		if r.DecisionID == d.ID {
			return r.ID
		}
	}
	t.Fatalf("no pending request for decision %d in %+v", d.ID, reqs)
	return 0
}

// jsmithQueued sets up org acme with its contact and jsmith locked for
// failed logins, and returns the id of an unverified request to unlock him.
func jsmithQueued(t *testing.T, s *store.Store) int64 {
	t.Helper()
	mustOrg(t, s, "acme", nil)
	mustContact(t, s, "acme", contactAddr)
	mustFailedLock(t, s, "acme", "jsmith", s.Now())
	return queuedRequest(t, s, "<q1@acme.example>", "jsmith")
}

// replies returns the pending outbox replies.
func replies(t *testing.T, s *store.Store) []store.OutboxMail {
	t.Helper()
	mails, err := s.Outbox(ctx, "pending")
	if err != nil {
		t.Fatal(err)
	}
	return mails
}

func TestApproveRequestUnlocksOnceAndAnswersOnRecord(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		withClock(s)
		id := jsmithQueued(t, s)
		var a answers
		before := auditCount(t, s)

		r, err := s.ApproveRequest(ctx, id, "acme", "", "operator:ann@acme.example", "http:1", a.render)
		if err != nil {
			t.Fatal(err)
		}
		if r.State != domain.ItemApplied || r.DecidedBy != "operator:ann@acme.example" {
			t.Errorf("approved request = %+v, want applied by ann", r)
		}
		wantUnlocked(t, s, "acme", "jsmith")
		if got := auditCount(t, s) - before; got != 2 {
			t.Errorf("audit entries written = %d, want 2 (unlock, approve)", got)
		}
		if len(a.got) != 1 || a.got[0].Kind != store.FollowUpApproved || a.got[0].To != contactAddr ||
			a.got[0].MessageID != "<q1@acme.example>" || a.got[0].Subject != "Unlock please" {
			t.Errorf("answers = %+v, want one approved answer to %s in the request's thread", a.got, contactAddr)
		}
		queued := len(replies(t, s))

		_, err = s.ApproveRequest(ctx, id, "acme", "", "operator:bob@acme.example", "http:2", a.render)
		if !errors.Is(err, domain.ErrConflict) {
			t.Errorf("second approval: %v, want a conflict", err)
		}
		if got := auditCount(t, s) - before; got != 2 || len(a.got) != 1 || len(replies(t, s)) != queued {
			t.Errorf("second approval wrote %d audit entries, %d answers, %d mails; want nothing new", got-2, len(a.got)-1, len(replies(t, s))-queued)
		}
	})
}

func TestConcurrentApprovalsUnlockOnce(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		id := jsmithQueued(t, s)
		var a answers
		var ok, conflicts atomic.Int32
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				_, err := s.ApproveRequest(ctx, id, "", "", fmt.Sprintf("operator:%d@x.example", i), "http", a.render)
				switch {
				case err == nil:
					ok.Add(1)
				case errors.Is(err, domain.ErrConflict):
					conflicts.Add(1)
				default:
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if ok.Load() != 1 || conflicts.Load() != 7 || len(a.got) != 1 {
			t.Errorf("approvals: %d ok, %d conflicts, %d answers; want 1, 7, 1", ok.Load(), conflicts.Load(), len(a.got))
		}
	})
}

func TestRejectRequestKeepsLockAndSendsNote(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		id := jsmithQueued(t, s)
		var a answers

		r, err := s.RejectRequest(ctx, id, "", "call the desk first", "token:staff", "http:1", a.render)
		if err != nil {
			t.Fatal(err)
		}
		if r.State != domain.ItemRejected || r.Note != "call the desk first" {
			t.Errorf("rejected request = %+v", r)
		}
		wantLocked(t, s, "acme", "jsmith", domain.LockFailedLogins)
		if len(a.got) != 1 || a.got[0].Kind != store.FollowUpDeclined || a.got[0].Note != "call the desk first" {
			t.Errorf("answers = %+v, want one declined answer with the note", a.got)
		}
		if _, err := s.ApproveRequest(ctx, id, "", "", "token:staff", "http:2", a.render); !errors.Is(err, domain.ErrConflict) {
			t.Errorf("approving a rejected request: %v, want a conflict", err)
		}
		wantLocked(t, s, "acme", "jsmith", domain.LockFailedLogins)
	})
}

func TestRequestOfAnotherOrgIsNotFound(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		id := jsmithQueued(t, s)
		mustOrg(t, s, "globex", nil)

		if _, err := s.Request(ctx, id, "globex"); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("Request as globex: %v, want not found", err)
		}
		if _, err := s.ApproveRequest(ctx, id, "globex", "", "operator:x@globex.example", "http", nil); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("ApproveRequest as globex: %v, want not found", err)
		}
		wantLocked(t, s, "acme", "jsmith", domain.LockFailedLogins)
		if reqs, err := s.ListRequests(ctx, store.RequestFilter{OrgSlug: "globex"}); err != nil || len(reqs) != 0 {
			t.Errorf("globex requests = %+v, %v; want none", reqs, err)
		}
		r, err := s.Request(ctx, id, "acme")
		if err != nil {
			t.Fatal(err)
		}
		if r.Sender != contactAddr || r.Authenticated || r.Subject != "Unlock please" || r.OrgSlug != "acme" ||
			r.ContactEmail != contactAddr || !r.UnverifiedSender || r.Reason != domain.QueueUnverifiedSender {
			t.Errorf("request evidence = %+v", r)
		}
	})
}

func TestListRequestsPages(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		mustOrg(t, s, "acme", nil)
		mustContact(t, s, "acme", contactAddr)
		var want []int64
		for i := range 5 {
			name := fmt.Sprintf("user%d", i)
			mustFailedLock(t, s, "acme", name, s.Now())
			want = append(want, queuedRequest(t, s, fmt.Sprintf("<q%d@acme.example>", i), name))
		}
		var got []int64
		var after int64
		for {
			page, err := s.ListRequests(ctx, store.RequestFilter{OrgSlug: "acme", AfterID: after, Limit: 2})
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			for _, r := range page {
				got = append(got, r.ID)
			}
			after = page[len(page)-1].ID
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("paged ids = %v, want %v", got, want)
		}
	})
}

func TestSweepClosesUnlockedAndExpiresOld(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		clk := withClock(s)
		mustOrg(t, s, "acme", nil)
		mustContact(t, s, "acme", contactAddr)
		mustFailedLock(t, s, "acme", "jsmith", s.Now())
		mustFailedLock(t, s, "acme", "mlopez", s.Now())
		closing := queuedRequest(t, s, "<q1@acme.example>", "jsmith")
		expiring := queuedRequest(t, s, "<q2@acme.example>", "mlopez")
		if _, err := s.UnlockUser(ctx, "acme", "jsmith", "operator:ann@acme.example", "http"); err != nil {
			t.Fatal(err)
		}
		var a answers
		const ttl = 7 * 24 * time.Hour

		got, err := s.SweepRequests(ctx, ttl, a.render)
		if err != nil {
			t.Fatal(err)
		}
		if got != (store.Swept{Closed: 1}) || len(a.got) != 1 || a.got[0].Kind != store.FollowUpClosed {
			t.Errorf("first sweep = %+v with answers %+v; want jsmith's request closed", got, a.got)
		}
		wantState(t, s, closing, domain.ItemApplied)
		wantState(t, s, expiring, domain.ItemPending)

		clk.t = clk.t.Add(ttl + time.Minute)
		if got, err = s.SweepRequests(ctx, ttl, a.render); err != nil {
			t.Fatal(err)
		}
		if got != (store.Swept{Expired: 1}) || len(a.got) != 2 || a.got[1].Kind != store.FollowUpExpired ||
			a.got[1].Usernames[0] != "mlopez" {
			t.Errorf("second sweep = %+v with answers %+v; want mlopez's request expired", got, a.got)
		}
		wantState(t, s, expiring, domain.ItemExpired)
		wantLocked(t, s, "acme", "mlopez", domain.LockFailedLogins)

		if got, err = s.SweepRequests(ctx, ttl, a.render); err != nil || got != (store.Swept{}) || len(a.got) != 2 {
			t.Errorf("third sweep = %+v, %v, %d answers; want nothing to do", got, err, len(a.got))
		}
		if len(replies(t, s)) < 2 {
			t.Errorf("outbox holds %d pending mails, want the two answers", len(replies(t, s)))
		}
	})
}

func wantState(t *testing.T, s *store.Store, id int64, state domain.ItemState) {
	t.Helper()
	r, err := s.Request(ctx, id, "")
	if err != nil {
		t.Fatal(err)
	}
	if r.State != state {
		t.Errorf("request %d state = %s, want %s", id, r.State, state)
	}
}
