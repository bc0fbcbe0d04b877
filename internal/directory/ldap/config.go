package ldap

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
)

// Server kinds.
const (
	OpenLDAP        = "openldap"
	ActiveDirectory = "active_directory"
)

// Defaults.
const (
	DefaultTimeout  = 10 * time.Second
	DefaultPoolSize = 4
)

// Config is one ldap directory's settings. Templates take {org}, the
// org's slug; UserFilter also takes {username}; both are escaped for
// where they land (RFC 4514 in BaseDN, RFC 4515 in UserFilter).
type Config struct {
	// Server is OpenLDAP (the default) or ActiveDirectory.
	Server string
	// URL is ldap://host[:port] or ldaps://host[:port].
	URL string
	// StartTLS upgrades an ldap:// connection before binding.
	StartTLS bool
	// CAFile is a PEM file of the CAs to trust for TLS; empty trusts the
	// system's.
	CAFile string
	// BindDN and BindPassword are the service account that reads
	// accounts and writes their locks and passwords.
	BindDN       string
	BindPassword string
	// BaseDN is where an org's users are searched, e.g.
	// "ou={org},dc=example,dc=com".
	BaseDN string
	// UserFilter finds one account, e.g. "(uid={username})" (the
	// default for OpenLDAP) or "(sAMAccountName={username})" (for AD).
	UserFilter string
	// UsernameAttribute holds the username in an entry: uid (OpenLDAP)
	// or sAMAccountName (AD) by default.
	UsernameAttribute string
	// DefaultPolicyDN is the ppolicy overlay's default policy
	// (ppolicy_default), read for the lockout duration of entries without
	// pwdPolicySubentry; empty means such locks never expire by
	// themselves as far as unlockd knows. OpenLDAP only.
	DefaultPolicyDN string
	// Timeout bounds every network step: connect, TLS, bind, each
	// request. Default DefaultTimeout.
	Timeout time.Duration
	// PoolSize bounds the connections held open. Default DefaultPoolSize.
	PoolSize int
}

// PerOrg reports whether the configuration separates orgs: {org} in the
// base DN or the filter. A directory shared by several orgs needs it.
func (c Config) PerOrg() bool {
	return strings.Contains(c.BaseDN, "{org}") || strings.Contains(c.UserFilter, "{org}")
}

