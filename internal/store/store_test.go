package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/storetest"
)

var ctx = context.Background()

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func withClock(s *store.Store) *clock {
	c := &clock{t: time.Date(2026, 11, 23, 9, 30, 0, 123456000, time.UTC)}
	s.Now = c.Now
	return c
}

// mustOrg creates org slug with policy p (the default when nil).
func mustOrg(t *testing.T, s *store.Store, slug string, p *domain.Policy) domain.Org {
	t.Helper()
	o := domain.Org{Slug: slug, Name: "Org " + slug, Policy: domain.DefaultPolicy()}
	if p != nil {
		o.Policy = *p
	}
	o, err := s.CreateOrg(ctx, o)
	if err != nil {
		t.Fatalf("CreateOrg(%s): %v", slug, err)
	}
	return o
}

func mustUser(t *testing.T, s *store.Store, slug string, u domain.User) domain.User {
	t.Helper()
	u, err := s.CreateUser(ctx, slug, u, "test", "cli")
	if err != nil {
		t.Fatalf("CreateUser(%s, %s): %v", slug, u.Username, err)
	}
	return u
}

func wantCode(t *testing.T, err error, code domain.Code) {
	t.Helper()
	if got := domain.ErrorCode(err); err == nil || got != code {
		t.Fatalf("error = %v (code %s), want code %s", err, got, code)
	}
}

func TestOrgs(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		p := domain.Policy{MaxFailedLogins: 3, LockoutDuration: 15 * time.Minute, FailureWindow: time.Hour, MaxRequestsPerHour: 2}
		created := mustOrg(t, s, "acme", &p)
		got, err := s.Org(ctx, "acme")
		if err != nil || got != created {
			t.Fatalf("Org = %+v, %v; want %+v", got, err, created)
		}
		_, err = s.CreateOrg(ctx, domain.Org{Slug: "acme", Name: "again", Policy: p})
		wantCode(t, err, domain.CodeConflict)
		_, err = s.CreateOrg(ctx, domain.Org{Slug: "Bad Slug", Name: "x"})
		wantCode(t, err, domain.CodeInvalid)
		_, err = s.Org(ctx, "nope")
		wantCode(t, err, domain.CodeNotFound)

		got.Policy.AutoUnlock = true
		got.Name = "Acme Ltd"
		if err := s.UpdateOrg(ctx, got, "staff", "cli"); err != nil {
			t.Fatal(err)
		}
		orgs, err := s.Orgs(ctx)
		if err != nil || len(orgs) != 1 || orgs[0] != got {
			t.Fatalf("Orgs = %+v, %v", orgs, err)
		}
		audit, _ := s.ListAudit(ctx, store.AuditFilter{OrgID: got.ID})
		if len(audit) != 1 || audit[0].Action != domain.ActionPolicyChange {
			t.Errorf("audit = %+v", audit)
		}
	})
}

func TestContactsAreUniquePerOrgCaseInsensitively(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		mustOrg(t, s, "acme", nil)
		mustOrg(t, s, "globex", nil)
		c, err := s.AddContact(ctx, "acme", domain.Contact{Email: "IT@Acme.Example", Name: "IT desk"}, "staff", "cli")
		if err != nil || c.Email != "it@acme.example" {
			t.Fatalf("AddContact = %+v, %v", c, err)
		}
		_, err = s.AddContact(ctx, "acme", domain.Contact{Email: "it@ACME.example"}, "staff", "cli")
		wantCode(t, err, domain.CodeConflict)
		if _, err := s.AddContact(ctx, "globex", domain.Contact{Email: "it@acme.example"}, "staff", "cli"); err != nil {
			t.Errorf("same contact in another org: %v", err)
		}
		_, err = s.AddContact(ctx, "acme", domain.Contact{Email: "not an address"}, "staff", "cli")
		wantCode(t, err, domain.CodeInvalid)
		if err := s.RemoveContact(ctx, "acme", "It@Acme.example", "staff", "cli"); err != nil {
			t.Fatal(err)
		}
		wantCode(t, s.RemoveContact(ctx, "acme", "it@acme.example", "staff", "cli"), domain.CodeNotFound)
		left, _ := s.Contacts(ctx, "globex")
		if len(left) != 1 {
			t.Errorf("globex contacts = %+v", left)
		}
	})
}

