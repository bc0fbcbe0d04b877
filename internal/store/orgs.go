package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/unlockd/unlockd/internal/domain"
)

type orgRow struct {
	ID                 int64     `db:"id"`
	Slug               string    `db:"slug"`
	Name               string    `db:"name"`
	MaxFailedLogins    int       `db:"max_failed_logins"`
	LockoutDurationS   int64     `db:"lockout_duration_s"`
	FailureWindowS     int64     `db:"failure_window_s"`
	AutoUnlock         bool      `db:"auto_unlock"`
	MaxRequestsPerHour int       `db:"max_requests_per_hour"`
	MaxUnverified      int       `db:"max_unverified_per_hour"`
	EmailConfirmation  string    `db:"email_confirmation"`
	Directory          string    `db:"directory"`
	CreatedAt          time.Time `db:"created_at"`
}

func (r orgRow) org() domain.Org {
	return domain.Org{
		ID:   r.ID,
		Slug: r.Slug,
		Name: r.Name,
		Policy: domain.Policy{
			MaxFailedLogins:      r.MaxFailedLogins,
			LockoutDuration:      time.Duration(r.LockoutDurationS) * time.Second,
			FailureWindow:        time.Duration(r.FailureWindowS) * time.Second,
			AutoUnlock:           r.AutoUnlock,
			MaxRequestsPerHour:   r.MaxRequestsPerHour,
			MaxUnverifiedPerHour: r.MaxUnverified,
			EmailConfirmation:    domain.ConfirmPolicy(r.EmailConfirmation),
		},
		Directory: r.Directory,
	}
}

const orgColumns = `id, slug, name, max_failed_logins, lockout_duration_s, failure_window_s,
	auto_unlock, max_requests_per_hour, max_unverified_per_hour, email_confirmation, directory, created_at`

const insertOrg = `INSERT INTO orgs (slug, name, max_failed_logins, lockout_duration_s,
	failure_window_s, auto_unlock, max_requests_per_hour, max_unverified_per_hour, email_confirmation, directory, created_at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`

// CreateOrg adds an organisation; its ID is filled in on return. A slug in
// use is a conflict.
func (s *Store) CreateOrg(ctx context.Context, o domain.Org) (domain.Org, error) {
	if err := o.Normalize(); err != nil {
		return domain.Org{}, err
	}
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		o.ID, err = s.createOrg(ctx, tx, o)
		return err
	})
	return o, err
}

func (s *Store) createOrg(ctx context.Context, tx *sqlx.Tx, o domain.Org) (int64, error) {
	p := o.Policy
	id, err := insertID(ctx, tx, insertOrg, o.Slug, o.Name, p.MaxFailedLogins,
		int64(p.LockoutDuration/time.Second), int64(p.FailureWindow/time.Second),
		p.AutoUnlock, p.MaxRequestsPerHour, p.MaxUnverifiedPerHour, string(p.EmailConfirmation), o.Directory, s.now())
	if isUnique(err) {
		return 0, domain.Errorf(domain.CodeConflict, "org %q already exists", o.Slug)
	}
	if err != nil {
		return 0, fmt.Errorf("store: insert org %s: %w", o.Slug, err)
	}
	return id, nil
}

// Org returns the organisation with the given slug, or domain.ErrNotFound.
func (s *Store) Org(ctx context.Context, slug string) (domain.Org, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	return s.orgBySlug(ctx, s.db, slug, "")
}

// queryer is what both *sqlx.DB and *sqlx.Tx offer.
type queryer interface {
	sqlx.QueryerContext
	sqlx.ExecerContext
	Rebind(string) string
}

func (s *Store) orgBySlug(ctx context.Context, q queryer, slug, suffix string) (domain.Org, error) {
	var r orgRow
	err := sqlx.GetContext(ctx, q, &r, q.Rebind(`SELECT `+orgColumns+` FROM orgs WHERE slug = ?`+suffix), slug)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return domain.Org{}, domain.Errorf(domain.CodeNotFound, "org %q not found", slug)
		}
		return domain.Org{}, fmt.Errorf("store: org %s: %w", slug, err)
	}
	return r.org(), nil
}

