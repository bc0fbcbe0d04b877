package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/unlockd/unlockd/internal/domain"
)

const insertAudit = `INSERT INTO audit (org_id, actor, action, target, source, note, at)
	VALUES (?, ?, ?, ?, ?, ?, ?)`

// audit writes one entry inside the caller's transaction, stamped now.
func (s *Store) audit(ctx context.Context, tx *sqlx.Tx, e domain.AuditEntry) error {
	st, err := s.stmtFor(ctx, tx, insertAudit)
	if err != nil {
		return err
	}
	if _, err := st.exec(ctx, nullID(e.OrgID), e.Actor,
		string(e.Action), e.Target, e.Source, e.Note, s.now()); err != nil {
		return fmt.Errorf("store: audit %s %s: %w", e.Action, e.Target, err)
	}
	return nil
}

// AuditFilter narrows ListAudit. Zero fields match everything.
type AuditFilter struct {
	OrgID int64
	// OrgSlug limits the list to one org's entries, by slug.
	OrgSlug string
	// Deleted adds, to an OrgSlug filter, the entries of deleted orgs
	// that had the slug (see DeleteOrg); for staff, whose audit log they
	// stay in. An org's admins never see a former org's entries, though
	// their org may have its slug now.
	Deleted bool
	Target  string
	// BeforeID pages backwards: only entries with a smaller id.
	BeforeID int64
	Limit    int
}

// AuditRecord is an audit entry with the slug of its org, deleted or not
// (empty for entries that concern none).
type AuditRecord struct {
	domain.AuditEntry
	OrgSlug string
}

type auditRow struct {
	ID      int64          `db:"id"`
	OrgID   sql.NullInt64  `db:"org_id"`
	OrgSlug sql.NullString `db:"slug"`
	Actor   string         `db:"actor"`
	Action  string         `db:"action"`
	Target  string         `db:"target"`
	Source  string         `db:"source"`
	Note    string         `db:"note"`
	At      time.Time      `db:"at"`
}

// ListAudit returns audit entries, newest first.
func (s *Store) ListAudit(ctx context.Context, f AuditFilter) ([]domain.AuditEntry, error) {
	recs, err := s.AuditLog(ctx, f)
	out := make([]domain.AuditEntry, len(recs))
	for i, r := range recs {
		out[i] = r.AuditEntry
	}
	return out, err
}

// AuditLog returns audit entries with their org's slug, newest first.
func (s *Store) AuditLog(ctx context.Context, f AuditFilter) ([]AuditRecord, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	q := `SELECT a.id, a.org_id, COALESCE(o.slug, a.org_slug) AS slug, a.actor, a.action, a.target, a.source, a.note, a.at
		FROM audit a LEFT JOIN orgs o ON o.id = a.org_id WHERE 1 = 1`
	var args []any
	if f.OrgID != 0 {
		q += ` AND a.org_id = ?`
		args = append(args, f.OrgID)
	}
	switch {
	case f.OrgSlug != "" && f.Deleted:
		q += ` AND (o.slug = ? OR (a.org_id IS NULL AND a.org_slug = ?))`
		args = append(args, f.OrgSlug, f.OrgSlug)
	case f.OrgSlug != "":
		q += ` AND o.slug = ?`
		args = append(args, f.OrgSlug)
	}
	if f.Target != "" {
		q += ` AND a.target = ?`
		args = append(args, f.Target)
	}
	if f.BeforeID != 0 {
		q += ` AND a.id < ?`
		args = append(args, f.BeforeID)
	}
	q += ` ORDER BY a.id DESC LIMIT ?`
	args = append(args, limitOrDefault(f.Limit))
	var rows []auditRow
	if err := s.db.SelectContext(ctx, &rows, s.db.Rebind(q), args...); err != nil {
		return nil, fmt.Errorf("store: list audit: %w", err)
	}
	out := make([]AuditRecord, len(rows))
	for i, r := range rows {
		out[i] = AuditRecord{OrgSlug: r.OrgSlug.String, AuditEntry: domain.AuditEntry{ID: r.ID, OrgID: r.OrgID.Int64,
			Actor: r.Actor, Action: domain.Action(r.Action), Target: r.Target, Source: r.Source, Note: r.Note, At: r.At.UTC()}}
	}
	return out, nil
}

// MaxLimit caps list sizes.
const MaxLimit = 1000

func limitOrDefault(n int) int {
	switch {
	case n <= 0:
		return 100
	case n > MaxLimit:
		return MaxLimit
	}
	return n
}

// Audit writes entries in one transaction of their own: what a person did
// to an org's accounts in a remote directory, which recorded it itself
// (the web UI's and API's unlock, lock, bulk reset and password, once the
// directory has answered).
func (s *Store) Audit(ctx context.Context, entries ...domain.AuditEntry) error {
	if len(entries) == 0 {
		return nil
	}
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		for _, e := range entries {
			if err := s.audit(ctx, tx, e); err != nil {
				return err
			}
		}
		return nil
	})
}