// TestContactShares: an address that is a contact of several orgs is
// reported, when added and when listed, with the other orgs' slugs; one of
// a single org is not.
func TestContactShares(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		for _, org := range []string{"acme", "globex", "initech"} {
			mustOrg(t, s, org, nil)
		}
		add := func(org, email string) []string {
			t.Helper()
			c, err := s.AddContact(ctx, org, domain.Contact{Email: email}, "staff", "cli")
			if err != nil {
				t.Fatal(err)
			}
			return c.SharedWith
		}
		if got := add("acme", "boss@other.example"); got != nil {
			t.Errorf("first boss@ shared with %v", got)
		}
		add("acme", "it@acme.example")
		if got := fmt.Sprint(add("globex", "Boss@Other.example")); got != "[acme]" {
			t.Errorf("second boss@ shared with %s, want [acme]", got)
		}
		if got := fmt.Sprint(add("initech", "boss@other.example")); got != "[acme globex]" {
			t.Errorf("third boss@ shared with %s, want [acme globex]", got)
		}
		if got := add("globex", "it@globex.example"); got != nil {
			t.Errorf("it@globex shared with %v", got)
		}
		list, err := s.ListContacts(ctx, "acme", store.ContactFilter{})
		var got []string
		for _, c := range list {
			got = append(got, fmt.Sprint(c.Email, c.SharedWith))
		}
		if err != nil || fmt.Sprint(got) != "[boss@other.example[globex initech] it@acme.example[]]" {
			t.Errorf("acme's contacts = %v, %v", got, err)
		}
	})
}

func TestUsernamesAreUniquePerOrgAndCaseSensitive(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		mustOrg(t, s, "acme", nil)
		mustOrg(t, s, "globex", nil)
		mustUser(t, s, "acme", domain.User{Username: "jsmith"})
		mustUser(t, s, "acme", domain.User{Username: "JSmith"})
		mustUser(t, s, "globex", domain.User{Username: "jsmith"})
		_, err := s.CreateUser(ctx, "acme", domain.User{Username: "jsmith"}, "t", "cli")
		wantCode(t, err, domain.CodeConflict)
		_, err = s.CreateUser(ctx, "acme", domain.User{Username: "../x"}, "t", "cli")
		wantCode(t, err, domain.CodeInvalid)
		_, err = s.CreateUser(ctx, "nope", domain.User{Username: "x"}, "t", "cli")
		wantCode(t, err, domain.CodeNotFound)
		u, err := s.User(ctx, "acme", "JSmith")
		if err != nil || u.Username != "JSmith" {
			t.Fatalf("User(JSmith) = %+v, %v", u, err)
		}
		_, err = s.User(ctx, "acme", "JSMITH")
		wantCode(t, err, domain.CodeNotFound)
	})
}

func TestLockUnlockAndAudit(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		clk := withClock(s)
		mustOrg(t, s, "acme", nil)
		mustUser(t, s, "acme", domain.User{Username: "jsmith"})
		u, err := s.LockUser(ctx, "acme", "jsmith", "left the company", "operator:ann@acme.example", "http:req-1")
		if err != nil {
			t.Fatal(err)
		}
		got, _ := s.User(ctx, "acme", "jsmith")
		if got.Lock == nil || *got.Lock != *u.Lock || got.Lock.Reason != domain.LockAdmin || !got.Lock.At.Equal(clk.Now().Truncate(time.Microsecond)) {
			t.Fatalf("stored lock %+v, want %+v", got.Lock, u.Lock)
		}
		_, err = s.LockUser(ctx, "acme", "jsmith", "again", "x", "cli")
		wantCode(t, err, domain.CodeConflict)
		locked, _ := s.ListUsers(ctx, "acme", store.UserFilter{Status: domain.StatusLocked, Reason: domain.LockAdmin})
		if len(locked) != 1 {
			t.Fatalf("locked admin users = %d", len(locked))
		}
		if _, err := s.UnlockUser(ctx, "acme", "jsmith", "operator:ann@acme.example", "http:req-2"); err != nil {
			t.Fatal(err)
		}
		_, err = s.UnlockUser(ctx, "acme", "jsmith", "x", "cli")
		wantCode(t, err, domain.CodeConflict)
		entries, _ := s.ListAudit(ctx, store.AuditFilter{Target: "jsmith"})
		var actions []domain.Action
		for _, e := range entries {
			actions = append(actions, e.Action)
		}
		want := []domain.Action{domain.ActionUnlock, domain.ActionLock, domain.ActionUserCreate}
		if fmt.Sprint(actions) != fmt.Sprint(want) {
			t.Errorf("audit actions = %v, want %v", actions, want)
		}
		if entries[0].Source != "http:req-2" || entries[0].Actor != "operator:ann@acme.example" {
			t.Errorf("unlock audit = %+v", entries[0])
		}
	})
}

