package store_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/storetest"
)

// contactAddr is the acme contact most decision tests write from.
const contactAddr = "it@acme.example"

// mustContact adds an authorised contact to the org.
func mustContact(t *testing.T, s *store.Store, slug, email string) domain.Contact {
	t.Helper()
	c, err := s.AddContact(ctx, slug, domain.Contact{Email: email, Name: "IT desk"}, "test", "cli")
	if err != nil {
		t.Fatalf("AddContact(%s, %s): %v", slug, email, err)
	}
	return c
}

// mustFailedLock creates a user locked for failed logins at now.
func mustFailedLock(t *testing.T, s *store.Store, slug, username string, now time.Time) domain.User {
	t.Helper()
	return mustUser(t, s, slug, domain.User{Username: username, FailedLogins: 5, LastFailedAt: now,
		Lock: &domain.Lock{Reason: domain.LockFailedLogins, At: now, By: domain.ActorSystem, Note: "too many failed logins"}})
}

// message returns a request message keyed and identified by id.
func message(mailbox, id string) store.Message {
	return store.Message{Mailbox: mailbox, Key: id, MessageID: id, UIDValidity: 7, UID: 1, Subject: "Unlock please"}
}

func verified(sender string, usernames ...string) domain.Facts {
	return domain.Facts{Sender: sender, Proof: domain.Proof{Passed: true, Covered: domain.InSubject | domain.InBody},
		Usernames: domain.NamesIn(domain.InSubject, usernames...)}
}

func mustDecide(t *testing.T, s *store.Store, m store.Message, f domain.Facts) store.Decided {
	t.Helper()
	d, err := s.Decide(ctx, m, f, nil)
	if err != nil {
		t.Fatalf("Decide(%s %s): %v", m.Mailbox, m.Key, err)
	}
	if d.ID == 0 {
		t.Fatalf("Decide(%s %s) returned decision id 0", m.Mailbox, m.Key)
	}
	return d
}

// auditCount counts every audit entry in the store.
func auditCount(t *testing.T, s *store.Store) int {
	t.Helper()
	entries, err := s.ListAudit(ctx, store.AuditFilter{Limit: store.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

// wantLocked checks that the user is locked for reason.
func wantLocked(t *testing.T, s *store.Store, slug, username string, reason domain.LockReason) {
	t.Helper()
	u, err := s.User(ctx, slug, username)
	if err != nil {
		t.Fatal(err)
	}
	if u.Lock == nil || u.Lock.Reason != reason {
		t.Errorf("%s/%s lock = %+v, want a %s lock", slug, username, u.Lock, reason)
	}
}

// wantUnlocked checks that the user is active with its counter cleared.
func wantUnlocked(t *testing.T, s *store.Store, slug, username string) {
	t.Helper()
	u, err := s.User(ctx, slug, username)
	if err != nil {
		t.Fatal(err)
	}
	if u.Lock != nil || u.FailedLogins != 0 || !u.LastFailedAt.IsZero() {
		t.Errorf("%s/%s = lock %+v, %d failed logins (last %v); want active with the counter cleared",
			slug, username, u.Lock, u.FailedLogins, u.LastFailedAt)
	}
}

func wantItems(t *testing.T, got, want []domain.Item) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("items =\n\t%+v\nwant\n\t%+v", got, want)
	}
}

func TestDecideVerifiedRequestUnlocksFailedLoginLock(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		now := withClock(s).Now().Truncate(time.Microsecond)
		org := mustOrg(t, s, "acme", nil)
		mustContact(t, s, "acme", contactAddr)
		u := mustFailedLock(t, s, "acme", "jsmith", now)
		mustFailedLock(t, s, "acme", "bystander", now)
		before := auditCount(t, s)

		d := mustDecide(t, s, message("support", "<k1@acme.example>"), verified(contactAddr, "jsmith"))

		if d.Decision.Verdict != domain.VerdictAccepted || d.Decision.ReplyTo != contactAddr || d.Decision.NotifyAdmins != nil {
			t.Errorf("decision = %+v", d.Decision)
		}
		wantItems(t, d.Decision.Items, []domain.Item{{OrgID: org.ID, UserID: u.ID, Username: "jsmith",
			State: domain.ItemApplied, DecidedBy: "email:" + contactAddr, DecidedAt: now}})
		wantUnlocked(t, s, "acme", "jsmith")
		wantLocked(t, s, "acme", "bystander", domain.LockFailedLogins)
		locked, err := s.ListUsers(ctx, "acme", store.UserFilter{Status: domain.StatusLocked})
		if err != nil || len(locked) != 1 || locked[0].Username != "bystander" {
			t.Errorf("locked users = %+v, %v; want only bystander", locked, err)
		}

		entries, err := s.ListAudit(ctx, store.AuditFilter{OrgID: org.ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != before+1 {
			t.Fatalf("audit entries = %d, want %d (one unlock)", len(entries), before+1)
		}
		e := entries[0]
		if e.Action != domain.ActionUnlock || e.Actor != "email:"+contactAddr || e.Target != "jsmith" ||
			e.Source != "message-id:<k1@acme.example>" || e.OrgID != org.ID || !e.At.Equal(now) {
			t.Errorf("unlock audit entry = %+v", e)
		}
	})
}

func TestDecideAdminLockIsQueuedAndAdminsNotified(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		withClock(s)
		org := mustOrg(t, s, "acme", nil)
		mustContact(t, s, "acme", contactAddr)
		u := mustUser(t, s, "acme", domain.User{Username: "boss"})
		if _, err := s.LockUser(ctx, "acme", "boss", "fraud", "operator:ann@acme.example", "cli"); err != nil {
			t.Fatal(err)
		}
		before := auditCount(t, s)

		d := mustDecide(t, s, message("support", "<k1@acme.example>"), verified(contactAddr, "boss"))

		if d.Decision.Verdict != domain.VerdictAccepted || !reflect.DeepEqual(d.Decision.NotifyAdmins, []int64{org.ID}) {
			t.Errorf("decision = %+v, want accepted with NotifyAdmins [%d]", d.Decision, org.ID)
		}
		wantItems(t, d.Decision.Items, []domain.Item{{OrgID: org.ID, UserID: u.ID, Username: "boss",
			State: domain.ItemPending, Reason: domain.QueueAdminLock}})
		wantLocked(t, s, "acme", "boss", domain.LockAdmin)
		if got := auditCount(t, s); got != before {
			t.Errorf("audit entries = %d, want %d (a queued request audits nothing)", got, before)
		}
	})
}

