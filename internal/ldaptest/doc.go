// Package ldaptest runs a real OpenLDAP slapd for a test: a generated
// configuration in a temporary folder, the mdb backend, the ppolicy
// overlay with a default policy that locks an account after three failed
// binds, a small schema carrying Active Directory's account attributes,
// and three ways in on loopback ports: plain ldap:// (which also offers
// StartTLS) and ldaps://, both with a certificate from a CA generated for
// the test.
//
// A test calls Start, then AddOrg and AddUser to fill it, FailBinds to lock
// a user the way a real sign-in would, and Stop/Start to take the server
// down and bring it back on the same ports with the same data. Without
// slapd the test is skipped with the reason, unless CI is set, when it
// fails.
//
// StartAD does the same with Samba's Active Directory domain controller
// (provisioned by samba-tool into a temporary folder, run as root in the
// foreground on a loopback address of its own), for the AD semantics:
// lockouts after failed binds, msDS-User-Account-Control-Computed,
// lockoutTime, userAccountControl and unicodePwd as a real DC keeps them.
package ldaptest
