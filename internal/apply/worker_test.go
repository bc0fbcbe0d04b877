package apply_test

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/apply"
	"github.com/unlockd/unlockd/internal/directory/ldap"
	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/ldaptest"
	"github.com/unlockd/unlockd/internal/outbox"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/storetest"
)

var ctx = context.Background()

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// answers records the replies the worker's store calls render, and
// renders them, and the notices to staff, with the real templates.
type answers struct {
	mu      sync.Mutex
	got     []store.FollowUp
	notices []store.FollowUp
	r       *outbox.Renderer
}

func newAnswers(t *testing.T) *answers {
	t.Helper()
	r, err := outbox.NewRenderer("", "support@unlockd.example", "unlockd")
	if err != nil {
		t.Fatal(err)
	}
	return &answers{r: r}
}

func (a *answers) render(f store.FollowUp) (domain.Mail, error) {
	a.mu.Lock()
	if f.Kind == store.FollowUpRequeued {
		a.notices = append(a.notices, f)
	} else {
		a.got = append(a.got, f)
	}
	a.mu.Unlock()
	return a.r.Answer(f)
}

// deadPort is a loopback port nothing listens on.
func deadPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// applying decides a verified request of acme's contact for jsmith, whose
// lookup (done by intake) found the lock was: one applying item.
func applying(t *testing.T, s *store.Store, was domain.Lock) {
	t.Helper()
	o, err := s.CreateOrg(ctx, domain.Org{Slug: "acme", Name: "Acme", Policy: domain.DefaultPolicy(), Directory: "corp"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddContact(ctx, "acme", domain.Contact{Email: "it@acme.example"}, "test", "cli"); err != nil {
		t.Fatal(err)
	}
	f := domain.Facts{Sender: "it@acme.example", Proof: domain.Proof{Passed: true, Covered: domain.InSubject | domain.InBody},
		Usernames: domain.NamesIn(domain.InSubject, "jsmith")}
	out, err := s.DecideBatch(ctx, []store.Input{{Message: store.Message{Mailbox: "support", Key: "<a1@acme.example>",
		MessageID: "<a1@acme.example>", Subject: "Unlock: jsmith"}, Facts: f,
		Remote: map[int64]store.Lookup{o.ID: {Users: map[string]domain.User{"jsmith": {Username: "jsmith", Lock: &was}}}}}}, nil)
	if err != nil || out[0].Decision.Items[0].State != domain.ItemApplying {
		t.Fatalf("decision = %+v, %v", out, err)
	}
}

// TestUnreachableDirectoryIsRetriedThenGoesToStaff: while the directory
// refuses connections the item stays applying, retried with growing
// pauses and no attempt limit; once limits.directory_apply_max_age has
// passed since the decision it goes to staff with the reason, and the
// contact's reply says it is queued.
func TestUnreachableDirectoryIsRetriedThenGoesToStaff(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		clk := &clock{t: time.Now().UTC().Truncate(time.Second)}
		s.Now = clk.Now
		applying(t, s, domain.Lock{Reason: domain.LockFailedLogins, At: clk.Now(), Mark: "20261123110000Z"})
		dir, err := ldap.Open("corp", ldap.Config{URL: "ldap://" + deadPort(t), BindDN: "cn=x", BindPassword: "x",
			BaseDN: "ou={org},dc=x", Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		ans := newAnswers(t)
		var downs int
		w := apply.New(apply.Config{Directories: map[string]domain.Directory{"corp": dir}, MaxAge: time.Hour,
			Render: ans.render, Now: clk.Now, MinBackoff: time.Second, MaxBackoff: time.Minute,
			OnAnswer: func(_ string, err error) {
				if err != nil {
					downs++
				}
			}}, s, nil)
		for range 12 { // twelve tries over some 6 minutes: more than any attempt cap would allow
			if _, err := w.ApplyOnce(ctx); err != nil {
				t.Fatal(err)
			}
			clk.Add(time.Minute)
		}
		reqs, err := s.ListRequests(ctx, store.RequestFilter{Limit: 10})
		if err != nil || len(reqs) != 1 || reqs[0].State != domain.ItemApplying || len(ans.got) != 0 {
			t.Fatalf("after 12 minutes down: %+v, %v; answers %+v", reqs, err, ans.got)
		}
		if downs < 6 {
			t.Errorf("only %d tries in 12 minutes with a 1m cap", downs)
		}
		clk.Add(time.Hour)
		if _, err := w.ApplyOnce(ctx); err != nil {
			t.Fatal(err)
		}
		reqs, err = s.ListRequests(ctx, store.RequestFilter{Limit: 10})
		if err != nil || len(reqs) != 1 || reqs[0].State != domain.ItemPending || reqs[0].Reason != domain.QueueDirectoryError ||
			!strings.Contains(reqs[0].Note, "directory_apply_max_age") {
			t.Fatalf("past the max age: %+v, %v", reqs, err)
		}
		if len(ans.got) != 1 || ans.got[0].Kind != store.FollowUpApplied || ans.got[0].Items[0].State != domain.ItemPending {
			t.Fatalf("answers = %+v", ans.got)
		}
		if len(ans.notices) != 1 {
			t.Errorf("staff notices = %+v", ans.notices)
		}
		mails, err := s.Outbox(ctx, "")
		if err != nil || len(mails) != 1 || !strings.Contains(mails[0].Text, "jsmith: queued for review: your organisation's user directory") {
			t.Errorf("outbox = %+v, %v", mails, err) // no staff operator: the notice has nobody to go to
		}
	})
}

// TestAdminLockSetBetweenLookupAndUnlockSurvives: the lookup found a
// failed-login lock; an admin locks the account before the worker's call;
// the conditional unlock lifts nothing and the item goes to staff.
func TestAdminLockSetBetweenLookupAndUnlockSurvives(t *testing.T) {
	slapd := ldaptest.Start(t)
	orgDN := slapd.AddOrg(t, "acme")
	dn := slapd.AddUser(t, orgDN, ldaptest.User{Username: "jsmith", Password: "pw"})
	slapd.FailBinds(t, dn, 3)
	dir, err := ldap.Open("corp", ldap.Config{URL: slapd.URL(), BindDN: ldaptest.ServiceDN, BindPassword: ldaptest.ServicePassword,
		BaseDN: "ou={org}," + ldaptest.Suffix, Timeout: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()
	org := domain.Org{Slug: "acme", Directory: "corp"}
	users, err := dir.Lookup(ctx, org, []string{"jsmith"})
	if err != nil || users["jsmith"].Lock == nil {
		t.Fatalf("lookup = %+v, %v", users, err)
	}
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		slapd.Set(t, dn, "pwdAccountLockedTime", users["jsmith"].Lock.Mark) // as looked up, for each engine
		applying(t, s, *users["jsmith"].Lock)
		slapd.Set(t, dn, "pwdAccountLockedTime", "000001010000Z") // an admin locks meanwhile
		ans := newAnswers(t)
		w := apply.New(apply.Config{Directories: map[string]domain.Directory{"corp": dir}, Render: ans.render}, s, nil)
		if _, err := w.ApplyOnce(ctx); err != nil {
			t.Fatal(err)
		}
		if v := slapd.Attr(t, dn, "pwdAccountLockedTime"); len(v) != 1 || v[0] != "000001010000Z" {
			t.Errorf("the admin lock = %v", v)
		}
		reqs, err := s.ListRequests(ctx, store.RequestFilter{Limit: 10})
		if err != nil || len(reqs) != 1 || reqs[0].State != domain.ItemPending || reqs[0].Reason != domain.QueueLockChanged {
			t.Fatalf("requests = %+v, %v", reqs, err)
		}
		if len(ans.got) != 1 || ans.got[0].Items[0].Reason != domain.QueueLockChanged {
			t.Errorf("answers = %+v", ans.got)
		}
	})
}