func TestDecideUnauthenticatedContactIsQueuedAndAnsweredOnRecord(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		withClock(s)
		org := mustOrg(t, s, "acme", nil)
		mustContact(t, s, "acme", "IT@Acme.Example")
		contacts, err := s.Contacts(ctx, "acme")
		if err != nil || len(contacts) != 1 || contacts[0].Email != "it@acme.example" {
			t.Fatalf("contacts = %+v, %v", contacts, err)
		}
		u := mustFailedLock(t, s, "acme", "jsmith", s.Now())
		before := auditCount(t, s)

		d := mustDecide(t, s, message("support", "<k1@acme.example>"),
			domain.Facts{Sender: "it@acme.example", Usernames: domain.NamesIn(domain.InSubject, "jsmith")})

		if d.Decision.Verdict != domain.VerdictAccepted || d.Decision.ReplyTo != contacts[0].Email {
			t.Errorf("decision = %+v, want accepted, reply to %s", d.Decision, contacts[0].Email)
		}
		wantItems(t, d.Decision.Items, []domain.Item{{OrgID: org.ID, UserID: u.ID, Username: "jsmith",
			State: domain.ItemPending, Reason: domain.QueueUnverifiedSender, UnverifiedSender: true, Confirmable: true}})
		wantLocked(t, s, "acme", "jsmith", domain.LockFailedLogins)
		if got := auditCount(t, s); got != before {
			t.Errorf("audit entries = %d, want %d", got, before)
		}
	})
}

func TestDecideStrangerIsRejected(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		withClock(s)
		mustOrg(t, s, "acme", nil)
		mustContact(t, s, "acme", contactAddr)
		mustFailedLock(t, s, "acme", "jsmith", s.Now())
		before := auditCount(t, s)
		const stranger = "mallory@evil.example"
		for i, tt := range []struct {
			authenticated bool
			replyTo       string
		}{
			{false, ""},
			{true, stranger},
		} {
			f := domain.Facts{Sender: stranger, Proof: domain.Proof{Passed: tt.authenticated}, Usernames: domain.NamesIn(domain.InSubject, "jsmith")}
			d := mustDecide(t, s, message("support", fmt.Sprintf("<stranger-%d@evil.example>", i)), f)
			if d.Decision.Verdict != domain.VerdictRejected || d.Decision.ReplyTo != tt.replyTo ||
				d.Decision.Items != nil || d.Decision.NotifyAdmins != nil {
				t.Errorf("authenticated=%t: decision = %+v, want rejected, no items, reply to %q",
					tt.authenticated, d.Decision, tt.replyTo)
			}
		}
		wantLocked(t, s, "acme", "jsmith", domain.LockFailedLogins)
		if got := auditCount(t, s); got != before {
			t.Errorf("audit entries = %d, want %d", got, before)
		}
	})
}

