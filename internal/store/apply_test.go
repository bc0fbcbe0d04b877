package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/storetest"
)

// remoteOrg creates org acme on directory corp with its contact.
func remoteOrg(t *testing.T, s *store.Store) domain.Org {
	t.Helper()
	o, err := s.CreateOrg(ctx, domain.Org{Slug: "acme", Name: "Acme", Policy: domain.DefaultPolicy(), Directory: "corp"})
	if err != nil {
		t.Fatal(err)
	}
	mustContact(t, s, "acme", contactAddr)
	return o
}

// ldapUser is an account as a remote directory returns it.
func ldapUser(name string, reason domain.LockReason, mark string, at time.Time) domain.User {
	return domain.User{Username: name, Lock: &domain.Lock{Reason: reason, At: at, Mark: mark}}
}

// decisionReplies is a decision Renderer that writes a reply when the decision
// names a recipient, and counts the calls.
type decisionReplies struct{ calls, written int }

func (r *decisionReplies) render(dm store.DecisionMail) ([]domain.Mail, error) {
	r.calls++
	if dm.Decision.ReplyTo == "" {
		return nil, nil
	}
	r.written++
	return []domain.Mail{{Kind: domain.MailReply, To: dm.Decision.ReplyTo, Subject: "Re: " + dm.Message.Subject,
		MessageID: dm.Message.Key + ".reply@unlockd.test"}}, nil
}

// decideRemote decides one verified request of the contact for names,
// with what the directory answered.
func decideRemote(t *testing.T, s *store.Store, org domain.Org, key string, l store.Lookup, r *decisionReplies, names ...string) store.Decided {
	t.Helper()
	out, err := s.DecideBatch(ctx, []store.Input{{Message: message("support", key), Facts: verified(contactAddr, names...),
		Remote: map[int64]store.Lookup{org.ID: l}}}, r.render)
	if err != nil {
		t.Fatal(err)
	}
	return out[0].Decided
}

