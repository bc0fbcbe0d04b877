package sqltable

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/crypto/bcrypt"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/password"
)

// maxRowsPerUsername bounds what one username's lookup may return; rows
// that differ from it only in case (a case-insensitive collation) are read
// and dropped.
const maxRowsPerUsername = 100

// Lookup runs the lookup statement once per distinct username and returns
// the accounts whose username column is exactly the one asked for (so a
// case-insensitive collation cannot answer for another account). Two such
// rows for one username are a permanent error naming it.
func (d *Directory) Lookup(ctx context.Context, org domain.Org, usernames []string) (map[string]domain.User, error) {
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	out := make(map[string]domain.User, len(usernames))
	for _, name := range usernames {
		if _, done := out[name]; done || name == "" {
			continue
		}
		u, found, err := d.lookupOne(ctx, org, name)
		if err != nil {
			return nil, err
		}
		if found {
			out[name] = u
		}
	}
	return out, nil
}

func (d *Directory) lookupOne(ctx context.Context, org domain.Org, username string) (domain.User, bool, error) {
	rows, err := d.lookup.stmt.QueryContext(ctx, d.lookup.args(map[string]any{"org": org.Slug, "username": username})...)
	if err != nil {
		return domain.User{}, false, d.fail("lookup", err)
	}
	defer rows.Close()
	recs, err := scanRecords(rows, maxRowsPerUsername+1)
	if err != nil {
		return domain.User{}, false, d.fail("lookup", err)
	}
	if len(recs) > maxRowsPerUsername {
		return domain.User{}, false, fmt.Errorf("directory %q: lookup of %q returned more than %d rows", d.name, username, maxRowsPerUsername)
	}
	var match []domain.User
	for _, r := range recs {
		u, err := d.user(r)
		if err != nil {
			return domain.User{}, false, fmt.Errorf("directory %q: lookup of %q: %w", d.name, username, err)
		}
		if u.Username == username {
			match = append(match, u)
		}
	}
	switch len(match) {
	case 0:
		return domain.User{}, false, nil
	case 1:
		return match[0], true, nil
	}
	return domain.User{}, false, fmt.Errorf("directory %q: %d accounts for username %q in org %q; nothing is done for it", d.name, len(match), username, org.Slug)
}

// Unlock runs the unlock statement, in a transaction, with the lock that
// Lookup returned (:locked_at, :lock_reason). One row affected is an
// unlock. None: the account is looked up again, and the answer is
// ErrNotLocked, ErrLockChanged, or a permanent error when the lock is as
// it was (the statement's WHERE does not match it). More than one: the
// transaction is rolled back and the error is permanent.
func (d *Directory) Unlock(ctx context.Context, org domain.Org, username string, was domain.Lock) error {
	at, reason, err := parseMark(was.Mark)
	if err != nil {
		return fmt.Errorf("directory %q: unlock %q: %w", d.name, username, err)
	}
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	n, err := d.execOne(ctx, d.unlock, map[string]any{
		"org": org.Slug, "username": username, "locked_at": at, "lock_reason": reason, "now": d.Now().UTC(),
	})
	if err != nil || n == 1 {
		return err
	}
	if n > 1 {
		return d.tooMany("unlock", username, n)
	}
	u, found, err := d.lookupOne(ctx, org, username)
	switch {
	case err != nil:
		return err
	case !found:
		return fmt.Errorf("directory %q: unlock %q: %w", d.name, username, domain.ErrNotFound)
	case u.Lock == nil:
		return domain.ErrNotLocked
	case u.Lock.Mark != was.Mark:
		return domain.ErrLockChanged
	}
	return fmt.Errorf("directory %q: the unlock statement matched no row for %q although its lock (%s) is as looked up: check the statement's WHERE clause", d.name, username, was.Mark)
}

// Lock runs the lock statement with :note. One row affected is a lock;
// none is ErrNotFound for a missing account, else a conflict; more than
// one is rolled back.
func (d *Directory) Lock(ctx context.Context, org domain.Org, username, note string) error {
	if d.lock == nil {
		return domain.ErrUnsupported
	}
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	return d.changeOne(ctx, org, d.lock, username, map[string]any{"note": note})
}

