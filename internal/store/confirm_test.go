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

// unverified is a contact's request whose sender was not authenticated.
func unverified(usernames ...string) domain.Facts {
	return domain.Facts{Sender: contactAddr, Proof: domain.Proof{Detail: "no DKIM signature"},
		Usernames: domain.NamesIn(domain.InSubject, usernames...)}
}

// linkTTL is how long the tests' links work unless a test says otherwise.
const linkTTL = 30 * time.Minute

// linkSetup makes links work for linkTTL on the test clock and sets up org
// acme (policy p, the default when nil) with its contact and jsmith locked
// for failed logins.
func linkSetup(t *testing.T, s *store.Store, p *domain.Policy) *clock {
	t.Helper()
	c := withClock(s)
	s.ConfirmTTL = linkTTL
	mustOrg(t, s, "acme", p)
	mustContact(t, s, "acme", contactAddr)
	mustFailedLock(t, s, "acme", "jsmith", s.Now())
	return c
}

// decideWithLink decides a message with a renderer that keeps the
// confirmation link its reply would carry, and returns the link's token
// ("" when the reply has none).
func decideWithLink(t *testing.T, s *store.Store, key string, f domain.Facts) (store.Decided, string) {
	t.Helper()
	var token string
	d, err := s.Decide(ctx, message("support", key), f, func(dm store.DecisionMail) ([]domain.Mail, error) {
		if dm.Confirm != nil {
			token = dm.Confirm.Token
		}
		return []domain.Mail{{Kind: domain.MailReply, To: dm.Decision.ReplyTo, Subject: "Re: x", MessageID: key + ".reply@unlockd.test", Text: token}}, nil
	})
	if err != nil {
		t.Fatalf("Decide(%s): %v", key, err)
	}
	return d, token
}

// pendingOf returns the decision's pending requests.
func pendingOf(t *testing.T, s *store.Store, decision int64) []store.Request {
	t.Helper()
	reqs, err := s.ListRequests(ctx, store.RequestFilter{State: domain.ItemPending, Limit: store.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	var out []store.Request
	for _, r := range reqs {
		if r.DecisionID == decision {
			out = append(out, r)
		}
	}
	return out
}

// TestConfirmLinkUnlocksOnce: an unverified request's reply carries a link
// bound to its item; previewing it changes nothing; using it unlocks the
// user as an authenticated request would, audited as confirm-link, with a
// threaded answer; afterwards the link is gone, and staff see when it was
// used.
func TestConfirmLinkUnlocksOnce(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		clk := linkSetup(t, s, nil)
		d, token := decideWithLink(t, s, "<c1@acme.example>", unverified("jsmith"))
		if token == "" || len(token) != 43 {
			t.Fatalf("token %q, want 43 characters of base64url", token)
		}
		reqs := pendingOf(t, s, d.ID)
		if len(reqs) != 1 || reqs[0].Link == nil || !reqs[0].Link.UsedAt.IsZero() ||
			!reqs[0].Link.ExpiresAt.Equal(s.Now().UTC().Truncate(time.Microsecond).Add(linkTTL)) {
			t.Fatalf("queue = %+v, want jsmith pending with an unused link for 30m", reqs)
		}

		clk.Add(time.Minute)
		p, err := s.PreviewConfirmation(ctx, token)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Items) != 1 || p.Items[0].Item.State != domain.ItemApplied || p.Items[0].Org.Slug != "acme" || p.Contact != contactAddr {
			t.Errorf("preview = %+v, want jsmith of acme to be unlocked", p)
		}
		wantLocked(t, s, "acme", "jsmith", domain.LockFailedLogins)
		if r := pendingOf(t, s, d.ID); len(r) != 1 || !r[0].Link.UsedAt.IsZero() {
			t.Fatalf("after the preview the queue holds %+v", r)
		}

		var a answers
		before := auditCount(t, s)
		c, err := s.Confirm(ctx, token, "http:abc from 192.0.2.7", a.render)
		if err != nil {
			t.Fatal(err)
		}
		if c.Unlocked() != 1 {
			t.Errorf("confirmation %+v unlocked %d", c, c.Unlocked())
		}
		wantUnlocked(t, s, "acme", "jsmith")
		r, err := s.Request(ctx, reqs[0].ID, "")
		if err != nil || r.State != domain.ItemApplied || r.DecidedBy != "email:"+contactAddr || r.Note != domain.ConfirmNote ||
			r.Link == nil || !r.Link.UsedAt.Equal(s.Now().UTC().Truncate(time.Microsecond)) {
			t.Errorf("request after the click = %+v, %v", r, err)
		}
		if got := auditCount(t, s); got != before+1 {
			t.Errorf("audit entries %d, want %d", got, before+1)
		}
		entries, err := s.ListAudit(ctx, store.AuditFilter{OrgSlug: "acme", Limit: 1})
		if err != nil || len(entries) != 1 || entries[0].Source != store.SourceConfirmLink || entries[0].Action != domain.ActionUnlock ||
			entries[0].Actor != "email:"+contactAddr {
			t.Errorf("audit = %+v, %v; want an unlock by the contact from confirm-link", entries, err)
		}
		if len(a.got) != 1 || a.got[0].Kind != store.FollowUpConfirmed || a.got[0].To != contactAddr ||
			a.got[0].MessageID != "<c1@acme.example>" || len(a.got[0].Items) != 1 || a.got[0].Items[0].State != domain.ItemApplied {
			t.Errorf("answers = %+v, want one threaded confirmed answer", a.got)
		}

		for _, use := range []func() error{
			func() error { _, err := s.PreviewConfirmation(ctx, token); return err },
			func() error { _, err := s.Confirm(ctx, token, "again", a.render); return err },
		} {
			wantCode(t, use(), domain.CodeGone)
		}
		if len(a.got) != 1 {
			t.Errorf("a used link answered again: %+v", a.got)
		}
	})
}