func TestFailedLoginsLockAndTemporaryLockLifts(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		clk := withClock(s)
		mustOrg(t, s, "acme", &domain.Policy{MaxFailedLogins: 3, LockoutDuration: 10 * time.Minute, FailureWindow: time.Hour})
		mustUser(t, s, "acme", domain.User{Username: "jsmith"})
		for i, want := range []domain.LoginResult{domain.LoginInvalid, domain.LoginInvalid, domain.LoginInvalid, domain.LoginLocked} {
			got, err := s.RecordLogin(ctx, "acme", "jsmith", false, "http:r")
			if err != nil || got != want {
				t.Fatalf("attempt %d: %s, %v; want %s", i+1, got, err, want)
			}
		}
		failed, _ := s.ListUsers(ctx, "acme", store.UserFilter{Status: domain.StatusLocked, Reason: domain.LockFailedLogins})
		if len(failed) != 1 {
			t.Fatalf("failed-login locked users = %d", len(failed))
		}
		clk.Add(10 * time.Minute)
		if active, _ := s.ListUsers(ctx, "acme", store.UserFilter{Status: domain.StatusActive}); len(active) != 1 {
			t.Errorf("expired temporary lock not listed as active")
		}
		if got, _ := s.RecordLogin(ctx, "acme", "jsmith", true, "http:r"); got != domain.LoginOK {
			t.Errorf("login after the lock expired = %s", got)
		}
		u, _ := s.User(ctx, "acme", "jsmith")
		if u.Lock != nil || u.FailedLogins != 0 {
			t.Errorf("after success: %+v", u)
		}
	})
}

// TestConcurrentFailuresCountExactly: concurrent failure reports must not
// lose increments (row lock on PostgreSQL, immediate transactions on SQLite).
func TestConcurrentFailuresCountExactly(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		mustOrg(t, s, "acme", &domain.Policy{MaxFailedLogins: 0, FailureWindow: time.Hour})
		mustUser(t, s, "acme", domain.User{Username: "jsmith"})
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				if _, err := s.RecordLogin(ctx, "acme", "jsmith", false, "http:r"); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if u, _ := s.User(ctx, "acme", "jsmith"); u.FailedLogins != 20 {
			t.Errorf("failed logins = %d, want 20", u.FailedLogins)
		}
	})
}

func TestResetFailedLoginsLeavesAdminLocks(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		now := withClock(s).Now()
		mustOrg(t, s, "acme", nil)
		mustUser(t, s, "acme", domain.User{Username: "a", Lock: &domain.Lock{Reason: domain.LockFailedLogins, At: now}, FailedLogins: 5})
		mustUser(t, s, "acme", domain.User{Username: "b", Lock: &domain.Lock{Reason: domain.LockAdmin, At: now, Note: "fraud"}, FailedLogins: 2})
		mustUser(t, s, "acme", domain.User{Username: "c", FailedLogins: 1, LastFailedAt: now})
		unlocked, err := s.ResetFailedLogins(ctx, "acme", "staff", "cli")
		if err != nil || fmt.Sprint(unlocked) != "[a]" {
			t.Fatalf("ResetFailedLogins = %v, %v", unlocked, err)
		}
		b, _ := s.User(ctx, "acme", "b")
		c, _ := s.User(ctx, "acme", "c")
		if b.Lock == nil || b.Lock.Reason != domain.LockAdmin || b.FailedLogins != 0 || c.FailedLogins != 0 {
			t.Errorf("b = %+v, c = %+v", b, c)
		}
	})
}

