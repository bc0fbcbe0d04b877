package ldap_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/directory/ldap"
	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/ldaptest"
)

// adConfig is the Administrator's configuration for the DC in mode.
func adConfig(s *ldaptest.ADServer, mode string) ldap.Config {
	c := ldap.Config{
		Server:       ldap.ActiveDirectory,
		URL:          s.URL(),
		BindDN:       ldaptest.ADAdminDN,
		BindPassword: ldaptest.ADAdminPassword,
		BaseDN:       "OU={org}," + ldaptest.ADBaseDN,
		Timeout:      10 * time.Second,
	}
	return withMode(c, mode, s.LDAPSURL(), s.CAFile())
}

// TestActiveDirectory runs the AD semantics against Samba's AD domain
// controller: lockouts by real failed binds read from
// msDS-User-Account-Control-Computed, a disabled account as an admin
// lock, conditional unlocks, orgs apart, unicodePwd over TLS only.
func TestActiveDirectory(t *testing.T) {
	t.Parallel() // provisioning the DC takes seconds: overlap the others
	s := ldaptest.StartAD(t)
	acmeDN, globexDN := s.AddOrg(t, "acme"), s.AddOrg(t, "globex")
	const pw = "Right-Passw0rd!"

	t.Run("lockout unlocked", func(t *testing.T) {
		for _, mode := range modes {
			d := open(t, adConfig(s, mode))
			name := "lock-" + mode
			dn := s.AddUser(t, acmeDN, name, pw)
			if u := lookup(t, d, acme, name); u.Lock != nil {
				t.Fatalf("%s: before the failed binds: %+v", mode, u.Lock)
			}
			before := time.Now().Add(-5 * time.Second)
			s.FailBinds(t, dn, ldaptest.ADMaxFailures)
			l := lookup(t, d, acme, name).Lock
			if l == nil || l.Reason != domain.LockFailedLogins || l.At.Before(before) || l.At.After(time.Now().Add(5*time.Second)) ||
				l.Mark != "lockoutTime="+s.Attr(t, dn, "lockoutTime")[0] {
				t.Fatalf("%s: lock after %d failed binds: %+v", mode, ldaptest.ADMaxFailures, l)
			}
			if err := d.Unlock(ctx(t), acme, name, *l); err != nil {
				t.Fatalf("%s: Unlock: %v", mode, err)
			}
			if lt, c := s.Attr(t, dn, "lockoutTime"), s.Attr(t, dn, "msDS-User-Account-Control-Computed"); lt[0] != "0" || c[0] != "0" {
				t.Fatalf("%s: after Unlock lockoutTime %q, computed %q", mode, lt, c)
			}
			if u := lookup(t, d, acme, name); u.Lock != nil {
				t.Fatalf("%s: Lookup after Unlock: %+v", mode, u.Lock)
			}
			if err := s.Bind(t, dn, pw); err != nil {
				t.Fatalf("%s: bind after Unlock: %v", mode, err)
			}
			wantErr(t, mode+": second Unlock", d.Unlock(ctx(t), acme, name, *l), domain.ErrNotLocked)
		}
	})

	d := open(t, adConfig(s, "ldaps"))
	if err := d.Ping(ctx(t)); err != nil {
		t.Fatalf("Ping the DC: %v", err)
	}
	t.Run("disabled is an admin lock", func(t *testing.T) {
		dn := s.AddUser(t, acmeDN, "boss", pw)
		if err := d.Lock(ctx(t), acme, "boss", "left the company"); err != nil {
			t.Fatalf("Lock: %v", err)
		}
		if got := s.Attr(t, dn, "userAccountControl"); got[0] != "514" {
			t.Fatalf("userAccountControl after Lock: %q", got)
		}
		l := lookup(t, d, acme, "boss").Lock
		if l == nil || l.Reason != domain.LockAdmin {
			t.Fatalf("a disabled account reads as %+v", l)
		}
		if err := s.Bind(t, dn, pw); err == nil {
			t.Fatal("a disabled account binds")
		}
		if err := d.Unlock(ctx(t), acme, "boss", *l); err != nil {
			t.Fatalf("Unlock the admin lock (staff's decision): %v", err)
		}
		if err := s.Bind(t, dn, pw); err != nil {
			t.Fatalf("bind after enabling: %v", err)
		}
	})

	t.Run("admin lock between lookup and unlock survives", func(t *testing.T) {
		dn := s.AddUser(t, acmeDN, "racer", pw)
		s.FailBinds(t, dn, ldaptest.ADMaxFailures)
		was := lookup(t, d, acme, "racer").Lock
		s.Set(t, dn, "userAccountControl", "514")
		wantErr(t, "Unlock after the account was disabled", d.Unlock(ctx(t), acme, "racer", *was), domain.ErrLockChanged)
		if got := s.Attr(t, dn, "userAccountControl"); got[0] != "514" {
			t.Fatalf("userAccountControl after the refused Unlock: %q", got)
		}
		// (Samba itself clears lockoutTime when userAccountControl is
		// written without UF_LOCKOUT, as the test just did.)
		// A lockout lifted and a new one since is another lock.
		s.Set(t, dn, "userAccountControl", "512")
		s.Set(t, dn, "lockoutTime", "0")
		time.Sleep(10 * time.Millisecond)
		s.FailBinds(t, dn, ldaptest.ADMaxFailures)
		wantErr(t, "Unlock after a new lockout", d.Unlock(ctx(t), acme, "racer", *was), domain.ErrLockChanged)
	})

	t.Run("orgs apart", func(t *testing.T) {
		only := s.AddUser(t, globexDN, "gonly", pw)
		s.FailBinds(t, only, ldaptest.ADMaxFailures)
		if got, err := d.Lookup(ctx(t), acme, []string{"gonly"}); err != nil || len(got) != 0 {
			t.Fatalf("acme looks up globex's user: %v, %v", got, err)
		}
		l := lookup(t, d, globex, "gonly").Lock
		if err := d.Unlock(ctx(t), acme, "gonly", *l); err == nil || errors.Is(err, domain.ErrNotLocked) {
			t.Fatalf("acme unlocks globex's user: %v", err)
		}
		if err := d.Lock(ctx(t), acme, "gonly", "x"); err == nil {
			t.Fatal("acme locks globex's user")
		}
		if err := d.SetPassword(ctx(t), acme, "gonly", "Other-Passw0rd!"); err == nil {
			t.Fatal("acme sets globex's user's password")
		}
		if got := s.Attr(t, only, "lockoutTime"); got[0] == "0" {
			t.Fatal("globex's lockout was lifted")
		}
		for _, u := range mustList(t, d, acme) {
			if u.Username == "gonly" {
				t.Fatal("acme's list shows globex's user")
			}
		}
		if got := mustList(t, d, globex); len(got) != 1 || got[0].Username != "gonly" {
			t.Fatalf("globex's list: %+v", got)
		}
	})

	t.Run("list and hostile usernames", func(t *testing.T) {
		s.AddUser(t, acmeDN, "active", pw)
		var names []string
		for _, u := range mustList(t, d, acme) {
			names = append(names, u.Username+":"+string(u.Lock.Reason))
		}
		if got := strings.Join(names, " "); got != "racer:failed_logins" {
			t.Fatalf("acme's locked list: %s", got)
		}
		got, err := d.Lookup(ctx(t), acme, []string{"*)(sAMAccountName=*", "*", "a*", "active)(|(cn=*", "ACTIVE"})
		if err != nil || len(got) != 0 {
			t.Fatalf("hostile usernames: %v, %v", got, err)
		}
	})

	t.Run("set password", func(t *testing.T) {
		dn := s.AddUser(t, acmeDN, "pwuser", pw)
		for _, mode := range []string{"ldaps", "starttls"} {
			newPw := "New-Passw0rd-" + mode
			if err := open(t, adConfig(s, mode)).SetPassword(ctx(t), acme, "pwuser", newPw); err != nil {
				t.Fatalf("%s: SetPassword: %v", mode, err)
			}
			if err := s.Bind(t, dn, newPw); err != nil {
				t.Fatalf("%s: bind with the new password: %v", mode, err)
			}
		}
		err := open(t, adConfig(s, "plain")).SetPassword(ctx(t), acme, "pwuser", "Plain-Passw0rd!")
		if err == nil || !strings.Contains(err.Error(), "plain") {
			t.Fatalf("SetPassword over plain ldap://: %v", err)
		}
	})

	// Last: a wrong Administrator password counts as a failed bind.
	t.Run("wrong bind password", func(t *testing.T) {
		c := adConfig(s, "ldaps")
		c.BindPassword = "Wr0ng-Adm1n-passw0rd"
		_, err := open(t, c).Lookup(ctx(t), acme, []string{"active"})
		if err == nil || domain.IsTemporary(err) || !strings.Contains(err.Error(), "credentials") || strings.Contains(err.Error(), c.BindPassword) {
			t.Fatalf("Lookup with a wrong bind password: %v", err)
		}
	})
}

func mustList(t *testing.T, d *ldap.Directory, org domain.Org) []domain.User {
	t.Helper()
	list, err := d.ListLocked(ctx(t), org, 100)
	if err != nil {
		t.Fatalf("ListLocked %s: %v", org.Slug, err)
	}
	return list
}