func TestDecideDuplicateWritesNothing(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		withClock(s)
		mustOrg(t, s, "acme", &domain.Policy{MaxFailedLogins: 1, AutoUnlock: true, MaxRequestsPerHour: 10})
		mustContact(t, s, "acme", contactAddr)
		mustFailedLock(t, s, "acme", "jsmith", s.Now())
		m := message("support", "<k1@acme.example>")
		f := verified(contactAddr, "jsmith")
		if d := mustDecide(t, s, m, f); d.Decision.Items[0].State != domain.ItemApplied {
			t.Fatalf("first decision items = %+v, want applied", d.Decision.Items)
		}
		wantUnlocked(t, s, "acme", "jsmith")

		// Lock the user again for failed logins: a second decision that
		// was not refused would unlock it.
		if res, err := s.RecordLogin(ctx, "acme", "jsmith", false, "http:r"); err != nil || res != domain.LoginInvalid {
			t.Fatalf("RecordLogin = %s, %v", res, err)
		}
		wantLocked(t, s, "acme", "jsmith", domain.LockFailedLogins)
		before := auditCount(t, s)

		m.UID = 2 // the same message seen again after a UIDVALIDITY change
		d, err := s.Decide(ctx, m, f, nil)
		if !errors.Is(err, store.ErrDuplicate) {
			t.Fatalf("second Decide = %+v, %v; want ErrDuplicate", d, err)
		}
		if d.ID != 0 || d.Decision.Items != nil {
			t.Errorf("second Decide returned %+v, want nothing", d)
		}
		wantLocked(t, s, "acme", "jsmith", domain.LockFailedLogins)
		if got := auditCount(t, s); got != before {
			t.Errorf("audit entries = %d, want %d", got, before)
		}

		// The same key in another mailbox is another message.
		d = mustDecide(t, s, message("sales", "<k1@acme.example>"), f)
		if len(d.Decision.Items) != 1 || d.Decision.Items[0].State != domain.ItemApplied {
			t.Errorf("other mailbox items = %+v, want applied", d.Decision.Items)
		}
		wantUnlocked(t, s, "acme", "jsmith")
	})
}

func TestDecideDuplicateOfIgnoredMessage(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		withClock(s)
		mustOrg(t, s, "acme", nil)
		mustContact(t, s, "acme", contactAddr)
		mustFailedLock(t, s, "acme", "jsmith", s.Now())
		m := message("support", "headers:3f2a")
		f := verified(contactAddr, "jsmith")
		auto := f
		auto.AutoGenerated = "Auto-Submitted: auto-replied"
		if _, err := s.Decide(ctx, m, auto, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Decide(ctx, m, f, nil); !errors.Is(err, store.ErrDuplicate) {
			t.Fatalf("Decide after an ignored decision = %v, want ErrDuplicate", err)
		}
		wantLocked(t, s, "acme", "jsmith", domain.LockFailedLogins)
	})
}

func TestDecideUserOfAnotherOrgIsAnUnknownUser(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		withClock(s)
		mustOrg(t, s, "acme", nil)
		globex := mustOrg(t, s, "globex", nil)
		mustContact(t, s, "acme", contactAddr)
		mustFailedLock(t, s, "globex", "gwen", s.Now())
		globexAudit, err := s.ListAudit(ctx, store.AuditFilter{OrgID: globex.ID})
		if err != nil {
			t.Fatal(err)
		}

		d := mustDecide(t, s, message("support", "<k1@acme.example>"), verified(contactAddr, "gwen", "nosuch"))

		items := d.Decision.Items
		if len(items) != 2 || items[0].Username != "gwen" || items[1].Username != "nosuch" {
			t.Fatalf("items = %+v, want gwen then nosuch", items)
		}
		if it := items[1]; it.State != domain.ItemUnknownUser || it.OrgID != 0 || it.UserID != 0 || it.Reason != "" || it.UnverifiedSender {
			t.Errorf("unknown name item = %+v", it)
		}
		other := items[0]
		other.Username = items[1].Username
		if other != items[1] {
			t.Errorf("item for another org's user = %+v, want the same as an unknown name's %+v", items[0], items[1])
		}
		wantLocked(t, s, "globex", "gwen", domain.LockFailedLogins)
		after, err := s.ListAudit(ctx, store.AuditFilter{OrgID: globex.ID})
		if err != nil || len(after) != len(globexAudit) {
			t.Errorf("globex audit entries = %d, %v; want %d", len(after), err, len(globexAudit))
		}
	})
}

