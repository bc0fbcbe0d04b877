package ldap

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/ldaptest"
)

// TestServerRefusesChangedLock: when the lock changes after the last
// read (past Unlock's own check), the server refuses the delete of the
// old value and nothing is lifted: ErrLockChanged, or ErrNotLocked when
// the lock is gone.
func TestServerRefusesChangedLock(t *testing.T) {
	s := ldaptest.Start(t)
	org := domain.Org{ID: 1, Slug: "acme"}
	dn := s.AddUser(t, s.AddOrg(t, "acme"), ldaptest.User{Username: "jsmith", Password: "pw"})
	for _, mode := range []string{"ppolicy", "ad"} {
		c := Config{URL: s.URL(), BindDN: ldaptest.ServiceDN, BindPassword: ldaptest.ServicePassword, BaseDN: "ou={org}," + ldaptest.Suffix}
		d, err := Open("corp", c)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		ctx := context.Background()
		if mode == "ppolicy" {
			s.FailBinds(t, dn, ldaptest.MaxFailures)
		} else {
			// The AD kind against slapd's AD attributes, on the same entry.
			d.kind = activeDirectory{}
			s.Set(t, dn, "objectClass", "inetOrgPerson", "unlockdTestADUser")
			s.Set(t, dn, "userAccountControl", "512")
			s.Set(t, dn, "lockoutTime", "134406099710850180")
			s.Set(t, dn, "msDS-User-Account-Control-Computed", "16")
		}
		a, err := d.one(ctx, org, "jsmith")
		if err != nil || a.user.Lock == nil || a.user.Lock.Reason != domain.LockFailedLogins {
			t.Fatalf("%s: lookup: %+v, %v", mode, a, err)
		}
		was := *a.user.Lock
		if mode == "ppolicy" {
			s.Set(t, dn, attrLockedTime, AdminLockTime)
		} else {
			s.Set(t, dn, attrLockoutTime, "134406099999999999")
		}
		if err := d.lift(ctx, org, "jsmith", a, was); !errors.Is(err, domain.ErrLockChanged) {
			t.Fatalf("%s: lift a changed lock: %v", mode, err)
		}
		if mode == "ppolicy" {
			if got := s.Attr(t, dn, attrLockedTime); len(got) != 1 || got[0] != AdminLockTime {
				t.Fatalf("the admin lock after the refused lift: %q", got)
			}
			s.Set(t, dn, attrLockedTime)
		} else {
			if got := s.Attr(t, dn, attrLockoutTime); len(got) != 1 || got[0] != "134406099999999999" {
				t.Fatalf("lockoutTime after the refused lift: %q", got)
			}
			s.Set(t, dn, attrLockoutTime, "0")
		}
		if err := d.lift(ctx, org, "jsmith", a, was); !errors.Is(err, domain.ErrNotLocked) {
			t.Fatalf("%s: lift a lock that is gone: %v", mode, err)
		}
	}
}