// Orgs lists every organisation by slug.
func (s *Store) Orgs(ctx context.Context) ([]domain.Org, error) {
	return s.listOrgs(ctx, `SELECT `+orgColumns+` FROM orgs ORDER BY slug`)
}

// OrgFilter pages ListOrgs.
type OrgFilter struct {
	// AfterSlug pages forward: only slugs sorting after it.
	AfterSlug string
	Limit     int
}

// ListOrgs lists organisations by slug, one page at a time.
func (s *Store) ListOrgs(ctx context.Context, f OrgFilter) ([]domain.Org, error) {
	return s.listOrgs(ctx, `SELECT `+orgColumns+` FROM orgs WHERE slug > ? ORDER BY slug LIMIT ?`,
		f.AfterSlug, limitOrDefault(f.Limit))
}

func (s *Store) listOrgs(ctx context.Context, q string, args ...any) ([]domain.Org, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	var rows []orgRow
	if err := s.db.SelectContext(ctx, &rows, s.db.Rebind(q), args...); err != nil {
		return nil, fmt.Errorf("store: list orgs: %w", err)
	}
	orgs := make([]domain.Org, len(rows))
	for i, r := range rows {
		orgs[i] = r.org()
	}
	return orgs, nil
}

const updateOrg = `UPDATE orgs SET name = ?, max_failed_logins = ?, lockout_duration_s = ?,
	failure_window_s = ?, auto_unlock = ?, max_requests_per_hour = ?, max_unverified_per_hour = ?,
	email_confirmation = ?, directory = ? WHERE id = ?`

// UpdateOrg saves an organisation's name, policy and directory whole:
// ChangeOrg with a change that sets all three.
func (s *Store) UpdateOrg(ctx context.Context, o domain.Org, actor, source string) error {
	_, err := s.ChangeOrg(ctx, o.Slug, func(cur *domain.Org) error {
		cur.Name, cur.Policy, cur.Directory = o.Name, o.Policy, o.Directory
		return nil
	}, actor, source)
	return err
}

// ChangeOrg loads the organisation under a row lock, lets change modify its
// name, policy and directory, checks the result (domain.Org.Normalize) and saves it
// with an audit entry, all in one transaction, so that concurrent partial
// updates never lose each other's fields. It returns the saved
// organisation; change's error, or an invalid result, writes nothing.
func (s *Store) ChangeOrg(ctx context.Context, slug string, change func(*domain.Org) error, actor, source string) (domain.Org, error) {
	var out domain.Org
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		cur, err := s.orgBySlug(ctx, tx, slug, s.forUpdate())
		if err != nil {
			return err
		}
		o := cur
		if err := change(&o); err != nil {
			return err
		}
		o.ID, o.Slug = cur.ID, cur.Slug
		if err := o.Normalize(); err != nil {
			return err
		}
		p := o.Policy
		if _, err := tx.ExecContext(ctx, tx.Rebind(updateOrg), o.Name, p.MaxFailedLogins,
			int64(p.LockoutDuration/time.Second), int64(p.FailureWindow/time.Second),
			p.AutoUnlock, p.MaxRequestsPerHour, p.MaxUnverifiedPerHour, string(p.EmailConfirmation), o.Directory, cur.ID); err != nil {
			return fmt.Errorf("store: update org %s: %w", slug, err)
		}
		out = o
		return s.audit(ctx, tx, domain.AuditEntry{OrgID: cur.ID, Actor: actor, Action: domain.ActionPolicyChange,
			Target: slug, Source: source, Note: policyNote(p) + " directory=" + o.Directory})
	})
	return out, err
}

func policyNote(p domain.Policy) string {
	return fmt.Sprintf("max_failed_logins=%d lockout_duration=%s failure_window=%s auto_unlock=%t max_requests_per_hour=%d max_unverified_per_hour=%d email_confirmation=%s",
		p.MaxFailedLogins, p.LockoutDuration, p.FailureWindow, p.AutoUnlock, p.MaxRequestsPerHour, p.MaxUnverifiedPerHour, p.EmailConfirmation)
}
