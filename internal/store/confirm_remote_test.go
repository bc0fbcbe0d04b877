package store_test

import (
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/storetest"
)

// decideRemoteWithLink decides one request of the contact with what org's
// directory answered, and returns the decision and the token of the link
// its reply carries ("" when none).
func decideRemoteWithLink(t *testing.T, s *store.Store, org domain.Org, key string, f domain.Facts, l store.Lookup) (store.Decided, string) {
	t.Helper()
	var token string
	out, err := s.DecideBatch(ctx, []store.Input{{Message: message("support", key), Facts: f,
		Remote: map[int64]store.Lookup{org.ID: l}}}, func(dm store.DecisionMail) ([]domain.Mail, error) {
		if dm.Confirm != nil {
			token = dm.Confirm.Token
		}
		if dm.Decision.ReplyTo == "" {
			return nil, nil
		}
		return []domain.Mail{{Kind: domain.MailReply, To: dm.Decision.ReplyTo, Subject: "Re: x", MessageID: key + ".reply@unlockd.test", Text: token}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out[0].Decided, token
}

// claimOne claims the only applying item.
func claimOne(t *testing.T, s *store.Store) store.Applying {
	t.Helper()
	claimed, err := s.ClaimApplying(ctx, "w1", 10, time.Minute)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claimed %+v, %v; want one applying item", claimed, err)
	}
	return claimed[0]
}

// TestConfirmLinkRemoteAppliesThroughTheDirectory: the link of an
// unverified request to an org on a remote directory makes its bound item
// applying with the lock the lookup found, as a staff approval does; the
// "confirmed" answer is written once, when the directory answers, and an
// admin lock stays queued.
func TestConfirmLinkRemoteAppliesThroughTheDirectory(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		now := withClock(s).Now().Truncate(time.Second)
		s.ConfirmTTL = linkTTL
		org := remoteOrg(t, s)
		l := store.Lookup{Users: map[string]domain.User{
			"jsmith": ldapUser("jsmith", domain.LockFailedLogins, "20261123110000Z", now.Add(-time.Hour)),
			"boss":   ldapUser("boss", domain.LockAdmin, "000001010000Z", now.Add(-time.Hour)),
		}}
		d, token := decideRemoteWithLink(t, s, org, "<cr1@acme.example>", unverified("jsmith", "boss"), l)
		if token == "" || len(d.Decision.Items) != 2 || !d.Decision.Items[0].Confirmable || d.Decision.Items[1].Confirmable {
			t.Fatalf("token %q, items %+v; want a link bound to jsmith only", token, d.Decision.Items)
		}
		p, err := s.PreviewConfirmation(ctx, token)
		if err != nil || len(p.Items) != 1 || p.Items[0].Item.State != domain.ItemApplying || p.Unlocked() != 0 || p.Applying() != 1 {
			t.Fatalf("preview = %+v, %v; want jsmith to be applied by the directory", p, err)
		}
		if claimed, err := s.ClaimApplying(ctx, "w1", 10, time.Minute); err != nil || len(claimed) != 0 {
			t.Fatalf("the preview made %+v applying (%v)", claimed, err)
		}

		var a answers
		c, err := s.Confirm(ctx, token, "http:abc from 192.0.2.7", a.render)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Items) != 1 || c.Items[0].Item.State != domain.ItemApplying || c.Unlocked() != 0 || c.Applying() != 1 {
			t.Fatalf("confirmation = %+v; want jsmith applying", c)
		}
		if len(a.got) != 0 {
			t.Fatalf("answered before the directory did: %+v", a.got)
		}
		wantCode(t, func() error { _, err := s.Confirm(ctx, token, "again", a.render); return err }(), domain.CodeGone)

		it := claimOne(t, s)
		if it.Username != "jsmith" || it.For != store.ApplyForConfirm || it.Directory != "corp" || it.Lock.Mark != "20261123110000Z" ||
			it.Lock.Reason != domain.LockFailedLogins || it.DecidedBy != "email:"+contactAddr || it.Note != domain.ConfirmNote {
			t.Fatalf("claimed %+v", it)
		}
		if err := s.RecordApply(ctx, "w1", it, store.Answer{State: domain.ItemApplied}, a.render); err != nil {
			t.Fatal(err)
		}
		if len(a.got) != 1 || a.got[0].Kind != store.FollowUpConfirmed || a.got[0].To != contactAddr ||
			a.got[0].MessageID != "<cr1@acme.example>" || len(a.got[0].Items) != 1 || a.got[0].Items[0].State != domain.ItemApplied {
			t.Fatalf("answers = %+v; want one confirmed answer with jsmith unlocked", a.got)
		}
		if n := len(mailTo(t, s, contactAddr)); n != 2 {
			t.Errorf("%d mails to the contact, want the reply with the link and the confirmed answer", n)
		}
		boss := pendingOf(t, s, d.ID)
		if len(boss) != 1 || boss[0].Username != "boss" || boss[0].Reason != domain.QueueAdminLock {
			t.Errorf("queue = %+v; want boss's admin lock still queued", boss)
		}
		entries, err := s.ListAudit(ctx, store.AuditFilter{OrgID: org.ID, Limit: 20})
		if err != nil {
			t.Fatal(err)
		}
		unlocks := 0
		for _, e := range entries {
			if e.Action == domain.ActionUnlock {
				unlocks++
				if e.Target != "jsmith" || e.Source != store.SourceConfirmLink || e.Actor != "email:"+contactAddr || !contains(e.Note, "directory corp") {
					t.Errorf("unlock audit entry = %+v", e)
				}
			}
		}
		if unlocks != 1 {
			t.Errorf("%d unlock audit entries in %+v, want 1", unlocks, entries)
		}
	})
}