// TestConfirmLinkUnknown: tokens no link has are not found, malformed or
// not, and a decision without a renderer gets no link.
func TestConfirmLinkUnknown(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		linkSetup(t, s, nil)
		d := mustDecide(t, s, message("support", "<n1@acme.example>"), unverified("jsmith"))
		if r := pendingOf(t, s, d.ID); len(r) != 1 || r[0].Link != nil {
			t.Errorf("without a renderer, queue = %+v; want no link", r)
		}
		s.ConfirmTTL = 0
		if d, token := decideWithLink(t, s, "<n0@acme.example>", unverified("jsmith")); token != "" || pendingOf(t, s, d.ID)[0].Link != nil {
			t.Errorf("with ConfirmTTL 0 a link was made")
		}
		s.ConfirmTTL = linkTTL
		_, token := decideWithLink(t, s, "<n2@acme.example>", unverified("jsmith"))
		for _, bad := range []string{"", "x", token[:42], token + "A", token[:42] + "!", "../../etc/passwd",
			"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"} {
			_, err := s.PreviewConfirmation(ctx, bad)
			wantCode(t, err, domain.CodeNotFound)
			_, err = s.Confirm(ctx, bad, "test", nil)
			wantCode(t, err, domain.CodeNotFound)
		}
		wantLocked(t, s, "acme", "jsmith", domain.LockFailedLogins)
	})
}

// TestConfirmLinkOfAnotherRequest: a link confirms only its own request's
// items; the other request's link still works for its own.
func TestConfirmLinkOfAnotherRequest(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		linkSetup(t, s, nil)
		mustFailedLock(t, s, "acme", "second", s.Now())
		a, tokenA := decideWithLink(t, s, "<a@acme.example>", unverified("jsmith"))
		b, tokenB := decideWithLink(t, s, "<b@acme.example>", unverified("second"))
		if tokenA == tokenB || tokenA == "" {
			t.Fatalf("tokens %q and %q", tokenA, tokenB)
		}
		c, err := s.Confirm(ctx, tokenA, "test", nil)
		if err != nil || len(c.Items) != 1 || c.Items[0].Item.Username != "jsmith" {
			t.Fatalf("A's link confirmed %+v, %v", c, err)
		}
		wantUnlocked(t, s, "acme", "jsmith")
		wantLocked(t, s, "acme", "second", domain.LockFailedLogins)
		if len(pendingOf(t, s, a.ID)) != 0 || len(pendingOf(t, s, b.ID)) != 1 {
			t.Errorf("A's link decided B's request")
		}
		if _, err := s.Confirm(ctx, tokenB, "test", nil); err != nil {
			t.Fatal(err)
		}
		wantUnlocked(t, s, "acme", "second")
	})
}

