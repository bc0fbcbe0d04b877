package demo

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/config"
	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/ldaptest"
)

// ErrNoSlapd is Run's error with DirectoryLDAP when slapd (Debian's slapd
// package, with its ppolicy module) is not installed.
var ErrNoSlapd = errors.New("demo: --directory ldap needs OpenLDAP's slapd with the ppolicy module (apt-get install slapd ldap-utils)")

// Directory kinds the demo can show (Options.Directory).
const (
	DirectoryBuiltin = "builtin"
	DirectoryLDAP    = "ldap"
)

// ldapName is the demo's LDAP directory in the configuration.
const ldapName = "corp"

// ldapDemo is a slapd started for the demo with the org's accounts,
// through internal/ldaptest, the test suite's own slapd harness.
type ldapDemo struct {
	h     *harness
	slapd *ldaptest.Server
	dns   map[string]string // username → entry DN
}

// startLDAP starts slapd with org acme's OU and its users: jsmith and
// rpatel locked by three real failed binds each, mlopez locked by an
// admin (pwdAccountLockedTime 000001010000Z), tlee active.
func startLDAP() (*ldapDemo, error) {
	if !ldaptest.Installed() {
		return nil, ErrNoSlapd
	}
	l := &ldapDemo{h: &harness{}, dns: map[string]string{}}
	err := l.h.do(func() {
		l.slapd = ldaptest.Start(l.h)
		org := l.slapd.AddOrg(l.h, orgSlug)
		for _, u := range users {
			lu := ldaptest.User{Username: u.username, Password: "pw-" + u.username, CN: u.name, Mail: u.username + "@" + orgDomain}
			if u.lock == domain.LockAdmin {
				lu.Attrs = map[string][]string{"pwdAccountLockedTime": {ldaptest.AdminLockTime}}
			}
			l.dns[u.username] = l.slapd.AddUser(l.h, org, lu)
			if u.lock == domain.LockFailedLogins {
				l.slapd.FailBinds(l.h, l.dns[u.username], ldaptest.MaxFailures)
			}
		}
	})
	if err != nil {
		l.close()
		return nil, fmt.Errorf("demo: slapd: %w", err)
	}
	return l, nil
}

// directory is the configuration's entry for the demo's slapd.
func (l *ldapDemo) directory() config.Directory {
	return config.Directory{Name: ldapName, Kind: config.DirectoryLDAP, Server: config.LDAPOpenLDAP, URL: l.slapd.URL(),
		StartTLS: true, CAFile: l.slapd.CAFile(), BindDN: ldaptest.ServiceDN, BindPassword: ldaptest.ServicePassword,
		BaseDN: "ou={org}," + ldaptest.Suffix, UserFilter: "(uid={username})", DefaultPolicyDN: ldaptest.DefaultPolicyDN,
		Timeout: config.Duration(5 * time.Second)}
}

// lockState is how slapd has username now: a fresh search.
func (l *ldapDemo) lockState(username string) (state string, err error) {
	err = l.h.do(func() {
		switch v := l.slapd.Attr(l.h, l.dns[username], "pwdAccountLockedTime"); {
		case len(v) == 0:
			state = "active (no pwdAccountLockedTime)"
		case v[0] == ldaptest.AdminLockTime:
			state = "locked by an admin (pwdAccountLockedTime " + v[0] + ")"
		default:
			state = "locked after failed binds (pwdAccountLockedTime " + v[0] + ")"
		}
	})
	return state, err
}

// close stops slapd and removes its files.
func (l *ldapDemo) close() {
	if l != nil {
		l.h.close()
	}
}

// harness lets the demo call internal/ldaptest, whose helpers take a
// testing.TB, outside a test: it implements the few methods they call
// (Helper, Cleanup, Fatal, Fatalf, Skip, Failed, Logf). A Fatal unwinds
// to do, which returns it as an error. The embedded testing.TB is nil;
// ldaptest calls no other method.
type harness struct {
	testing.TB
	mu       sync.Mutex
	cleanups []func()
	failed   bool
}

// failure is what Fatal panics with, for do to recover.
type failure struct{ msg string }

func (h *harness) Helper()             {}
func (h *harness) Logf(string, ...any) {}
func (h *harness) Failed() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.failed
}
func (h *harness) Cleanup(f func()) {
	h.mu.Lock()
	h.cleanups = append(h.cleanups, f)
	h.mu.Unlock()
}
func (h *harness) Fatal(args ...any)                 { h.fail(fmt.Sprint(args...)) }
func (h *harness) Fatalf(format string, args ...any) { h.fail(fmt.Sprintf(format, args...)) }
func (h *harness) Skip(args ...any)                  { h.fail(fmt.Sprint(args...)) }

func (h *harness) fail(msg string) {
	h.mu.Lock()
	h.failed = true
	h.mu.Unlock()
	panic(failure{msg})
}

// do runs f, turning a Fatal inside it into an error.
func (h *harness) do(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			fl, ok := r.(failure)
			if !ok {
				panic(r)
			}
			err = errors.New(fl.msg)
		}
	}()
	f()
	return nil
}

// close runs the cleanups, last first.
func (h *harness) close() {
	h.mu.Lock()
	cs := h.cleanups
	h.cleanups = nil
	h.mu.Unlock()
	for i := len(cs) - 1; i >= 0; i-- {
		cs[i]()
	}
}

// seeded prints the org and its users, from slapd when it holds them.
func (d *demo) seeded(ctx context.Context) error {
	if d.ldap == nil {
		return d.p.seeded(ctx, d.app.Store)
	}
	d.p.org()
	for _, u := range users {
		state, err := d.ldap.lockState(u.username)
		if err != nil {
			return err
		}
		fmt.Fprintf(d.p.w, "  %-8s %-12s %s\n", u.username, u.name, state)
	}
	d.p.delivering()
	return nil
}
