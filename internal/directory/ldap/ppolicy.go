package ldap

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
	"github.com/unlockd/unlockd/internal/domain"
)

// AdminLockTime is the pwdAccountLockedTime of a deliberate lock: the
// ppolicy overlay never lifts it by itself.
const AdminLockTime = "000001010000Z"

const (
	attrLockedTime = "pwdAccountLockedTime"
	attrPolicy     = "pwdPolicySubentry"
	attrDuration   = "pwdLockoutDuration"
)

// ppolicy is OpenLDAP with the password-policy overlay.
type ppolicy struct{}

func (ppolicy) attrs() []string { return []string{attrLockedTime, attrPolicy} }

func (ppolicy) lockedFilter() string { return "(" + attrLockedTime + "=*)" }

func (ppolicy) lockOf(e *goldap.Entry) (*domain.Lock, error) {
	vals := e.GetEqualFoldAttributeValues(attrLockedTime)
	switch {
	case len(vals) == 0:
		return nil, nil
	case len(vals) > 1:
		return nil, fmt.Errorf("%d values of %s %q; want one", len(vals), attrLockedTime, vals)
	case vals[0] == AdminLockTime:
		return &domain.Lock{Reason: domain.LockAdmin, Mark: vals[0]}, nil
	}
	at, err := parseGeneralizedTime(vals[0])
	if err != nil {
		return nil, fmt.Errorf("%s %q: %w", attrLockedTime, vals[0], err)
	}
	return &domain.Lock{Reason: domain.LockFailedLogins, At: at, By: domain.ActorSystem, Mark: vals[0]}, nil
}

func (ppolicy) unlock(e *goldap.Entry, was domain.Lock) (*goldap.ModifyRequest, error) {
	// The exact value looked up: the server refuses the delete with
	// noSuchAttribute if the lock is another one now. ppolicy removes
	// pwdFailureTime itself (a client may not: NO-USER-MODIFICATION).
	req := goldap.NewModifyRequest(e.DN, nil)
	req.Delete(attrLockedTime, []string{was.Mark})
	return req, nil
}

func (ppolicy) lock(e *goldap.Entry) (*goldap.ModifyRequest, error) {
	if e.GetEqualFoldAttributeValue(attrLockedTime) == AdminLockTime {
		return nil, nil
	}
	req := goldap.NewModifyRequest(e.DN, nil)
	req.Replace(attrLockedTime, []string{AdminLockTime})
	return req, nil
}

func (ppolicy) setPassword(c *goldap.Conn, dn, password string) error {
	_, err := c.PasswordModify(goldap.NewPasswordModifyRequest(dn, "", password))
	return err
}

// expire sets Expires of failed-login locks to the lock time plus the
// policy's pwdLockoutDuration, when it has one: the entry's
// pwdPolicySubentry, else the configured default policy. A policy that
// does not exist applies no expiry (ppolicy ignores it too).
func (ppolicy) expire(ctx context.Context, d *Directory, found map[string]*account) error {
	durations := map[string]time.Duration{}
	for _, a := range found {
		l := a.user.Lock
		if l == nil || l.Reason != domain.LockFailedLogins {
			continue
		}
		dn := a.entry.GetEqualFoldAttributeValue(attrPolicy)
		if dn == "" {
			dn = d.cfg.DefaultPolicyDN
		}
		if dn == "" {
			continue
		}
		dur, ok := durations[dn]
		if !ok {
			var err error
			if dur, err = d.lockoutDuration(ctx, dn); err != nil {
				return err
			}
			durations[dn] = dur
		}
		if dur > 0 {
			l.Expires = l.At.Add(dur)
		}
	}
	return nil
}

// lockoutDuration reads a policy's pwdLockoutDuration; 0 for none.
func (d *Directory) lockoutDuration(ctx context.Context, policyDN string) (time.Duration, error) {
	req := goldap.NewSearchRequest(policyDN, goldap.ScopeBaseObject, goldap.NeverDerefAliases, 1, d.timeLimit(), false,
		"(objectClass=*)", []string{attrDuration}, nil)
	var v string
	err := d.with(ctx, true, func(c *goldap.Conn) error {
		res, err := c.Search(req)
		if isCode(err, goldap.LDAPResultNoSuchObject) {
			return nil
		}
		if err != nil {
			return d.classifyOn(c, "read the password policy "+policyDN, err)
		}
		if len(res.Entries) == 1 {
			v = res.Entries[0].GetEqualFoldAttributeValue(attrDuration)
		}
		return nil
	})
	if err != nil || v == "" {
		return 0, err
	}
	secs, err := strconv.ParseInt(v, 10, 64)
	if err != nil || secs < 0 || secs > 100*365*24*3600 {
		return 0, fmt.Errorf("ldap %s: password policy %s: %s %q is not a number of seconds", d.name, policyDN, attrDuration, v)
	}
	return time.Duration(secs) * time.Second, nil
}

// parseGeneralizedTime reads an RFC 4517 GeneralizedTime such as
// 20261201144508Z or 20261201144508.037269Z or 2026120114+0100.
func parseGeneralizedTime(s string) (time.Time, error) {
	main, zone := s, ""
	if i := strings.IndexAny(s, "Z+-"); i >= 0 {
		main, zone = s[:i], s[i:]
	}
	frac := ""
	if i := strings.IndexAny(main, ".,"); i >= 0 {
		main, frac = main[:i], "."+main[i+1:]
	}
	layouts := map[int]string{10: "2006010215", 12: "200601021504", 14: "20060102150405"}
	layout, ok := layouts[len(main)]
	if !ok || zone == "" || (frac != "" && len(main) != 14) {
		return time.Time{}, errors.New("not a generalized time")
	}
	t, err := time.Parse(layout+"Z0700", main+frac+zone)
	if err != nil {
		return time.Time{}, errors.New("not a generalized time")
	}
	return t.UTC(), nil
}
