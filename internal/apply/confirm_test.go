package apply_test

import (
	"strings"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/apply"
	"github.com/unlockd/unlockd/internal/directory/ldap"
	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/ldaptest"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/storetest"
)

// TestConfirmLinkUnlocksInSlapd: an unverified request for a user locked
// by three real failed binds and for one under an admin lock gets a link;
// using it has the worker lift the failed-login lock in slapd (a fresh
// bind succeeds) and write the confirmed answer once, saying unlocked; the
// admin lock stays.
func TestConfirmLinkUnlocksInSlapd(t *testing.T) {
	slapd := ldaptest.Start(t)
	orgDN := slapd.AddOrg(t, "acme")
	dn := slapd.AddUser(t, orgDN, ldaptest.User{Username: "jsmith", Password: "pw"})
	boss := slapd.AddUser(t, orgDN, ldaptest.User{Username: "boss", Password: "pw"})
	slapd.FailBinds(t, dn, 3)
	slapd.Set(t, boss, "pwdAccountLockedTime", "000001010000Z")
	dir, err := ldap.Open("corp", ldap.Config{URL: slapd.URL(), BindDN: ldaptest.ServiceDN, BindPassword: ldaptest.ServicePassword,
		BaseDN: "ou={org}," + ldaptest.Suffix, Timeout: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()
	mark := slapd.Attr(t, dn, "pwdAccountLockedTime")
	if len(mark) != 1 {
		t.Fatalf("jsmith is not locked after three failed binds: %v", mark)
	}
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		slapd.Set(t, dn, "pwdAccountLockedTime", mark[0]) // locked again, for each engine
		s.ConfirmTTL = time.Hour
		o, err := s.CreateOrg(ctx, domain.Org{Slug: "acme", Name: "Acme", Policy: domain.DefaultPolicy(), Directory: "corp"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.AddContact(ctx, "acme", domain.Contact{Email: "it@acme.example"}, "test", "cli"); err != nil {
			t.Fatal(err)
		}
		users, err := dir.Lookup(ctx, o, []string{"jsmith", "boss"})
		if err != nil || users["jsmith"].Lock == nil || users["boss"].Lock == nil || users["boss"].Lock.Reason != domain.LockAdmin {
			t.Fatalf("lookup = %+v, %v", users, err)
		}
		var token string
		f := domain.Facts{Sender: "it@acme.example", Proof: domain.Proof{Detail: "no DKIM signature"},
			Usernames: domain.NamesIn(domain.InSubject, "jsmith", "boss")}
		if _, err := s.DecideBatch(ctx, []store.Input{{Message: store.Message{Mailbox: "support", Key: "<l1@acme.example>",
			MessageID: "<l1@acme.example>", Subject: "Unlock: jsmith boss"}, Facts: f,
			Remote: map[int64]store.Lookup{o.ID: {Users: users}}}}, func(dm store.DecisionMail) ([]domain.Mail, error) {
			if dm.Confirm != nil {
				token = dm.Confirm.Token
			}
			return nil, nil
		}); err != nil || token == "" {
			t.Fatalf("decide: %v; token %q", err, token)
		}
		ans := newAnswers(t)
		c, err := s.Confirm(ctx, token, "http:test", ans.render)
		if err != nil || c.Applying() != 1 || len(ans.got) != 0 {
			t.Fatalf("confirm = %+v, %v; answers %+v", c, err, ans.got)
		}
		if v := slapd.Attr(t, dn, "pwdAccountLockedTime"); len(v) != 1 {
			t.Fatalf("unlocked before the worker ran: %v", v)
		}
		w := apply.New(apply.Config{Directories: map[string]domain.Directory{"corp": dir}, Render: ans.render}, s, nil)
		if _, err := w.ApplyOnce(ctx); err != nil {
			t.Fatal(err)
		}
		if v := slapd.Attr(t, dn, "pwdAccountLockedTime"); len(v) != 0 {
			t.Errorf("jsmith still locked: %v", v)
		}
		if err := slapd.Bind(t, dn, "pw"); err != nil {
			t.Errorf("jsmith cannot bind after the unlock: %v", err)
		}
		if v := slapd.Attr(t, boss, "pwdAccountLockedTime"); len(v) != 1 || v[0] != "000001010000Z" {
			t.Errorf("boss's admin lock = %v", v)
		}
		if _, err := w.ApplyOnce(ctx); err != nil {
			t.Fatal(err)
		}
		if len(ans.got) != 1 || ans.got[0].Kind != store.FollowUpConfirmed {
			t.Fatalf("answers = %+v, want one confirmed answer", ans.got)
		}
		mails, err := s.Outbox(ctx, "")
		if err != nil || len(mails) != 1 || !strings.Contains(mails[0].Text, "jsmith: unlocked") || strings.Contains(mails[0].Text, "boss") {
			t.Errorf("outbox = %+v, %v", mails, err)
		}
	})
}