// SetPassword hashes pw with the configured scheme and runs the
// set_password statement with :password_hash, under Lock's rules.
func (d *Directory) SetPassword(ctx context.Context, org domain.Org, username, pw string) error {
	if d.setPassword == nil {
		return domain.ErrUnsupported
	}
	var hash string
	var err error
	if d.cfg.PasswordScheme == Bcrypt {
		var b []byte
		b, err = bcrypt.GenerateFromPassword([]byte(pw), bcrypt.DefaultCost)
		hash = string(b)
	} else {
		hash, err = password.Hash(pw, password.Default)
	}
	if err != nil {
		return fmt.Errorf("directory %q: set password of %q: %w", d.name, username, err)
	}
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	return d.changeOne(ctx, org, d.setPassword, username, map[string]any{"password_hash": hash})
}

// changeOne runs p for one account with the common values and extra.
func (d *Directory) changeOne(ctx context.Context, org domain.Org, p *prepared, username string, extra map[string]any) error {
	values := map[string]any{"org": org.Slug, "username": username, "now": d.Now().UTC()}
	for k, v := range extra {
		values[k] = v
	}
	n, err := d.execOne(ctx, p, values)
	if err != nil || n == 1 {
		return err
	}
	if n > 1 {
		return d.tooMany(p.name, username, n)
	}
	_, found, err := d.lookupOne(ctx, org, username)
	switch {
	case err != nil:
		return err
	case !found:
		return fmt.Errorf("directory %q: %s %q: %w", d.name, p.name, username, domain.ErrNotFound)
	}
	return domain.Errorf(domain.CodeConflict, "directory %q: the %s statement changed no row for %q", d.name, p.name, username)
}

// execOne runs p in a transaction that it commits only when exactly one
// row was affected, and returns the count.
func (d *Directory) execOne(ctx context.Context, p *prepared, values map[string]any) (int64, error) {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, d.fail(p.name, err)
	}
	defer tx.Rollback()
	res, err := tx.StmtContext(ctx, p.stmt).ExecContext(ctx, p.args(values)...)
	if err != nil {
		return 0, d.fail(p.name, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, d.fail(p.name, err)
	}
	if n != 1 {
		return n, nil // rolled back by the deferred call
	}
	if err := tx.Commit(); err != nil {
		return 0, d.fail(p.name+": commit", err)
	}
	return 1, nil
}

func (d *Directory) tooMany(op, username string, n int64) error {
	return fmt.Errorf("directory %q: the %s statement matched %d rows for %q; rolled back, nothing changed", d.name, op, n, username)
}

// ListLocked runs the list statement (with :limit, when it takes it) and
// returns up to limit of its locked rows, by username.
func (d *Directory) ListLocked(ctx context.Context, org domain.Org, limit int) ([]domain.User, error) {
	if d.list == nil {
		return nil, domain.ErrUnsupported
	}
	if limit < 1 {
		return nil, domain.Errorf(domain.CodeInvalid, "list limit %d must be at least 1", limit)
	}
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	rows, err := d.list.stmt.QueryContext(ctx, d.list.args(map[string]any{"org": org.Slug, "limit": int64(limit)})...)
	if err != nil {
		return nil, d.fail("list", err)
	}
	defer rows.Close()
	recs, err := scanRecords(rows, limit)
	if err != nil {
		return nil, d.fail("list", err)
	}
	users := make([]domain.User, 0, len(recs))
	seen := map[string]bool{}
	for _, r := range recs {
		u, err := d.user(r)
		if err != nil {
			return nil, fmt.Errorf("directory %q: list: %w", d.name, err)
		}
		if seen[u.Username] {
			return nil, fmt.Errorf("directory %q: list: username %q returned twice", d.name, u.Username)
		}
		seen[u.Username] = true
		if u.Lock != nil {
			users = append(users, u)
		}
	}
	slices.SortFunc(users, func(a, b domain.User) int { return strings.Compare(a.Username, b.Username) })
	return users, nil
}
