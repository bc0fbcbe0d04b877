package demo

import (
	"context"
	"errors"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/ldaptest"
)

// TestRunLDAP runs `unlockd demo --directory ldap`: a slapd holds the
// org's accounts, the verified request unlocks jsmith there (a fresh
// search shows no pwdAccountLockedTime), the admin lock is queued, and a
// stop ends slapd with the run.
func TestRunLDAP(t *testing.T) {
	if !ldaptest.Installed() {
		if os.Getenv("CI") != "" {
			t.Fatal("the LDAP demo needs slapd in CI")
		}
		t.Skip("no slapd: " + ErrNoSlapd.Error())
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &output{}
	done := make(chan error, 1)
	go func() { done <- Run(ctx, Options{Listen: "127.0.0.1:0", Out: out, Directory: DirectoryLDAP}) }()
	out.waitFor(t, "Press Ctrl-C", 60*time.Second, done)
	text := out.String()
	for _, w := range []string{
		"holds org acme's accounts: directory corp",
		"jsmith   John Smith   locked after failed binds (pwdAccountLockedTime 20",
		"mlopez   Maria Lopez  locked by an admin (pwdAccountLockedTime 000001010000Z)",
		"outcome   jsmith: unlocked",
		"mlopez: queued for review (admin_lock)",
		"slapd, searched afresh: jsmith is active (no pwdAccountLockedTime)",
		"3 replies and 3 notifications captured",
	} {
		if !strings.Contains(text, w) {
			t.Errorf("the LDAP demo does not print %q:\n%s", w, text)
		}
	}
	url := find(t, text, `slapd \(OpenLDAP with ppolicy\) at (ldap://\S+) holds`)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run after stop: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not stop")
	}
	if c, err := net.DialTimeout("tcp", strings.TrimPrefix(url, "ldap://"), time.Second); err == nil {
		c.Close()
		t.Errorf("slapd at %s still answers after the demo stopped", url)
	}
}

// TestRunLDAPUnknownDirectory: a directory the demo cannot show is an
// error naming the choices, before anything starts.
func TestRunLDAPUnknownDirectory(t *testing.T) {
	err := Run(context.Background(), Options{Directory: "nis"})
	if err == nil || !strings.Contains(err.Error(), `directory "nis" must be builtin or ldap`) || errors.Is(err, ErrNoSlapd) {
		t.Fatalf("Run = %v", err)
	}
}