func mailTo(t *testing.T, s *store.Store, to string) []store.OutboxMail {
	t.Helper()
	all, err := s.Outbox(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	var out []store.OutboxMail
	for _, m := range all {
		if m.To == to {
			out = append(out, m)
		}
	}
	return out
}

func TestApplyingDecisionIsAnsweredOnceEveryAnswerIsIn(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		now := withClock(s).Now().Truncate(time.Second)
		org := remoteOrg(t, s)
		mustFailedLock(t, s, "acme", "jsmith", now) // a builtin row of the same name must not be touched
		l := store.Lookup{Users: map[string]domain.User{
			"jsmith": ldapUser("jsmith", domain.LockFailedLogins, "20261123110000Z", now.Add(-time.Hour)),
			"sam":    ldapUser("sam", domain.LockFailedLogins, "20261123110500Z", now.Add(-time.Hour)),
		}}
		r := &decisionReplies{}
		d := decideRemote(t, s, org, "<r1@acme.example>", l, r, "jsmith", "sam", "nobody")
		if len(d.Decision.Items) != 3 || d.Decision.Items[0].State != domain.ItemApplying || d.Decision.Items[1].State != domain.ItemApplying ||
			d.Decision.Items[2].State != domain.ItemUnknownUser {
			t.Fatalf("items = %+v", d.Decision.Items)
		}
		if r.calls != 1 || r.written != 0 || len(mailTo(t, s, contactAddr)) != 0 {
			t.Fatalf("a reply was written at decision time (%d renders, %d decisionReplies)", r.calls, r.written)
		}
		wantLocked(t, s, "acme", "jsmith", domain.LockFailedLogins)

		claimed, err := s.ClaimApplying(ctx, "w1", 10, time.Minute)
		if err != nil || len(claimed) != 2 {
			t.Fatalf("claimed %+v, %v", claimed, err)
		}
		a := claimed[0]
		if a.Username != "jsmith" || a.Directory != "corp" || a.Org.Slug != "acme" || a.Lock.Mark != "20261123110000Z" ||
			a.Lock.Reason != domain.LockFailedLogins || !a.Lock.At.Equal(now.Add(-time.Hour)) || a.For != store.ApplyForDecision ||
			a.DecidedBy != "email:"+contactAddr || a.Calls != 0 {
			t.Fatalf("claimed item = %+v", a)
		}
		if again, err := s.ClaimApplying(ctx, "w2", 10, time.Minute); err != nil || len(again) != 0 {
			t.Fatalf("a claimed item was claimed twice: %+v, %v", again, err)
		}
		if err := s.CallingUnlock(ctx, "w2", a.ID); !errors.Is(err, store.ErrClaimLost) {
			t.Fatalf("another worker noted a call: %v", err)
		}
		if err := s.CallingUnlock(ctx, "w1", a.ID); err != nil {
			t.Fatal(err)
		}
		ans := &answers{}
		if err := s.RecordApply(ctx, "w1", a, store.Answer{State: domain.ItemApplied}, ans.render); err != nil {
			t.Fatal(err)
		}
		if len(ans.got) != 0 {
			t.Fatalf("replied before the last answer: %+v", ans.got)
		}
		if err := s.RecordApply(ctx, "w1", a, store.Answer{State: domain.ItemApplied}, ans.render); !errors.Is(err, store.ErrClaimLost) {
			t.Fatalf("recorded twice: %v", err)
		}
		b := claimed[1]
		if err := s.RecordApply(ctx, "w1", b, store.Answer{State: domain.ItemPending, Reason: domain.QueueLockChanged,
			Note: domain.ErrLockChanged.Message}, ans.render); err != nil {
			t.Fatal(err)
		}
		if len(ans.got) != 1 || ans.got[0].Kind != store.FollowUpApplied || ans.got[0].To != contactAddr || len(ans.got[0].Items) != 3 {
			t.Fatalf("answers = %+v", ans.got)
		}
		if len(ans.notices) != 1 || ans.notices[0].Sender != contactAddr || ans.notices[0].Items[0].Username != "sam" ||
			ans.notices[0].Items[0].Reason != domain.QueueLockChanged {
			t.Errorf("staff notices = %+v", ans.notices)
		}
		states := map[string]domain.ItemState{}
		for _, it := range ans.got[0].Items {
			states[it.Username] = it.State
		}
		if states["jsmith"] != domain.ItemApplied || states["sam"] != domain.ItemPending || states["nobody"] != domain.ItemUnknownUser {
			t.Errorf("reply items = %+v", ans.got[0].Items)
		}
		if n := len(mailTo(t, s, contactAddr)); n != 1 {
			t.Errorf("%d decisionReplies queued, want 1", n)
		}
		wantLocked(t, s, "acme", "jsmith", domain.LockFailedLogins) // the builtin row is not the directory's
		entries, err := s.ListAudit(ctx, store.AuditFilter{OrgID: org.ID, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, e := range entries {
			if e.Action == domain.ActionUnlock && e.Target == "jsmith" {
				found = true
				if e.Actor != "email:"+contactAddr || e.Source != "message-id:<r1@acme.example>" || e.Note == "" ||
					!contains(e.Note, "directory corp") {
					t.Errorf("unlock audit entry = %+v", e)
				}
			}
		}
		if !found {
			t.Errorf("no unlock audit entry in %+v", entries)
		}
		queued, err := s.ListRequests(ctx, store.RequestFilter{State: domain.ItemPending, Limit: 10})
		if err != nil || len(queued) != 1 || queued[0].Reason != domain.QueueLockChanged || queued[0].Username != "sam" {
			t.Errorf("queue = %+v, %v", queued, err)
		}
	})
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func TestApplyRetryWaitsAndCountsCalls(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		clk := withClock(s)
		now := clk.Now()
		org := remoteOrg(t, s)
		l := store.Lookup{Users: map[string]domain.User{"jsmith": ldapUser("jsmith", domain.LockFailedLogins, "m", now)}}
		decideRemote(t, s, org, "<r2@acme.example>", l, &decisionReplies{}, "jsmith")
		claimed, err := s.ClaimApplying(ctx, "w1", 10, time.Minute)
		if err != nil || len(claimed) != 1 {
			t.Fatalf("claimed %+v, %v", claimed, err)
		}
		a := claimed[0]
		if err := s.CallingUnlock(ctx, "w1", a.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.ApplyRetry(ctx, "w1", a.ID, "dial tcp: connection refused", now.Add(30*time.Second)); err != nil {
			t.Fatal(err)
		}
		if due, ok, err := s.NextApplyDue(ctx); err != nil || !ok || !due.Equal(now.Add(30*time.Second).UTC().Truncate(time.Microsecond)) && due.Sub(now) != 30*time.Second {
			t.Fatalf("next due = %v, %v, %v", due, ok, err)
		}
		if early, err := s.ClaimApplying(ctx, "w2", 10, time.Minute); err != nil || len(early) != 0 {
			t.Fatalf("claimed before due: %+v, %v", early, err)
		}
		clk.Add(31 * time.Second)
		later, err := s.ClaimApplying(ctx, "w2", 10, time.Minute)
		if err != nil || len(later) != 1 || later[0].Tries != 1 || later[0].Calls != 1 {
			t.Fatalf("claimed again %+v, %v; want one try and one call counted", later, err)
		}
		// A worker that died: its claim runs out and another takes it.
		clk.Add(2 * time.Minute)
		if n, err := s.ReleaseClaims(ctx); err != nil || n != 1 {
			t.Fatalf("ReleaseClaims = %d, %v", n, err)
		}
		if again, err := s.ClaimApplying(ctx, "w3", 10, time.Minute); err != nil || len(again) != 1 {
			t.Fatalf("released item not claimable: %+v, %v", again, err)
		}
	})
}

func TestApproveRemoteGoesThroughTheWorker(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		now := withClock(s).Now()
		org := remoteOrg(t, s)
		l := store.Lookup{Users: map[string]domain.User{"boss": ldapUser("boss", domain.LockAdmin, "000001010000Z", now)}}
		d := decideRemote(t, s, org, "<r3@acme.example>", l, &decisionReplies{}, "boss")
		if it := d.Decision.Items[0]; it.State != domain.ItemPending || it.Reason != domain.QueueAdminLock {
			t.Fatalf("item = %+v", it)
		}
		reqs, err := s.ListRequests(ctx, store.RequestFilter{State: domain.ItemPending, Limit: 10})
		if err != nil || len(reqs) != 1 {
			t.Fatalf("requests = %+v, %v", reqs, err)
		}
		ans := &answers{}
		if _, err := s.ApproveRequest(ctx, reqs[0].ID, "", "checked by phone", "operator:ann@example.com", "http", ans.render); err != nil {
			t.Fatal(err)
		}
		if len(ans.got) != 0 {
			t.Fatalf("approved answer before the directory's: %+v", ans.got)
		}
		if _, err := s.ApproveRequest(ctx, reqs[0].ID, "", "", "operator:bob@example.com", "http", ans.render); domain.ErrorCode(err) != domain.CodeConflict {
			t.Fatalf("approved twice: %v", err)
		}
		claimed, err := s.ClaimApplying(ctx, "w1", 10, time.Minute)
		if err != nil || len(claimed) != 1 {
			t.Fatalf("claimed %+v, %v", claimed, err)
		}
		a := claimed[0]
		if a.For != store.ApplyForApproval || a.Lock.Reason != domain.LockAdmin || a.Lock.Mark != "000001010000Z" ||
			a.DecidedBy != "operator:ann@example.com" || a.Note != "checked by phone" {
			t.Fatalf("claimed = %+v", a)
		}
		if err := s.RecordApply(ctx, "w1", a, store.Answer{State: domain.ItemApplied}, ans.render); err != nil {
			t.Fatal(err)
		}
		if len(ans.got) != 1 || ans.got[0].Kind != store.FollowUpApproved || ans.got[0].Usernames[0] != "boss" {
			t.Fatalf("answers = %+v", ans.got)
		}
		r, err := s.Request(ctx, a.ID, "")
		if err != nil || r.State != domain.ItemApplied {
			t.Fatalf("request = %+v, %v", r, err)
		}
	})
}

