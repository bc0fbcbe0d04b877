package ldaptest

import (
	"testing"

	"github.com/go-ldap/ldap/v3"
)

// TestServer checks the harness itself: three failed binds lock a user
// (ppolicy), both TLS ways in answer, and the data survives Stop/Start.
func TestServer(t *testing.T) {
	s := Start(t)
	org := s.AddOrg(t, "acme")
	dn := s.AddUser(t, org, User{Username: "jsmith", Password: "right"})
	if err := s.Bind(t, dn, "right"); err != nil {
		t.Fatalf("bind before the lockout: %v", err)
	}
	s.FailBinds(t, dn, MaxFailures)
	if got := s.Attr(t, dn, "pwdAccountLockedTime"); len(got) != 1 {
		t.Fatalf("pwdAccountLockedTime after %d failed binds = %q", MaxFailures, got)
	}
	if err := s.Bind(t, dn, "right"); err == nil {
		t.Fatal("a locked user could bind")
	}

	tc, err := ldap.DialURL(s.LDAPSURL(), ldap.DialWithTLSConfig(s.TLSConfig(t)))
	if err != nil {
		t.Fatalf("ldaps: %v", err)
	}
	if err := tc.Bind(ServiceDN, ServicePassword); err != nil {
		t.Fatalf("ldaps bind: %v", err)
	}
	tc.Close()
	pc, err := ldap.DialURL(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if err := pc.StartTLS(s.TLSConfig(t)); err != nil {
		t.Fatalf("StartTLS: %v", err)
	}

	s.Stop(t)
	if _, err := ldap.DialURL(s.URL()); err == nil {
		t.Fatal("dial after Stop succeeded")
	}
	s.Start(t)
	if got := s.Attr(t, dn, "pwdAccountLockedTime"); len(got) != 1 {
		t.Fatalf("pwdAccountLockedTime after a restart = %q", got)
	}
}