// TestConfirmLinkAdminLock: a deliberate lock is never lifted by a link:
// a request's admin-locked user is not bound to it, and a user an admin
// locked after the link was sent stays queued, now for that reason.
func TestConfirmLinkAdminLock(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		linkSetup(t, s, nil)
		mustFailedLock(t, s, "acme", "second", s.Now())
		mustUser(t, s, "acme", domain.User{Username: "boss"})
		if _, err := s.LockUser(ctx, "acme", "boss", "left the company", "operator:ann", "cli"); err != nil {
			t.Fatal(err)
		}
		d, token := decideWithLink(t, s, "<adm@acme.example>", unverified("boss", "jsmith", "second"))
		for _, it := range d.Decision.Items {
			if it.Confirmable != (it.Username != "boss") {
				t.Errorf("item %+v: the link is bound to an admin lock, or not to a failed-login lock", it)
			}
		}
		// An admin locks second deliberately after the link went out.
		if _, err := s.LockUser(ctx, "acme", "second", "under investigation", "operator:ann", "cli"); err != nil {
			t.Fatal(err)
		}
		c, err := s.Confirm(ctx, token, "test", nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Items) != 2 || c.Items[0].Item.State != domain.ItemApplied ||
			c.Items[1].Item.State != domain.ItemPending || c.Items[1].Item.Reason != domain.QueueAdminLock {
			t.Errorf("confirmed %+v, want jsmith applied and second queued as admin_lock", c.Items)
		}
		wantUnlocked(t, s, "acme", "jsmith")
		wantLocked(t, s, "acme", "second", domain.LockAdmin)
		wantLocked(t, s, "acme", "boss", domain.LockAdmin)
		pending := pendingOf(t, s, d.ID)
		if len(pending) != 2 || pending[0].Username != "boss" || pending[1].Username != "second" || pending[1].Reason != domain.QueueAdminLock {
			t.Errorf("queue after the click = %+v, want boss and second waiting for staff", pending)
		}
	})
}

// TestConfirmLinkExpired: on the injected clock, a link past
// confirmation_ttl changes nothing, and the item stays for staff.
func TestConfirmLinkExpired(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		clk := linkSetup(t, s, nil)
		s.ConfirmTTL = 10 * time.Minute
		d, token := decideWithLink(t, s, "<exp@acme.example>", unverified("jsmith"))
		clk.Add(10*time.Minute - time.Microsecond)
		if _, err := s.PreviewConfirmation(ctx, token); err != nil {
			t.Fatalf("just before expiry: %v", err)
		}
		clk.Add(time.Microsecond)
		before := auditCount(t, s)
		var a answers
		_, err := s.Confirm(ctx, token, "test", a.render)
		wantCode(t, err, domain.CodeGone)
		wantLocked(t, s, "acme", "jsmith", domain.LockFailedLogins)
		if r := pendingOf(t, s, d.ID); len(r) != 1 || r[0].Link == nil || !r[0].Link.UsedAt.IsZero() {
			t.Errorf("after an expired click the queue holds %+v", r)
		}
		if auditCount(t, s) != before || len(a.got) != 0 {
			t.Errorf("an expired link wrote audit entries or answers")
		}
	})
}

