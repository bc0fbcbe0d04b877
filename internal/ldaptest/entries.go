package ldaptest

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"
)

// seed adds the suffix, the password policies and the service accounts.
func (s *Server) seed(tb testing.TB) {
	tb.Helper()
	c := s.Root(tb)
	add := func(dn string, attrs map[string][]string) {
		tb.Helper()
		r := ldap.NewAddRequest(dn, nil)
		for k, v := range attrs {
			r.Attribute(k, v)
		}
		if err := c.Add(r); err != nil {
			tb.Fatalf("ldaptest: add %s: %v", dn, err)
		}
	}
	add(Suffix, map[string][]string{"objectClass": {"dcObject", "organization"}, "dc": {"unlockd"}, "o": {"unlockd test"}})
	add("ou=policies,"+Suffix, map[string][]string{"objectClass": {"organizationalUnit"}, "ou": {"policies"}})
	policy := func(dn, cn string, lockout bool, duration int) {
		tb.Helper()
		add(dn, map[string][]string{
			"objectClass":        {"organizationalRole", "pwdPolicy"},
			"cn":                 {cn},
			"pwdAttribute":       {"userPassword"},
			"pwdLockout":         {strings.ToUpper(strconv.FormatBool(lockout))},
			"pwdMaxFailure":      {strconv.Itoa(MaxFailures)},
			"pwdLockoutDuration": {strconv.Itoa(duration)},
		})
	}
	policy(DefaultPolicyDN, "default", true, 0)
	policy(TemporaryPolicyDN, "temporary", true, TemporaryLockout)
	policy(noLockoutPolicyDN, "nolockout", false, 0)
	add("ou=services,"+Suffix, map[string][]string{"objectClass": {"organizationalUnit"}, "ou": {"services"}})
	for _, a := range []struct{ dn, cn, pw string }{{ServiceDN, "unlockd", ServicePassword}, {ReaderDN, "reader", ReaderPassword}} {
		add(a.dn, map[string][]string{
			"objectClass":       {"organizationalRole", "simpleSecurityObject"},
			"cn":                {a.cn},
			"userPassword":      {a.pw},
			"pwdPolicySubentry": {noLockoutPolicyDN},
		})
	}
}

// OrgDN is the base DN of an org's users: ou=<slug>,Suffix.
func OrgDN(slug string) string { return "ou=" + ldap.EscapeDN(slug) + "," + Suffix }

// AddOrg adds the org's organizational unit and returns its DN (OrgDN).
func (s *Server) AddOrg(tb testing.TB, slug string) string {
	tb.Helper()
	dn := OrgDN(slug)
	r := ldap.NewAddRequest(dn, nil)
	r.Attribute("objectClass", []string{"organizationalUnit"})
	r.Attribute("ou", []string{slug})
	if err := s.Root(tb).Add(r); err != nil {
		tb.Fatalf("ldaptest: add org %s: %v", dn, err)
	}
	return dn
}

// User is an account to add with AddUser.
type User struct {
	// Username is uid (and sAMAccountName with AD set).
	Username string
	Password string
	// CN defaults to Username; Mail is left out when empty.
	CN   string
	Mail string
	// Policy is the entry's pwdPolicySubentry; empty uses the default
	// policy (DefaultPolicyDN).
	Policy string
	// RDN names the entry under the org's DN; it defaults to
	// uid=<Username>. Set it to add a second entry for one username.
	RDN string
	// AD adds Active Directory's account attributes: sAMAccountName and
	// userAccountControl 512 (a normal account), plus the Attrs below.
	AD bool
	// Attrs are more attributes, e.g. pwdAccountLockedTime or lockoutTime.
	Attrs map[string][]string
}

// AddUser adds an inetOrgPerson under orgDN and returns its DN.
func (s *Server) AddUser(tb testing.TB, orgDN string, u User) string {
	tb.Helper()
	rdn := u.RDN
	if rdn == "" {
		rdn = "uid=" + ldap.EscapeDN(u.Username)
	}
	dn := rdn + "," + orgDN
	cn := u.CN
	if cn == "" {
		cn = u.Username
	}
	r := ldap.NewAddRequest(dn, nil)
	classes := []string{"inetOrgPerson"}
	if u.AD {
		classes = append(classes, "unlockdTestADUser")
		r.Attribute("sAMAccountName", []string{u.Username})
		if _, ok := u.Attrs["userAccountControl"]; !ok {
			r.Attribute("userAccountControl", []string{"512"})
		}
	}
	r.Attribute("objectClass", classes)
	r.Attribute("uid", []string{u.Username})
	r.Attribute("cn", []string{cn})
	r.Attribute("sn", []string{cn})
	if u.Password != "" {
		r.Attribute("userPassword", []string{u.Password})
	}
	if u.Mail != "" {
		r.Attribute("mail", []string{u.Mail})
	}
	if u.Policy != "" {
		r.Attribute("pwdPolicySubentry", []string{u.Policy})
	}
	for k, v := range u.Attrs {
		r.Attribute(k, v)
	}
	if err := s.Root(tb).Add(r); err != nil {
		tb.Fatalf("ldaptest: add user %s: %v", dn, err)
	}
	return dn
}

// Bind reports whether dn binds with password; an error other than
// invalid credentials fails the test.
func (s *client) Bind(tb testing.TB, dn, password string) error {
	tb.Helper()
	c, err := s.dial()
	if err != nil {
		tb.Fatalf("ldaptest: dial: %v", err)
	}
	defer c.Close()
	err = c.Bind(dn, password)
	if err != nil && !ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials) {
		tb.Fatalf("ldaptest: bind as %s: %v", dn, err)
	}
	return err
}

// FailBinds binds as dn with a wrong password n times, as a user typing
// the wrong password would: MaxFailures of them lock the account.
func (s *client) FailBinds(tb testing.TB, dn string, n int) {
	tb.Helper()
	for i := range n {
		if err := s.Bind(tb, dn, fmt.Sprintf("wrong-password-%d", i)); err == nil {
			tb.Fatalf("ldaptest: bind as %s with a wrong password succeeded", dn)
		}
	}
}

// Attr returns an attribute's values of dn (operational ones too), read
// as the rootdn; nil when the entry has none.
func (s *client) Attr(tb testing.TB, dn, attr string) []string {
	tb.Helper()
	res, err := s.Root(tb).Search(ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases,
		1, 10, false, "(objectClass=*)", []string{attr}, nil))
	if err != nil {
		tb.Fatalf("ldaptest: read %s of %s: %v", attr, dn, err)
	}
	if len(res.Entries) != 1 {
		tb.Fatalf("ldaptest: read %s: %d entries", dn, len(res.Entries))
	}
	return res.Entries[0].GetAttributeValues(attr)
}

// Set replaces an attribute's values of dn as the rootdn; no values
// deletes the attribute (absent already is fine).
func (s *client) Set(tb testing.TB, dn, attr string, values ...string) {
	tb.Helper()
	r := ldap.NewModifyRequest(dn, nil)
	r.Replace(attr, values)
	err := s.Root(tb).Modify(r)
	var le *ldap.Error
	if err != nil && !(len(values) == 0 && errors.As(err, &le) && le.ResultCode == ldap.LDAPResultNoSuchAttribute) {
		tb.Fatalf("ldaptest: set %s of %s: %v", attr, dn, err)
	}
}