func TestDecideHourlyLimitSpansMessages(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		clk := withClock(s)
		p := domain.DefaultPolicy()
		p.MaxRequestsPerHour = 2
		mustOrg(t, s, "acme", &p)
		mustContact(t, s, "acme", contactAddr)
		mustContact(t, s, "acme", "ops@acme.example")
		for _, name := range []string{"u1", "u2", "u3", "u4", "u5", "u6"} {
			mustFailedLock(t, s, "acme", name, clk.Now())
		}
		decide := func(key, sender, username string) domain.Item {
			t.Helper()
			d := mustDecide(t, s, message("support", key), verified(sender, username))
			if len(d.Decision.Items) != 1 {
				t.Fatalf("%s: items = %+v", key, d.Decision.Items)
			}
			return d.Decision.Items[0]
		}
		wantState := func(it domain.Item, st domain.ItemState, r domain.QueueReason) {
			t.Helper()
			if it.State != st || it.Reason != r {
				t.Errorf("%s: state %s (%s), want %s (%s)", it.Username, it.State, it.Reason, st, r)
			}
		}

		wantState(decide("m1", contactAddr, "u1"), domain.ItemApplied, "") // t0
		clk.Add(10 * time.Minute)
		wantState(decide("m2", contactAddr, "u2"), domain.ItemApplied, "") // t0+10m
		clk.Add(10 * time.Minute)
		wantState(decide("m3", contactAddr, "u3"), domain.ItemPending, domain.QueueRateLimited) // t0+20m
		wantLocked(t, s, "acme", "u3", domain.LockFailedLogins)
		// The limit is per contact: another contact of the org is not held back.
		wantState(decide("m4", "ops@acme.example", "u4"), domain.ItemApplied, "")

		// At t0+1h+1s only m2's unlock is within the last hour.
		clk.Add(40*time.Minute + time.Second)
		wantState(decide("m5", contactAddr, "u5"), domain.ItemApplied, "")
		wantState(decide("m6", contactAddr, "u6"), domain.ItemPending, domain.QueueRateLimited)
		for _, name := range []string{"u1", "u2", "u4", "u5"} {
			wantUnlocked(t, s, "acme", name)
		}
		wantLocked(t, s, "acme", "u6", domain.LockFailedLogins)
	})
}

func TestDecideVerdictOverrideDecidesNothingElse(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		withClock(s)
		mustOrg(t, s, "acme", nil)
		mustContact(t, s, "acme", contactAddr)
		mustFailedLock(t, s, "acme", "jsmith", s.Now())
		before := auditCount(t, s)

		auto := verified(contactAddr, "jsmith")
		auto.AutoGenerated = "Auto-Submitted: auto-replied"
		d, err := s.Decide(ctx, message("support", "<auto@acme.example>"), auto, nil)
		if err != nil {
			t.Fatal(err)
		}
		want := domain.Decision{Verdict: domain.VerdictIgnored, Reason: "auto-generated: Auto-Submitted: auto-replied"}
		if d.ID == 0 || !reflect.DeepEqual(d.Decision, want) {
			t.Errorf("Decide = %+v, want id != 0 and %+v", d, want)
		}
		wantLocked(t, s, "acme", "jsmith", domain.LockFailedLogins)
		if got := auditCount(t, s); got != before {
			t.Errorf("audit entries = %d, want %d", got, before)
		}
	})
}