// withDefaults fills the empty fields.
func (c Config) withDefaults() Config {
	if c.Server == "" {
		c.Server = OpenLDAP
	}
	if c.UserFilter == "" {
		c.UserFilter = "(uid={username})"
		if c.Server == ActiveDirectory {
			c.UserFilter = "(sAMAccountName={username})"
		}
	}
	if c.UsernameAttribute == "" {
		c.UsernameAttribute = "uid"
		if c.Server == ActiveDirectory {
			c.UsernameAttribute = "sAMAccountName"
		}
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.PoolSize == 0 {
		c.PoolSize = DefaultPoolSize
	}
	return c
}

// endpoint is the parsed URL.
type endpoint struct {
	addr    string // host:port
	host    string
	ldaps   bool
	tls     *tls.Config // nil for plain ldap:// without StartTLS
	display string      // the URL, for errors
}

// validate checks c (defaults applied) and returns every problem.
func (c Config) validate() (endpoint, error) {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.Server != OpenLDAP && c.Server != ActiveDirectory {
		bad("server %q: want %q or %q", c.Server, OpenLDAP, ActiveDirectory)
	}
	ep, err := parseURL(c.URL)
	if err != nil {
		errs = append(errs, err)
	}
	if c.StartTLS && ep.ldaps {
		bad("start_tls with an ldaps:// url: the connection is TLS already; use one or the other")
	}
	if c.BindDN == "" {
		bad("bind_dn is missing: unlockd binds as a service account")
	} else if _, err := goldap.ParseDN(c.BindDN); err != nil {
		bad("bind_dn %q is not a DN: %v", c.BindDN, err)
	}
	if c.BindPassword == "" {
		bad("bind_password is missing")
	}
	if c.BaseDN == "" {
		bad("base_dn is missing")
	} else if _, err := goldap.ParseDN(expandDN(c.BaseDN, "sample-org")); err != nil {
		bad("base_dn %q is not a DN: %v", c.BaseDN, err)
	}
	if !strings.Contains(c.UserFilter, "{username}") {
		bad("user_filter %q has no {username}", c.UserFilter)
	} else if f := expandFilter(c.UserFilter, "sample-org", "sample-user"); !strings.HasPrefix(f, "(") {
		bad("user_filter %q: want a parenthesised filter such as (uid={username})", c.UserFilter)
	} else if _, err := goldap.CompileFilter(f); err != nil {
		bad("user_filter %q: %v", c.UserFilter, err)
	}
	if !validAttr(c.UsernameAttribute) {
		bad("username_attribute %q is not an attribute name", c.UsernameAttribute)
	}
	if c.DefaultPolicyDN != "" {
		if c.Server != OpenLDAP {
			bad("default_policy_dn applies to server %q only", OpenLDAP)
		} else if _, err := goldap.ParseDN(c.DefaultPolicyDN); err != nil {
			bad("default_policy_dn %q is not a DN: %v", c.DefaultPolicyDN, err)
		}
	}
	if c.Timeout < 0 {
		bad("timeout %v is negative", c.Timeout)
	}
	if c.PoolSize < 0 || c.PoolSize > 64 {
		bad("pool_size %d: want 1 to 64", c.PoolSize)
	}
	if ep.ldaps || c.StartTLS {
		ep.tls = &tls.Config{ServerName: ep.host, MinVersion: tls.VersionTLS12}
		if c.CAFile != "" {
			pool, err := readCAFile(c.CAFile)
			if err != nil {
				errs = append(errs, err)
			}
			ep.tls.RootCAs = pool
		}
	} else if c.CAFile != "" {
		bad("ca_file is set but the connection is plain: use an ldaps:// url or start_tls")
	}
	return ep, errors.Join(errs...)
}

func parseURL(raw string) (endpoint, error) {
	if raw == "" {
		return endpoint{}, errors.New("url is missing: want ldap://host[:port] or ldaps://host[:port]")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return endpoint{}, fmt.Errorf("url %q: %v", raw, err)
	}
	ep := endpoint{display: u.Scheme + "://" + u.Host}
	port := "389"
	switch u.Scheme {
	case "ldap":
	case "ldaps":
		ep.ldaps, port = true, "636"
	default:
		return endpoint{}, fmt.Errorf("url %q: scheme %q, want ldap or ldaps", raw, u.Scheme)
	}
	if u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return endpoint{}, fmt.Errorf("url %q: want only scheme, host and port (base DN and bind DN have keys of their own)", raw)
	}
	ep.host = u.Hostname()
	if ep.host == "" {
		return endpoint{}, fmt.Errorf("url %q has no host", raw)
	}
	if p := u.Port(); p != "" {
		port = p
	}
	ep.addr = net.JoinHostPort(ep.host, port)
	return ep, nil
}

func readCAFile(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("ca_file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("ca_file %s holds no PEM certificate", path)
	}
	return pool, nil
}

func validAttr(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && (r >= '0' && r <= '9' || r == '-')
		if !ok {
			return false
		}
	}
	return true
}

// expandDN fills {org} in a DN template, DN-escaped.
func expandDN(tmpl, org string) string {
	return strings.ReplaceAll(tmpl, "{org}", goldap.EscapeDN(org))
}

// expandFilter fills {org} and {username} in a filter template, each
// escaped per RFC 4515, in one pass so that a value cannot inject the
// other placeholder.
func expandFilter(tmpl, org, username string) string {
	return strings.NewReplacer("{org}", goldap.EscapeFilter(org), "{username}", goldap.EscapeFilter(username)).Replace(tmpl)
}

// listFilter is the user filter matching every username of the org.
func listFilter(tmpl, org string) string {
	return strings.NewReplacer("{org}", goldap.EscapeFilter(org), "{username}", "*").Replace(tmpl)
}
