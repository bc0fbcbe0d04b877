package ldap

import (
	"context"
	"fmt"
	"sort"

	goldap "github.com/go-ldap/ldap/v3"
	"github.com/unlockd/unlockd/internal/domain"
)

// Unlock lifts the lock was, and only it, with one conditional modify.
// If the account's lock is another one, it returns domain.ErrLockChanged;
// if there is none, domain.ErrNotLocked; both change nothing.
func (d *Directory) Unlock(ctx context.Context, org domain.Org, username string, was domain.Lock) error {
	if was.Mark == "" {
		return fmt.Errorf("ldap %s: unlock %s: the lock has no mark (was it looked up in this directory?)", d.name, username)
	}
	a, err := d.one(ctx, org, username)
	if err != nil {
		return err
	}
	if err := sameLock(a.user.Lock, was); err != nil {
		return err
	}
	return d.lift(ctx, org, username, a, was)
}

// lift sends the conditional modify that lifts was from a's entry; the
// server refuses it if the lock changed after a was read.
func (d *Directory) lift(ctx context.Context, org domain.Org, username string, a *account, was domain.Lock) error {
	req, err := d.kind.unlock(a.entry, was)
	if err != nil {
		return fmt.Errorf("ldap %s: unlock %s: %w", d.name, username, err)
	}
	err = d.modify(ctx, "unlock "+username, req)
	if isCode(err, goldap.LDAPResultNoSuchAttribute) {
		// The value looked up is gone: someone changed the lock in between.
		a, rerr := d.one(ctx, org, username)
		if rerr != nil {
			return rerr
		}
		if a.user.Lock == nil {
			return domain.ErrNotLocked
		}
		return domain.ErrLockChanged
	}
	return err
}

// sameLock compares the lock now with the one looked up.
func sameLock(now *domain.Lock, was domain.Lock) error {
	switch {
	case now == nil:
		return domain.ErrNotLocked
	case now.Mark != was.Mark || now.Reason != was.Reason:
		return domain.ErrLockChanged
	}
	return nil
}

// Lock sets an admin lock. The note is not written to the directory: it
// stays in unlockd's audit. Locking a user already admin-locked is a
// no-op.
func (d *Directory) Lock(ctx context.Context, org domain.Org, username, note string) error {
	for attempt := 0; ; attempt++ {
		a, err := d.one(ctx, org, username)
		if err != nil {
			return err
		}
		req, err := d.kind.lock(a.entry)
		if err != nil || req == nil {
			return err
		}
		err = d.modify(ctx, "lock "+username, req)
		if isCode(err, goldap.LDAPResultNoSuchAttribute) && attempt == 0 {
			continue // changed in between: read again, once
		}
		return err
	}
}

func (d *Directory) modify(ctx context.Context, what string, req *goldap.ModifyRequest) error {
	return d.with(ctx, false, func(c *goldap.Conn) error {
		return d.classifyOn(c, what, c.Modify(req))
	})
}

// MaxList bounds ListLocked.
const MaxList = 10000

// ListLocked returns up to limit of the org's locked accounts, by
// username.
func (d *Directory) ListLocked(ctx context.Context, org domain.Org, limit int) ([]domain.User, error) {
	if limit <= 0 || limit > MaxList {
		limit = MaxList
	}
	b, err := d.base(org)
	if err != nil {
		return nil, err
	}
	filter := "(&" + listFilter(d.cfg.UserFilter, org.Slug) + d.kind.lockedFilter() + ")"
	// AD's filter also matches lockouts that have expired: ask for more.
	entries, err := d.search(ctx, b, filter, d.attrs(), min(MaxList, 2*limit+10), true)
	if err != nil {
		return nil, err
	}
	found := make(map[string]*account, len(entries))
	for _, e := range entries {
		name := e.GetEqualFoldAttributeValue(d.cfg.UsernameAttribute)
		if name == "" || found[name] != nil {
			continue
		}
		u, err := d.user(org, name, e)
		if err != nil {
			return nil, err
		}
		if u.Lock != nil {
			found[name] = &account{entry: e, user: u}
		}
	}
	if err := d.expire(ctx, found); err != nil {
		return nil, err
	}
	out := make([]domain.User, 0, len(found))
	for _, a := range found {
		out = append(out, a.user)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Username < out[j].Username })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// SetPassword sets the account's password. It refuses a connection
// without TLS: a password never crosses the network in clear.
func (d *Directory) SetPassword(ctx context.Context, org domain.Org, username, password string) error {
	if d.ep.tls == nil {
		return fmt.Errorf("ldap %s: set the password of %s: refused over plain ldap://; use an ldaps:// url or start_tls", d.name, username)
	}
	if password == "" {
		return fmt.Errorf("ldap %s: set the password of %s: empty password", d.name, username)
	}
	a, err := d.one(ctx, org, username)
	if err != nil {
		return err
	}
	return d.with(ctx, false, func(c *goldap.Conn) error {
		return d.classifyOn(c, "set the password of "+username, d.kind.setPassword(c, a.entry.DN, password))
	})
}