func TestDecideContactOfTwoOrgsIsAmbiguous(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		withClock(s)
		acme := mustOrg(t, s, "acme", nil)
		globex := mustOrg(t, s, "globex", nil)
		const shared = "it@shared.example"
		mustContact(t, s, "acme", shared)
		mustContact(t, s, "globex", shared)
		ua := mustFailedLock(t, s, "acme", "jsmith", s.Now())
		ug := mustFailedLock(t, s, "globex", "jsmith", s.Now())
		before := auditCount(t, s)

		d := mustDecide(t, s, message("support", "<k1@shared.example>"), verified(shared, "jsmith"))

		if d.Decision.Verdict != domain.VerdictAccepted || d.Decision.ReplyTo != shared {
			t.Errorf("decision = %+v", d.Decision)
		}
		wantItems(t, d.Decision.Items, []domain.Item{
			{OrgID: acme.ID, UserID: ua.ID, Username: "jsmith", State: domain.ItemPending, Reason: domain.QueueAmbiguous},
			{OrgID: globex.ID, UserID: ug.ID, Username: "jsmith", State: domain.ItemPending, Reason: domain.QueueAmbiguous},
		})
		wantLocked(t, s, "acme", "jsmith", domain.LockFailedLogins)
		wantLocked(t, s, "globex", "jsmith", domain.LockFailedLogins)
		if got := auditCount(t, s); got != before {
			t.Errorf("audit entries = %d, want %d", got, before)
		}
	})
}

// TestDecideRollsBackWhenInterrupted: a decision interrupted at any point
// leaves no trace, and the message is still decidable afterwards: with its
// context cancelled before it starts, with the renderer failing after every
// row of the batch (decision, items, unlocks, audit entries, signatures) is
// written, and with mail that cannot be queued (no recipient) at the very
// end.
func TestDecideRollsBackWhenInterrupted(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		withClock(s)
		mustOrg(t, s, "acme", nil)
		mustContact(t, s, "acme", contactAddr)
		mustFailedLock(t, s, "acme", "a", s.Now())
		mustFailedLock(t, s, "acme", "b", s.Now())
		before := auditCount(t, s)
		m := message("support", "<k1@acme.example>")
		m.SignatureKeys = []string{"sig-k1"}
		f := verified(contactAddr, "a", "b")
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		errRender := errors.New("renderer broke")
		for name, try := range map[string]func() error{
			"cancelled context": func() error { _, err := s.Decide(cancelled, m, f, nil); return err },
			"renderer fails after the writes": func() error {
				_, err := s.Decide(ctx, m, f, func(store.DecisionMail) ([]domain.Mail, error) { return nil, errRender })
				return err
			},
			"mail without a recipient": func() error {
				_, err := s.Decide(ctx, m, f, func(store.DecisionMail) ([]domain.Mail, error) {
					return []domain.Mail{{Kind: domain.MailReply, Subject: "x", MessageID: "x@y"}}, nil
				})
				return err
			},
		} {
			err := try()
			if err == nil || errors.Is(err, store.ErrDuplicate) {
				t.Fatalf("%s: Decide error = %v, want the failure", name, err)
			}
			wantLocked(t, s, "acme", "a", domain.LockFailedLogins)
			wantLocked(t, s, "acme", "b", domain.LockFailedLogins)
			if got := auditCount(t, s); got != before {
				t.Fatalf("%s: audit entries = %d, want %d", name, got, before)
			}
			if n, _ := s.CountDecisions(ctx, "support"); n != 0 {
				t.Fatalf("%s: %d decisions recorded", name, n)
			}
			if v, err := s.ReplayedVerdict(ctx, m.SignatureKeys); !errors.Is(err, domain.ErrNotFound) {
				t.Fatalf("%s: signature recorded (%q, %v)", name, v, err)
			}
		}
		d, err := s.Decide(ctx, m, f, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range d.Decision.Items {
			if it.State != domain.ItemApplied {
				t.Errorf("after the failures: item %+v, want applied", it)
			}
		}
		wantUnlocked(t, s, "acme", "a")
		wantUnlocked(t, s, "acme", "b")
		if got := auditCount(t, s); got != before+2 {
			t.Errorf("audit entries = %d, want %d", got, before+2)
		}
	})
}

// pairBarrier holds each caller until a second one arrives, so that two
// goroutines pass their clock reads in lockstep. A caller left alone for
// the timeout turns the barrier off and goes on: a store that serialises
// the two decisions is therefore only slowed down, never deadlocked.
type pairBarrier struct {
	mu      sync.Mutex
	waiting chan struct{}
	off     bool
}

func (b *pairBarrier) wait(timeout time.Duration) {
	b.mu.Lock()
	if b.off {
		b.mu.Unlock()
		return
	}
	if b.waiting != nil {
		close(b.waiting)
		b.waiting = nil
		b.mu.Unlock()
		return
	}
	ch := make(chan struct{})
	b.waiting = ch
	b.mu.Unlock()
	select {
	case <-ch:
	case <-time.After(timeout):
		b.mu.Lock()
		if b.waiting == ch {
			b.waiting, b.off = nil, true
		}
		b.mu.Unlock()
	}
}

