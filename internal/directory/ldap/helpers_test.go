package ldap_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/directory/ldap"
	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/ldaptest"
)

var (
	acme   = domain.Org{ID: 1, Slug: "acme", Name: "Acme"}
	globex = domain.Org{ID: 2, Slug: "globex", Name: "Globex"}
)

// modes are the three ways to reach the server.
var modes = []string{"plain", "starttls", "ldaps"}

// config is the service account's configuration for s in mode.
func config(s *ldaptest.Server, mode string) ldap.Config {
	c := ldap.Config{
		URL:             s.URL(),
		BindDN:          ldaptest.ServiceDN,
		BindPassword:    ldaptest.ServicePassword,
		BaseDN:          "ou={org}," + ldaptest.Suffix,
		DefaultPolicyDN: ldaptest.DefaultPolicyDN,
		Timeout:         5 * time.Second,
	}
	return withMode(c, mode, s.LDAPSURL(), s.CAFile())
}

// withMode sets c (a plain ldap:// configuration) to reach the server in
// mode: plain, starttls or ldaps (at ldapsURL), trusting caFile.
func withMode(c ldap.Config, mode, ldapsURL, caFile string) ldap.Config {
	switch mode {
	case "starttls":
		c.StartTLS, c.CAFile = true, caFile
	case "ldaps":
		c.URL, c.CAFile = ldapsURL, caFile
	}
	return c
}

// open opens the directory "corp", closed when the test ends.
func open(t *testing.T, c ldap.Config) *ldap.Directory {
	t.Helper()
	d, err := ldap.Open("corp", c)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// fixture is a server with the orgs acme and globex.
type fixture struct {
	s              *ldaptest.Server
	acmeDN, globex string
}

func setup(t *testing.T) *fixture {
	t.Helper()
	s := ldaptest.Start(t)
	return &fixture{s: s, acmeDN: s.AddOrg(t, "acme"), globex: s.AddOrg(t, "globex")}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// lookup looks up one username and returns its account, or fails.
func lookup(t *testing.T, d *ldap.Directory, org domain.Org, username string) domain.User {
	t.Helper()
	got, err := d.Lookup(ctx(t), org, []string{username})
	if err != nil {
		t.Fatalf("Lookup %s/%s: %v", org.Slug, username, err)
	}
	u, ok := got[username]
	if !ok {
		t.Fatalf("Lookup %s/%s: not found (got %v)", org.Slug, username, got)
	}
	return u
}

// serveTCP runs handle, each in its own goroutine, for every connection
// to a new loopback listener, until the test ends; it returns the
// listener's address.
func serveTCP(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go handle(c)
		}
	}()
	return l.Addr().String()
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: %v, want %v", what, err, want)
	}
}
