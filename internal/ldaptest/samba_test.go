package ldaptest

import "testing"

// TestADServer checks the Samba harness: failed binds lock an account
// out (msDS-User-Account-Control-Computed has UF_LOCKOUT).
func TestADServer(t *testing.T) {
	s := StartAD(t)
	dn := s.AddUser(t, s.AddOrg(t, "acme"), "jsmith", "Right-Passw0rd!")
	if err := s.Bind(t, dn, "Right-Passw0rd!"); err != nil {
		t.Fatalf("bind before the lockout: %v", err)
	}
	s.FailBinds(t, dn, ADMaxFailures)
	if err := s.Bind(t, dn, "Right-Passw0rd!"); err == nil {
		t.Fatal("a locked-out account binds")
	}
	if got := s.Attr(t, dn, "msDS-User-Account-Control-Computed"); len(got) != 1 || got[0] != "16" {
		t.Fatalf("msDS-User-Account-Control-Computed after the lockout: %q", got)
	}
}