func TestAuthenticate(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		mustOrg(t, s, "acme", &domain.Policy{MaxFailedLogins: 2, FailureWindow: time.Hour})
		hash := mustHash(t, "correct horse battery")
		mustUser(t, s, "acme", domain.User{Username: "jsmith", PasswordHash: hash})
		mustUser(t, s, "acme", domain.User{Username: "nopass"})
		tests := []struct {
			user, pw string
			want     domain.LoginResult
		}{
			{"jsmith", "correct horse battery", domain.LoginOK},
			{"nobody", "correct horse battery", domain.LoginInvalid},
			{"nopass", "", domain.LoginInvalid},
			{"jsmith", "wrong", domain.LoginInvalid},
			{"jsmith", "wrong", domain.LoginInvalid},
			{"jsmith", "correct horse battery", domain.LoginLocked},
		}
		for i, tt := range tests {
			got, err := s.Authenticate(ctx, nil, "acme", tt.user, tt.pw, "http:r")
			if err != nil || got != tt.want {
				t.Errorf("%d: Authenticate(%s) = %s, %v; want %s", i, tt.user, got, err, tt.want)
			}
		}
	})
}

func TestTokensAndOperators(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		mustOrg(t, s, "acme", nil)
		if _, err := s.CreateToken(ctx, store.Token{Name: "ci", Role: domain.RoleStaff}, "hash1", "cli", "cli"); err != nil {
			t.Fatal(err)
		}
		_, err := s.CreateToken(ctx, store.Token{Name: "x", Role: domain.RoleStaff}, "hash1", "cli", "cli")
		wantCode(t, err, domain.CodeConflict)
		_, err = s.CreateToken(ctx, store.Token{Name: "x", Role: domain.RoleAdmin}, "hash2", "cli", "cli")
		wantCode(t, err, domain.CodeInvalid)
		_, err = s.CreateToken(ctx, store.Token{Name: "x", Role: domain.RoleService, OrgSlug: "nope"}, "hash3", "cli", "cli")
		wantCode(t, err, domain.CodeNotFound)

		if _, err := s.AddOperator(ctx, store.Operator{Email: "Ann@Acme.example", Role: domain.RoleAdmin, OrgSlug: "acme"}, "h", "cli", "cli"); err != nil {
			t.Fatal(err)
		}
		_, err = s.AddOperator(ctx, store.Operator{Email: "ann@acme.EXAMPLE", Role: domain.RoleStaff}, "h", "cli", "cli")
		wantCode(t, err, domain.CodeConflict)
		_, err = s.AddOperator(ctx, store.Operator{Email: "bob@acme.example", Role: domain.RoleService, OrgSlug: "acme"}, "h", "cli", "cli")
		wantCode(t, err, domain.CodeInvalid)
	})
}

func TestCheckpointsNeverGoBackwards(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		if uid, err := s.Checkpoint(ctx, "support", 7); err != nil || uid != 0 {
			t.Fatalf("empty checkpoint = %d, %v", uid, err)
		}
		for _, uid := range []uint32{5, 9, 3} {
			if err := s.SetCheckpoint(ctx, "support", 7, uid); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.SetCheckpoint(ctx, "support", 8, 1); err != nil {
			t.Fatal(err)
		}
		if uid, _ := s.Checkpoint(ctx, "support", 7); uid != 9 {
			t.Errorf("checkpoint = %d, want 9", uid)
		}
		if uid, _ := s.Checkpoint(ctx, "support", 8); uid != 1 {
			t.Errorf("checkpoint after UIDVALIDITY change = %d, want 1", uid)
		}
	})
}

func TestErrorsKeepTheirCode(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		_, err := s.User(ctx, "nope", "x")
		if !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("errors.Is(%v, ErrNotFound) = false", err)
		}
	})
}
