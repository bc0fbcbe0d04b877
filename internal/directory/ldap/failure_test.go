package ldap_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/directory/ldap"
	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/ldaptest"
	"github.com/unlockd/unlockd/internal/mailtest"
)

// TestServerDown: with slapd stopped every call is temporary; after
// Start the same Directory value works again (new connections).
func TestServerDown(t *testing.T) {
	f := setup(t)
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			d := open(t, config(f.s, mode))
			f.s.FailBinds(t, f.s.AddUser(t, f.acmeDN, ldaptest.User{Username: "down-" + mode, Password: "pw"}), ldaptest.MaxFailures)
			was := lookup(t, d, acme, "down-"+mode).Lock
			if err := d.Ping(ctx(t)); err != nil {
				t.Fatalf("Ping: %v", err)
			}
			f.s.Stop(t)
			_, err := d.Lookup(ctx(t), acme, []string{"down-" + mode})
			if !domain.IsTemporary(err) {
				t.Fatalf("Lookup with slapd down: %v, want a temporary error", err)
			}
			if err := d.Unlock(ctx(t), acme, "down-"+mode, *was); !domain.IsTemporary(err) {
				t.Fatalf("Unlock with slapd down: %v, want a temporary error", err)
			}
			if err := d.Ping(ctx(t)); !domain.IsTemporary(err) {
				t.Fatalf("Ping with slapd down: %v", err)
			}
			f.s.Start(t)
			if err := d.Unlock(ctx(t), acme, "down-"+mode, *was); err != nil {
				t.Fatalf("Unlock after Start: %v", err)
			}
			if err := d.Ping(ctx(t)); err != nil {
				t.Fatalf("Ping after Start: %v", err)
			}
		})
	}
}

// TestRestartKeepsPool: idle pooled connections die with a restart; the
// next read retries on a new connection instead of failing.
func TestRestartKeepsPool(t *testing.T) {
	f := setup(t)
	d := open(t, config(f.s, "plain"))
	f.s.AddUser(t, f.acmeDN, ldaptest.User{Username: "jsmith", Password: "pw"})
	lookup(t, d, acme, "jsmith")
	f.s.Stop(t)
	f.s.Start(t)
	lookup(t, d, acme, "jsmith")
}

// TestHangingServer: a server that accepts TCP and never answers gives a
// temporary error within the timeout, in each mode.
func TestHangingServer(t *testing.T) {
	done := make(chan struct{})
	defer close(done)
	addr := serveTCP(t, func(c net.Conn) { <-done; c.Close() }) // held open, never answered
	ca := mailtest.NewTestCA(t).CAFile                          // a CA that signed nothing of the server
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			c := ldap.Config{URL: "ldap://" + addr, BindDN: "cn=x", BindPassword: "pw", BaseDN: "dc=x",
				Timeout: 300 * time.Millisecond}
			switch mode {
			case "starttls":
				c.StartTLS, c.CAFile = true, ca
			case "ldaps":
				c.URL, c.CAFile = "ldaps://"+addr, ca
			}
			d := open(t, c)
			start := time.Now()
			_, err := d.Lookup(context.Background(), acme, []string{"jsmith"})
			if took := time.Since(start); !domain.IsTemporary(err) || took > 3*time.Second {
				t.Fatalf("Lookup against a silent server: %v after %v, want a temporary error within the timeout", err, took)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			start = time.Now()
			if err := d.Ping(ctx); !domain.IsTemporary(err) || time.Since(start) > 2*time.Second {
				t.Fatalf("Ping under a 100ms context: %v after %v", err, time.Since(start))
			}
		})
	}
}

// TestWrongBindPassword: a refused service account is permanent, says
// so, and never shows the password.
func TestWrongBindPassword(t *testing.T) {
	f := setup(t)
	for _, mode := range modes {
		c := config(f.s, mode)
		c.BindPassword = "Wr0ng-s3rvice-passw0rd"
		d := open(t, c)
		_, err := d.Lookup(ctx(t), acme, []string{"jsmith"})
		if err == nil || domain.IsTemporary(err) || !strings.Contains(err.Error(), "credentials") || strings.Contains(err.Error(), c.BindPassword) {
			t.Fatalf("%s: Lookup with a wrong bind password: %v", mode, err)
		}
		if err := d.Ping(ctx(t)); err == nil || domain.IsTemporary(err) || strings.Contains(err.Error(), c.BindPassword) {
			t.Fatalf("%s: Ping with a wrong bind password: %v", mode, err)
		}
	}
}

// TestReadOnlyServiceAccount: an account the ACLs forbid to write gets a
// permanent error naming the rights, and the lock stays.
func TestReadOnlyServiceAccount(t *testing.T) {
	f := setup(t)
	c := config(f.s, "plain")
	c.BindDN, c.BindPassword = ldaptest.ReaderDN, ldaptest.ReaderPassword
	d := open(t, c)
	dn := f.s.AddUser(t, f.acmeDN, ldaptest.User{Username: "jsmith", Password: "pw"})
	f.s.FailBinds(t, dn, ldaptest.MaxFailures)
	err := d.Unlock(ctx(t), acme, "jsmith", *lookup(t, d, acme, "jsmith").Lock)
	if err == nil || domain.IsTemporary(err) || !strings.Contains(err.Error(), "rights") {
		t.Fatalf("Unlock as a reader: %v", err)
	}
	if got := f.s.Attr(t, dn, "pwdAccountLockedTime"); len(got) != 1 {
		t.Fatalf("lock after the refused Unlock: %q", got)
	}
}

// TestWrongCA: a server certificate from another CA is a permanent TLS
// error that points at ca_file.
func TestWrongCA(t *testing.T) {
	f := setup(t)
	ca := mailtest.NewTestCA(t).CAFile // a CA that signed nothing of the server
	for _, mode := range []string{"starttls", "ldaps"} {
		c := config(f.s, mode)
		c.CAFile = ca
		err := open(t, c).Ping(ctx(t))
		if err == nil || domain.IsTemporary(err) || !strings.Contains(err.Error(), "ca_file") {
			t.Fatalf("%s with another CA: %v", mode, err)
		}
	}
}

// TestSetPassword: the password-modify operation over TLS; refused over
// plain ldap://.
func TestSetPassword(t *testing.T) {
	f := setup(t)
	dn := f.s.AddUser(t, f.acmeDN, ldaptest.User{Username: "jsmith", Password: "old-pw"})
	for _, mode := range []string{"starttls", "ldaps"} {
		pw := "new-pw-" + mode
		if err := open(t, config(f.s, mode)).SetPassword(ctx(t), acme, "jsmith", pw); err != nil {
			t.Fatalf("%s: SetPassword: %v", mode, err)
		}
		if err := f.s.Bind(t, dn, pw); err != nil {
			t.Fatalf("%s: bind with the new password: %v", mode, err)
		}
	}
	err := open(t, config(f.s, "plain")).SetPassword(ctx(t), acme, "jsmith", "clear-pw")
	if err == nil || !strings.Contains(err.Error(), "plain") {
		t.Fatalf("SetPassword over plain ldap://: %v", err)
	}
	if err := f.s.Bind(t, dn, "clear-pw"); err == nil {
		t.Fatal("the password was set over plain ldap://")
	}
	if err := open(t, config(f.s, "ldaps")).SetPassword(ctx(t), globex, "jsmith", "x-pw"); err == nil {
		t.Fatal("SetPassword for another org's user")
	}
}
