package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/unlockd/unlockd/internal/address"
	"github.com/unlockd/unlockd/internal/domain"
)

// Operator is a web-UI account of support staff or an org admin.
type Operator struct {
	ID      int64
	Email   string
	Role    domain.Role
	OrgSlug string // empty for staff
	// TOTP reports whether the operator has enrolled a second factor.
	TOTP bool
}

const insertOperator = `INSERT INTO operators (email, role, org_id, password_hash, created_at)
	VALUES (?, ?, ?, ?, ?) RETURNING id`

// AddOperator creates a web-UI account with an already hashed password. Its
// role is staff or admin (domain.ParseOperatorRole), bound to an org as
// domain.Role.CheckOrg says. An address in use (in any case) is a
// conflict.
func (s *Store) AddOperator(ctx context.Context, op Operator, hash, actor, source string) (Operator, error) {
	role, err := domain.ParseOperatorRole(string(op.Role))
	if err != nil {
		return op, err
	}
	if err := role.CheckOrg(op.OrgSlug); err != nil {
		return op, err
	}
	if op.Email, err = address.Check("email", op.Email); err != nil {
		return op, err
	}
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		var orgID int64
		if op.OrgSlug != "" {
			org, err := s.orgBySlug(ctx, tx, op.OrgSlug, "")
			if err != nil {
				return err
			}
			orgID = org.ID
		}
		var err error
		op.ID, err = insertID(ctx, tx, insertOperator, op.Email, string(op.Role), nullID(orgID), hash, s.now())
		if isUnique(err) {
			return domain.Errorf(domain.CodeConflict, "operator %s already exists", op.Email)
		}
		if err != nil {
			return fmt.Errorf("store: insert operator: %w", err)
		}
		return s.audit(ctx, tx, domain.AuditEntry{OrgID: orgID, Actor: actor, Action: domain.ActionOperatorAdd,
			Target: op.Email, Source: source, Note: "role " + string(op.Role)})
	})
	return op, err
}

type operatorRow struct {
	ID           int64          `db:"id"`
	Email        string         `db:"email"`
	Role         string         `db:"role"`
	OrgID        sql.NullInt64  `db:"org_id"`
	OrgSlug      sql.NullString `db:"org_slug"`
	PasswordHash string         `db:"password_hash"`
	TOTPSecret   string         `db:"totp_secret"`
	TOTPLastStep int64          `db:"totp_last_step"`
}

func (r operatorRow) operator() Operator {
	return Operator{ID: r.ID, Email: r.Email, Role: domain.Role(r.Role), OrgSlug: r.OrgSlug.String, TOTP: r.TOTPSecret != ""}
}

const selectOperator = `SELECT o.id, o.email, o.role, o.org_id, g.slug AS org_slug, o.password_hash, o.totp_secret, o.totp_last_step
	FROM operators o LEFT JOIN orgs g ON g.id = o.org_id WHERE lower(o.email) = ?`

func (s *Store) operatorByEmail(ctx context.Context, email string) (operatorRow, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	norm, err := address.Normalize(email)
	if err != nil {
		return operatorRow{}, domain.ErrNotFound
	}
	var r operatorRow
	err = s.db.GetContext(ctx, &r, s.db.Rebind(selectOperator), norm)
	if errors.Is(err, sql.ErrNoRows) {
		return operatorRow{}, domain.ErrNotFound
	}
	if err != nil {
		return operatorRow{}, fmt.Errorf("store: operator: %w", err)
	}
	return r, nil
}