func TestOrgDirectoryIsStored(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		remoteOrg(t, s)
		mustOrg(t, s, "initech", nil)
		mustContact(t, s, "initech", contactAddr)
		for slug, want := range map[string]string{"acme": "corp", "initech": domain.BuiltinDirectory} {
			o, err := s.Org(ctx, slug)
			if err != nil || o.Directory != want {
				t.Errorf("%s directory = %q, %v; want %q", slug, o.Directory, err, want)
			}
		}
		orgs, err := s.RemoteOrgs(ctx, []string{contactAddr, "nobody@example.com"})
		if err != nil || len(orgs[contactAddr]) != 1 || orgs[contactAddr][0].Slug != "acme" || len(orgs) != 1 {
			t.Fatalf("RemoteOrgs = %+v, %v", orgs, err)
		}
		o, err := s.ChangeOrg(ctx, "acme", func(o *domain.Org) error { o.Directory = domain.BuiltinDirectory; return nil }, "test", "cli")
		if err != nil || o.Directory != domain.BuiltinDirectory {
			t.Fatalf("ChangeOrg = %+v, %v", o, err)
		}
		if _, err := s.ChangeOrg(ctx, "acme", func(o *domain.Org) error { o.Directory = "Bad Name"; return nil }, "test", "cli"); domain.ErrorCode(err) != domain.CodeInvalid {
			t.Fatalf("a bad directory name was stored: %v", err)
		}
		if res, err := s.ImportOrg(ctx, store.ImportTarget{Slug: "globex", Directory: "corp"}, nil, nil, "cli", "cli"); err != nil || !res.OrgCreated {
			t.Fatalf("ImportOrg = %+v, %v", res, err)
		}
		if o, err := s.Org(ctx, "globex"); err != nil || o.Directory != "corp" {
			t.Fatalf("imported org = %+v, %v", o, err)
		}
	})
}