func TestParseGeneralizedTime(t *testing.T) {
	ok := map[string]time.Time{
		"20261201144508Z":        time.Date(2026, 12, 1, 14, 45, 8, 0, time.UTC),
		"20261201144508.037269Z": time.Date(2026, 12, 1, 14, 45, 8, 37269000, time.UTC),
		"20261201144508+0100":    time.Date(2026, 12, 1, 13, 45, 8, 0, time.UTC),
		"202612011445Z":          time.Date(2026, 12, 1, 14, 45, 0, 0, time.UTC),
		"2026120114Z":            time.Date(2026, 12, 1, 14, 0, 0, 0, time.UTC),
	}
	for in, want := range ok {
		if got, err := parseGeneralizedTime(in); err != nil || !got.Equal(want) {
			t.Errorf("%q: %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "Z", "20261201144508", "2026120114450Z", "20261341144508Z", "x0261201144508Z", "20261201144508.Z1", "2026120114.5Z"} {
		if got, err := parseGeneralizedTime(in); err == nil {
			t.Errorf("%q: %v, want an error", in, got)
		}
	}
}

// TestADLockStates reads AD lock states that Samba cannot be made to
// show on demand, from slapd's copy of AD's attributes: a lockout that
// expired (lockoutTime set, no UF_LOCKOUT), a negative lockoutTime, and
// garbage; and a ppolicy time in the past.
func TestADLockStates(t *testing.T) {
	s := ldaptest.Start(t)
	org := domain.Org{ID: 1, Slug: "acme"}
	orgDN := s.AddOrg(t, "acme")
	d, err := Open("corp", Config{URL: s.URL(), BindDN: ldaptest.ServiceDN, BindPassword: ldaptest.ServicePassword,
		BaseDN: "ou={org}," + ldaptest.Suffix, Server: ActiveDirectory})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	add := func(name string, attrs map[string][]string) {
		s.AddUser(t, orgDN, ldaptest.User{Username: name, AD: true, Attrs: attrs})
	}
	add("expired", map[string][]string{"lockoutTime": {"134406099710850180"}, "msDS-User-Account-Control-Computed": {"0"}})
	add("negative", map[string][]string{"lockoutTime": {"-5"}, "msDS-User-Account-Control-Computed": {"16"}})
	add("zero", map[string][]string{"lockoutTime": {"0"}, "msDS-User-Account-Control-Computed": {"16"}})
	add("locked", map[string][]string{"lockoutTime": {"134406099710850180"}, "msDS-User-Account-Control-Computed": {"16"}})
	add("both", map[string][]string{"lockoutTime": {"134406099710850180"}, "msDS-User-Account-Control-Computed": {"16"}, "userAccountControl": {"514"}})
	got, err := d.Lookup(context.Background(), org, []string{"expired", "negative", "zero", "locked", "both"})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"expired", "negative", "zero"} {
		if got[n].Lock != nil {
			t.Errorf("%s: %+v, want no lock", n, got[n].Lock)
		}
	}
	if l := got["locked"].Lock; l == nil || l.Reason != domain.LockFailedLogins || l.Mark != "lockoutTime=134406099710850180" {
		t.Errorf("locked: %+v", l)
	}
	l := got["both"].Lock
	if l == nil || l.Reason != domain.LockAdmin || l.Mark != "userAccountControl=514 lockoutTime=134406099710850180" {
		t.Fatalf("disabled and locked out: %+v", l)
	}
	// Lifting both (staff's decision) clears both in one modify.
	if err := d.Unlock(context.Background(), org, "both", *l); err != nil {
		t.Fatalf("Unlock both: %v", err)
	}
	dn := "uid=both," + orgDN
	if uac, lt := s.Attr(t, dn, "userAccountControl"), s.Attr(t, dn, "lockoutTime"); uac[0] != "512" || lt[0] != "0" {
		t.Fatalf("after Unlock: userAccountControl %q, lockoutTime %q", uac, lt)
	}
	add("garbage", map[string][]string{"msDS-User-Account-Control-Computed": {"16"}})
	s.Set(t, "uid=garbage,"+orgDN, "userAccountControl") // no userAccountControl
	if err := d.Lock(context.Background(), org, "garbage", "x"); err == nil || !strings.Contains(err.Error(), "userAccountControl") {
		t.Fatalf("Lock without userAccountControl: %v", err)
	}
	if err := d.Unlock(context.Background(), org, "locked", domain.Lock{Reason: domain.LockFailedLogins, Mark: "lockoutTime=x"}); err == nil {
		t.Fatal("Unlock with a garbage mark")
	}
}

func TestUnicodePwd(t *testing.T) {
	got := unicodePwd("pä€")
	want := utf16.Encode([]rune(`"pä€"`))
	if len(got) != 2*len(want) {
		t.Fatalf("length %d", len(got))
	}
	for i, r := range want {
		if uint16(got[2*i])|uint16(got[2*i+1])<<8 != r {
			t.Fatalf("unit %d", i)
		}
	}
}

func TestFileTime(t *testing.T) {
	if got := fileTime(134406099710850180); got.Year() != 2026 || got.Month() != 12 {
		t.Fatalf("fileTime: %v", got)
	}
	if got := fileTime(116444736000000000); !got.Equal(time.Unix(0, 0)) {
		t.Fatalf("the Unix epoch as FILETIME: %v", got)
	}
}

// TestOpen: precise errors for bad configurations.
func TestOpen(t *testing.T) {
	good := Config{URL: "ldap://127.0.0.1", BindDN: "cn=svc,dc=x", BindPassword: "secret-pw", BaseDN: "ou={org},dc=x"}
	cases := []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"bad scheme", func(c *Config) { c.URL = "http://x" }, `scheme "http"`},
		{"no url", func(c *Config) { c.URL = "" }, "url is missing"},
		{"path in url", func(c *Config) { c.URL = "ldap://x/dc=x" }, "only scheme, host and port"},
		{"no host", func(c *Config) { c.URL = "ldap://:389" }, "no host"},
		{"starttls over ldaps", func(c *Config) { c.URL, c.StartTLS = "ldaps://x", true }, "start_tls with an ldaps:// url"},
		{"no username", func(c *Config) { c.UserFilter = "(uid=jsmith)" }, "has no {username}"},
		{"unparenthesised filter", func(c *Config) { c.UserFilter = "uid={username}" }, "parenthesised"},
		{"bad filter", func(c *Config) { c.UserFilter = "(&(uid={username})" }, "user_filter"},
		{"unreadable ca", func(c *Config) { c.URL, c.CAFile = "ldaps://x", "/nonexistent/ca.pem" }, "ca_file"},
		{"ca over plain", func(c *Config) { c.CAFile = "/etc/hostname" }, "ca_file is set but the connection is plain"},
		{"ca not pem", func(c *Config) { c.URL, c.CAFile = "ldaps://x", "/etc/hostname" }, "no PEM certificate"},
		{"bad server", func(c *Config) { c.Server = "novell" }, `server "novell"`},
		{"no bind dn", func(c *Config) { c.BindDN = "" }, "bind_dn is missing"},
		{"bad bind dn", func(c *Config) { c.BindDN = "svc" }, "bind_dn"},
		{"no password", func(c *Config) { c.BindPassword = "" }, "bind_password is missing"},
		{"no base", func(c *Config) { c.BaseDN = "" }, "base_dn is missing"},
		{"bad base", func(c *Config) { c.BaseDN = "ou={org},,x" }, "base_dn"},
		{"bad attribute", func(c *Config) { c.UsernameAttribute = "u id" }, "username_attribute"},
		{"policy for AD", func(c *Config) { c.Server, c.DefaultPolicyDN = ActiveDirectory, "cn=p,dc=x" }, "default_policy_dn"},
		{"negative timeout", func(c *Config) { c.Timeout = -time.Second }, "timeout"},
		{"pool", func(c *Config) { c.PoolSize = 1000 }, "pool_size"},
	}
	for _, tc := range cases {
		c := good
		tc.mod(&c)
		_, err := Open("corp", c)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), `"corp"`) {
			t.Errorf("%s: %v, want an error with %q", tc.name, err, tc.want)
		} else if strings.Contains(err.Error(), "secret-pw") {
			t.Errorf("%s: the password in %v", tc.name, err)
		}
	}
	d, err := Open("corp", good)
	if err != nil {
		t.Fatalf("a good config: %v", err)
	}
	if d.cfg.UserFilter != "(uid={username})" || d.cfg.Timeout != DefaultTimeout || !good.PerOrg() {
		t.Fatalf("defaults: %+v", d.cfg)
	}
	ad, _ := Open("ad", Config{Server: ActiveDirectory, URL: "ldaps://dc", BindDN: "cn=a,dc=x", BindPassword: "p", BaseDN: "dc=x"})
	if ad.cfg.UserFilter != "(sAMAccountName={username})" || ad.cfg.UsernameAttribute != "sAMAccountName" || ad.cfg.PerOrg() {
		t.Fatalf("AD defaults: %+v", ad.cfg)
	}
}

// TestFilterTemplates: {username} and {org} are escaped, and a value
// cannot inject the other placeholder.
func TestFilterTemplates(t *testing.T) {
	got := expandFilter("(&(uid={username})(o={org}))", "ac*me", "*)(uid={org}")
	if want := `(&(uid=\2a\29\28uid={org})(o=ac\2ame))`; got != want {
		t.Fatalf("expandFilter: %s, want %s", got, want)
	}
	if got := expandDN("ou={org},dc=x", "a,b+c"); got != `ou=a\,b\+c,dc=x` {
		t.Fatalf("expandDN: %s", got)
	}
	if got := listFilter("(&(uid={username})(o={org}))", "acme"); got != "(&(uid=*)(o=acme))" {
		t.Fatalf("listFilter: %s", got)
	}
}
