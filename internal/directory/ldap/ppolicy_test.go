package ldap_test

import (
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/ldaptest"
)

// TestFailedLoginLockUnlocked: three real failed binds lock a user; the
// lock reads as failed_logins with its time, expiry and mark; Unlock
// lifts it (a fresh search shows no lock and no failure times, the right
// password binds); a second Unlock says ErrNotLocked. Over plain ldap://,
// StartTLS and ldaps://.
func TestFailedLoginLockUnlocked(t *testing.T) {
	f := setup(t)
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			d := open(t, config(f.s, mode))
			user, temp := "perm-"+mode, "temp-"+mode
			dn := f.s.AddUser(t, f.acmeDN, ldaptest.User{Username: user, Password: "right-pw", CN: "Perm User", Mail: user + "@acme.example"})
			tdn := f.s.AddUser(t, f.acmeDN, ldaptest.User{Username: temp, Password: "right-pw", Policy: ldaptest.TemporaryPolicyDN})
			if u := lookup(t, d, acme, user); u.Lock != nil {
				t.Fatalf("before the failed binds: lock %+v", u.Lock)
			}
			before := time.Now().Add(-2 * time.Second)
			f.s.FailBinds(t, dn, ldaptest.MaxFailures)
			f.s.FailBinds(t, tdn, ldaptest.MaxFailures)

			u := lookup(t, d, acme, user)
			l := u.Lock
			if l == nil || l.Reason != domain.LockFailedLogins || l.At.Before(before) || l.At.After(time.Now()) || !l.Expires.IsZero() {
				t.Fatalf("lock after %d failed binds: %+v", ldaptest.MaxFailures, l)
			}
			if got := f.s.Attr(t, dn, "pwdAccountLockedTime"); len(got) != 1 || got[0] != l.Mark {
				t.Fatalf("mark %q, pwdAccountLockedTime %q", l.Mark, got)
			}
			if u.DisplayName != "Perm User" || u.Email != user+"@acme.example" || u.OrgID != acme.ID {
				t.Fatalf("user %+v", u)
			}
			tl := lookup(t, d, acme, temp).Lock
			if tl == nil || tl.Expires != tl.At.Add(ldaptest.TemporaryLockout*time.Second) {
				t.Fatalf("lock under the temporary policy: %+v, want expiry %ds after", tl, ldaptest.TemporaryLockout)
			}

			if err := d.Unlock(ctx(t), acme, user, *l); err != nil {
				t.Fatalf("Unlock: %v", err)
			}
			if got := f.s.Attr(t, dn, "pwdAccountLockedTime"); len(got) != 0 {
				t.Fatalf("pwdAccountLockedTime after Unlock: %q", got)
			}
			if got := f.s.Attr(t, dn, "pwdFailureTime"); len(got) != 0 {
				t.Fatalf("pwdFailureTime after Unlock: %q", got)
			}
			if u := lookup(t, d, acme, user); u.Lock != nil {
				t.Fatalf("Lookup after Unlock: lock %+v", u.Lock)
			}
			if err := f.s.Bind(t, dn, "right-pw"); err != nil {
				t.Fatalf("bind with the right password after Unlock: %v", err)
			}
			wantErr(t, "second Unlock", d.Unlock(ctx(t), acme, user, *l), domain.ErrNotLocked)
		})
	}
}

// TestAdminLock: 000001010000Z reads as an admin lock; Lock sets it on an
// active user and over a failed-login lock; Unlock with the admin lock
// (staff's decision) lifts it.
func TestAdminLock(t *testing.T) {
	f := setup(t)
	d := open(t, config(f.s, "plain"))
	boss := f.s.AddUser(t, f.acmeDN, ldaptest.User{Username: "boss", Password: "pw", Attrs: map[string][]string{"pwdAccountLockedTime": {ldaptest.AdminLockTime}}})
	l := lookup(t, d, acme, "boss").Lock
	if l == nil || l.Reason != domain.LockAdmin || l.Mark != ldaptest.AdminLockTime || !l.Expires.IsZero() {
		t.Fatalf("000001010000Z reads as %+v", l)
	}
	if err := f.s.Bind(t, boss, "pw"); err == nil {
		t.Fatal("an admin-locked user binds")
	}

	active := f.s.AddUser(t, f.acmeDN, ldaptest.User{Username: "active", Password: "pw"})
	failed := f.s.AddUser(t, f.acmeDN, ldaptest.User{Username: "failed", Password: "pw"})
	f.s.FailBinds(t, failed, ldaptest.MaxFailures)
	for _, name := range []string{"active", "failed", "boss"} {
		if err := d.Lock(ctx(t), acme, name, "suspicious activity"); err != nil {
			t.Fatalf("Lock %s: %v", name, err)
		}
		if l := lookup(t, d, acme, name).Lock; l == nil || l.Reason != domain.LockAdmin {
			t.Fatalf("%s after Lock: %+v", name, l)
		}
	}
	if err := f.s.Bind(t, active, "pw"); err == nil {
		t.Fatal("a user locked by Lock binds")
	}
	if err := d.Unlock(ctx(t), acme, "active", *lookup(t, d, acme, "active").Lock); err != nil {
		t.Fatalf("Unlock an admin lock: %v", err)
	}
	if err := f.s.Bind(t, active, "pw"); err != nil {
		t.Fatalf("bind after lifting the admin lock: %v", err)
	}
}

// TestAdminLockBetweenLookupAndUnlock: an admin lock set after Lookup
// survives Unlock, which says ErrLockChanged.
func TestAdminLockBetweenLookupAndUnlock(t *testing.T) {
	f := setup(t)
	d := open(t, config(f.s, "plain"))
	dn := f.s.AddUser(t, f.acmeDN, ldaptest.User{Username: "jsmith", Password: "pw"})
	f.s.FailBinds(t, dn, ldaptest.MaxFailures)
	was := lookup(t, d, acme, "jsmith").Lock
	f.s.Set(t, dn, "pwdAccountLockedTime", ldaptest.AdminLockTime)
	wantErr(t, "Unlock after an admin lock", d.Unlock(ctx(t), acme, "jsmith", *was), domain.ErrLockChanged)
	if got := f.s.Attr(t, dn, "pwdAccountLockedTime"); len(got) != 1 || got[0] != ldaptest.AdminLockTime {
		t.Fatalf("pwdAccountLockedTime after the refused Unlock: %q", got)
	}
	// A new failed-login lock (another time) is another lock too.
	f.s.Set(t, dn, "pwdAccountLockedTime", "20260101000000Z")
	wantErr(t, "Unlock after a new lockout", d.Unlock(ctx(t), acme, "jsmith", *was), domain.ErrLockChanged)
}