func TestDirectoryErrorIsQueuedWithItsNote(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		org := remoteOrg(t, s)
		r := &decisionReplies{}
		d := decideRemote(t, s, org, "<r4@acme.example>", store.Lookup{Err: "directory corp: two entries for username jsmith"}, r, "jsmith")
		if it := d.Decision.Items[0]; it.State != domain.ItemPending || it.Reason != domain.QueueDirectoryError {
			t.Fatalf("item = %+v", it)
		}
		if r.written != 1 {
			t.Errorf("no reply to a request queued for staff (%d)", r.written)
		}
		reqs, err := s.ListRequests(ctx, store.RequestFilter{State: domain.ItemPending, Limit: 10})
		if err != nil || len(reqs) != 1 || reqs[0].Note != "directory corp: two entries for username jsmith" {
			t.Fatalf("requests = %+v, %v", reqs, err)
		}
	})
}

func TestApplyingUnlocksCountTowardsTheHourlyLimit(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		now := withClock(s).Now()
		p := domain.DefaultPolicy()
		p.MaxRequestsPerHour = 1
		org, err := s.CreateOrg(ctx, domain.Org{Slug: "acme", Name: "Acme", Policy: p, Directory: "corp"})
		if err != nil {
			t.Fatal(err)
		}
		mustContact(t, s, "acme", contactAddr)
		l := store.Lookup{Users: map[string]domain.User{
			"jsmith": ldapUser("jsmith", domain.LockFailedLogins, "a", now),
			"sam":    ldapUser("sam", domain.LockFailedLogins, "b", now),
		}}
		first := decideRemote(t, s, org, "<h1@acme.example>", l, &decisionReplies{}, "jsmith")
		second := decideRemote(t, s, org, "<h2@acme.example>", l, &decisionReplies{}, "sam")
		if first.Decision.Items[0].State != domain.ItemApplying || second.Decision.Items[0].Reason != domain.QueueRateLimited {
			t.Fatalf("first %+v, second %+v", first.Decision.Items, second.Decision.Items)
		}
	})
}