// TestConfirmLinkAlreadyDecided: a request approved by staff, or whose
// user was unlocked meanwhile, makes its link gone and changes nothing.
func TestConfirmLinkAlreadyDecided(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		linkSetup(t, s, nil)
		mustFailedLock(t, s, "acme", "second", s.Now())
		d, token := decideWithLink(t, s, "<dec@acme.example>", unverified("jsmith"))
		if _, err := s.RejectRequest(ctx, pendingOf(t, s, d.ID)[0].ID, "", "not them", "operator:ann", "cli", nil); err != nil {
			t.Fatal(err)
		}
		_, err := s.Confirm(ctx, token, "test", nil)
		wantCode(t, err, domain.CodeGone)
		wantLocked(t, s, "acme", "jsmith", domain.LockFailedLogins)

		d2, token2 := decideWithLink(t, s, "<dec2@acme.example>", unverified("second"))
		if _, err := s.UnlockUser(ctx, "acme", "second", "operator:ann", "cli"); err != nil {
			t.Fatal(err)
		}
		_, err = s.Confirm(ctx, token2, "test", nil)
		wantCode(t, err, domain.CodeGone)
		if r := pendingOf(t, s, d2.ID); len(r) != 1 || !r[0].Link.UsedAt.IsZero() {
			t.Errorf("the item should wait for the sweeper, link unused: %+v", r)
		}
	})
}

// TestConfirmLinkConcurrent: many uses of one link at once unlock once,
// audit once and answer once; the rest find it gone. Several rounds, so
// that the uses overlap inside their transactions.
func TestConfirmLinkConcurrent(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		linkSetup(t, s, nil)
		var a answers // one renderer: its Message-IDs must not repeat
		for round := range 4 {
			name := fmt.Sprintf("user%d", round)
			mustFailedLock(t, s, "acme", name, s.Now())
			_, token := decideWithLink(t, s, fmt.Sprintf("<cc%d@acme.example>", round), unverified(name))
			before, answered := auditCount(t, s), len(a.got)
			const n = 16
			errs := make(chan error, n)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for range n {
				wg.Go(func() {
					<-start
					_, err := s.Confirm(ctx, token, "test", a.render)
					errs <- err
				})
			}
			close(start)
			wg.Wait()
			close(errs)
			ok := 0
			for err := range errs {
				switch {
				case err == nil:
					ok++
				case domain.ErrorCode(err) != domain.CodeGone:
					t.Errorf("concurrent use: %v", err)
				}
			}
			if ok != 1 {
				t.Errorf("round %d: %d uses succeeded, want 1", round, ok)
			}
			if got := auditCount(t, s); got != before+1 {
				t.Errorf("round %d: audit entries %d, want %d", round, got, before+1)
			}
			if got := len(a.got) - answered; got != 1 {
				t.Errorf("round %d: %d answers, want 1", round, got)
			}
			wantUnlocked(t, s, "acme", name)
		}
	})
}

// TestConfirmAlways: under email_confirmation always, a signed request
// unlocks nobody until its link is used, without calling staff; the
// unlock then counts towards max_requests_per_hour like any
// authenticated one.
func TestConfirmAlways(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		p := domain.DefaultPolicy()
		p.EmailConfirmation, p.MaxRequestsPerHour = domain.ConfirmAlways, 1
		linkSetup(t, s, &p)
		mustFailedLock(t, s, "acme", "second", s.Now())
		d, token := decideWithLink(t, s, "<al@acme.example>", verified(contactAddr, "jsmith"))
		if !d.Decision.Authenticated || d.Decision.NotifyStaff || token == "" {
			t.Errorf("decision %+v with token %q: want authenticated, a link, staff not called", d.Decision, token)
		}
		wantItems(t, d.Decision.Items, []domain.Item{{OrgID: d.Decision.Items[0].OrgID, UserID: d.Decision.Items[0].UserID, Username: "jsmith",
			State: domain.ItemPending, Reason: domain.QueueAwaitingConfirmation, Confirmable: true}})
		wantLocked(t, s, "acme", "jsmith", domain.LockFailedLogins)
		if _, err := s.Confirm(ctx, token, "test", nil); err != nil {
			t.Fatal(err)
		}
		wantUnlocked(t, s, "acme", "jsmith")
		// The click used the contact's one unlock of the hour.
		d2, token2 := decideWithLink(t, s, "<al2@acme.example>", verified(contactAddr, "second"))
		if it := d2.Decision.Items[0]; it.State != domain.ItemPending || it.Reason != domain.QueueRateLimited || token2 != "" {
			t.Errorf("the next request: %+v, token %q; want rate limited, no link", it, token2)
		}
	})
}