// TestDecideHourlyLimitHoldsUnderConcurrency: two messages from one contact,
// decided at the same time, must not both be unlocked when the contact may
// have one unlock an hour. The store's clock makes the two decisions read
// the time in lockstep, so both have read the contact's recent unlocks
// before either writes, unless the store serialises them.
func TestDecideHourlyLimitHoldsUnderConcurrency(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		base := withClock(s).Now()
		p := domain.DefaultPolicy()
		p.MaxRequestsPerHour = 1
		mustOrg(t, s, "acme", &p)
		mustContact(t, s, "acme", contactAddr)
		mustFailedLock(t, s, "acme", "u1", base)
		mustFailedLock(t, s, "acme", "u2", base)

		var barrier pairBarrier
		s.Now = func() time.Time {
			barrier.wait(2 * time.Second)
			return base
		}
		var wg sync.WaitGroup
		states := make([]domain.ItemState, 2)
		for i, name := range []string{"u1", "u2"} {
			wg.Go(func() {
				d, err := s.Decide(ctx, message("support", "<"+name+"@acme.example>"), verified(contactAddr, name), nil)
				if err != nil || len(d.Decision.Items) != 1 {
					t.Errorf("Decide(%s) = %+v, %v", name, d, err)
					return
				}
				states[i] = d.Decision.Items[0].State
			})
		}
		wg.Wait()
		s.Now = func() time.Time { return base }

		applied := 0
		for _, st := range states {
			if st == domain.ItemApplied {
				applied++
			}
		}
		active, err := s.ListUsers(ctx, "acme", store.UserFilter{Status: domain.StatusActive})
		if err != nil {
			t.Fatal(err)
		}
		if applied != 1 || len(active) != 1 {
			t.Errorf("item states %v, %d users unlocked; want exactly one unlock (max_requests_per_hour 1)", states, len(active))
		}
	})
}

// TestDecideRecordsMessagesWithRawSubjects: a subject that is not valid
// UTF-8 (raw 8-bit header bytes, which mailparse passes through when RFC
// 2047 decoding does not apply) or that holds a NUL must not stop a
// message from being decided: SPEC §3 records exactly one decision for
// every message.
func TestDecideRecordsMessagesWithRawSubjects(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		withClock(s)
		mustOrg(t, s, "acme", nil)
		mustContact(t, s, "acme", contactAddr)
		for i, subject := range []string{"Entsperren f\xfcr jsmith", "Unlock\x00 jsmith"} {
			name := fmt.Sprintf("user%d", i)
			mustFailedLock(t, s, "acme", name, s.Now())
			m := message("support", fmt.Sprintf("<raw-%d@acme.example>", i))
			m.Subject = subject
			d, err := s.Decide(ctx, m, verified(contactAddr, name), nil)
			if err != nil {
				t.Errorf("Decide with subject %q: %v", subject, err)
				continue
			}
			if len(d.Decision.Items) != 1 || d.Decision.Items[0].State != domain.ItemApplied {
				t.Errorf("subject %q: items = %+v, want applied", subject, d.Decision.Items)
			}
			wantUnlocked(t, s, "acme", name)
		}
	})
}

// TestDecideLookalikeSenderIsNoContact: only ASCII letters fold, on both
// engines, whichever side holds the look-alike (U+212A KELVIN SIGN
// lower-cases to "k" under Unicode rules, and PostgreSQL's lower() follows
// the locale).
func TestDecideLookalikeSenderIsNoContact(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		withClock(s)
		mustOrg(t, s, "acme", nil)
		mustContact(t, s, "acme", "kim@acme.example")
		mustContact(t, s, "acme", "\u212aen@acme.example")
		mustFailedLock(t, s, "acme", "jsmith", s.Now())
		for i, sender := range []string{"\u212aim@acme.example", "ken@acme.example"} {
			d := mustDecide(t, s, message("support", fmt.Sprintf("<lookalike-%d@acme.example>", i)), verified(sender, "jsmith"))
			if d.Decision.Verdict != domain.VerdictRejected || len(d.Decision.Items) != 0 {
				t.Errorf("%q: decision %+v, want rejected as no contact", sender, d.Decision)
			}
		}
		wantLocked(t, s, "acme", "jsmith", domain.LockFailedLogins)
	})
}