// TestConfirmLinkRemoteLockChanged: when the directory finds another lock
// than the one looked up (an admin lock set in between), the link lifts
// nothing; the confirmed answer says the user waits for staff, who are
// told.
func TestConfirmLinkRemoteLockChanged(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		now := withClock(s).Now().Truncate(time.Second)
		s.ConfirmTTL = linkTTL
		org := remoteOrg(t, s)
		l := store.Lookup{Users: map[string]domain.User{"jsmith": ldapUser("jsmith", domain.LockFailedLogins, "m", now)}}
		_, token := decideRemoteWithLink(t, s, org, "<cr2@acme.example>", unverified("jsmith"), l)
		var a answers
		if _, err := s.Confirm(ctx, token, "http:abc", a.render); err != nil {
			t.Fatal(err)
		}
		it := claimOne(t, s)
		if err := s.RecordApply(ctx, "w1", it, store.Answer{State: domain.ItemPending, Reason: domain.QueueLockChanged,
			Note: domain.ErrLockChanged.Message}, a.render); err != nil {
			t.Fatal(err)
		}
		if len(a.got) != 1 || a.got[0].Kind != store.FollowUpConfirmed || len(a.got[0].Items) != 1 ||
			a.got[0].Items[0].State != domain.ItemPending || a.got[0].Items[0].Reason != domain.QueueLockChanged {
			t.Fatalf("answers = %+v; want one confirmed answer with jsmith queued", a.got)
		}
		if len(a.notices) != 1 {
			t.Errorf("staff notices = %+v, want 1", a.notices)
		}
	})
}

// TestConfirmLinkWithApplyingItemRepliesOnce: a contact of a builtin org
// that confirms every request and of an org on a remote directory sends a
// signed request for a user of each. The decision's reply waits for the
// directory's answer and carries the link, made in that transaction; the
// link then unlocks the builtin user, with its own threaded answer.
func TestConfirmLinkWithApplyingItemRepliesOnce(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		now := withClock(s).Now().Truncate(time.Second)
		s.ConfirmTTL = linkTTL
		org := remoteOrg(t, s)
		p := domain.DefaultPolicy()
		p.EmailConfirmation = domain.ConfirmAlways
		mustOrg(t, s, "beta", &p)
		mustContact(t, s, "beta", contactAddr)
		mustFailedLock(t, s, "beta", "jsmith", now)
		l := store.Lookup{Users: map[string]domain.User{"sam": ldapUser("sam", domain.LockFailedLogins, "m", now)}}
		d, token := decideRemoteWithLink(t, s, org, "<cr3@acme.example>", verified(contactAddr, "sam", "jsmith"), l)
		if token != "" || !d.Decision.Confirm || !d.Decision.Applying() {
			t.Fatalf("decision %+v made link %q at once; want it with the reply, after the directory's answer", d.Decision, token)
		}
		if n := len(mailTo(t, s, contactAddr)); n != 0 {
			t.Fatalf("%d replies before the directory answered", n)
		}
		var a answers
		it := claimOne(t, s)
		if err := s.RecordApply(ctx, "w1", it, store.Answer{State: domain.ItemApplied}, a.render); err != nil {
			t.Fatal(err)
		}
		if len(a.got) != 1 || a.got[0].Kind != store.FollowUpApplied || a.got[0].Confirm == nil || len(a.got[0].Confirm.Token) != 43 ||
			a.got[0].Confirm.TTL != linkTTL {
			t.Fatalf("answers = %+v; want the reply with a link", a.got)
		}
		states := map[string]domain.Item{}
		for _, it := range a.got[0].Items {
			states[it.Username] = it
		}
		if states["sam"].State != domain.ItemApplied || states["jsmith"].State != domain.ItemPending || !states["jsmith"].Confirmable {
			t.Fatalf("reply items = %+v", a.got[0].Items)
		}
		if n := len(mailTo(t, s, contactAddr)); n != 1 {
			t.Fatalf("%d replies, want 1", n)
		}
		c, err := s.Confirm(ctx, a.got[0].Confirm.Token, "http:abc", a.render)
		if err != nil {
			t.Fatal(err)
		}
		if c.Unlocked() != 1 || len(a.got) != 2 || a.got[1].Kind != store.FollowUpConfirmed {
			t.Fatalf("confirmation %+v, answers %+v", c, a.got)
		}
		wantUnlocked(t, s, "beta", "jsmith")
		if n := len(mailTo(t, s, contactAddr)); n != 2 {
			t.Errorf("%d mails to the contact, want the reply and the confirmed answer", n)
		}
	})
}
