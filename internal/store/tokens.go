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

// Token is an API token's record; the token itself is never stored.
type Token struct {
	ID      int64
	Name    string
	Role    domain.Role
	OrgSlug string // empty for staff
	// LastUsedAt is when the token was last seen, to the precision the
	// HTTP layer's throttle keeps (see TouchToken); zero if never.
	LastUsedAt time.Time
}

const insertToken = `INSERT INTO api_tokens (name, role, org_id, token_hash, created_at)
	VALUES (?, ?, ?, ?, ?) RETURNING id`

// CreateToken records a token by its hash. Admin and service tokens are
// bound to an org; staff tokens to none.
func (s *Store) CreateToken(ctx context.Context, t Token, hash, actor, source string) (Token, error) {
	var err error
	if t.Name, err = domain.CheckTokenName(t.Name); err != nil {
		return t, err
	}
	if _, err := domain.ParseRole(string(t.Role)); err != nil {
		return t, err
	}
	if err := t.Role.CheckOrg(t.OrgSlug); err != nil {
		return t, err
	}
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		var orgID int64
		if t.OrgSlug != "" {
			org, err := s.orgBySlug(ctx, tx, t.OrgSlug, "")
			if err != nil {
				return err
			}
			orgID = org.ID
		}
		var err error
		t.ID, err = insertID(ctx, tx, insertToken, t.Name, string(t.Role), nullID(orgID), hash, s.now())
		if isUnique(err) && orgID != 0 {
			return domain.Errorf(domain.CodeConflict, "a token named %q already exists in org %q", t.Name, t.OrgSlug)
		}
		if isUnique(err) {
			return domain.Errorf(domain.CodeConflict, "a staff token named %q already exists", t.Name)
		}
		if err != nil {
			return fmt.Errorf("store: insert token: %w", mapErr(err))
		}
		return s.audit(ctx, tx, domain.AuditEntry{OrgID: orgID, Actor: actor, Action: domain.ActionTokenCreate,
			Target: t.Name, Source: source, Note: "role " + string(t.Role)})
	})
	return t, err
}

type tokenRow struct {
	ID         int64        `db:"id"`
	Name       string       `db:"name"`
	Role       string       `db:"role"`
	OrgSlug    *string      `db:"slug"`
	LastUsedAt sql.NullTime `db:"last_used_at"`
}

const selectToken = `SELECT t.id, t.name, t.role, o.slug, t.last_used_at FROM api_tokens t
	LEFT JOIN orgs o ON o.id = t.org_id WHERE t.token_hash = ? AND t.revoked_at IS NULL`

// TokenByHash returns the live (not revoked) token with the given hash, or
// domain.ErrNotFound.
//
// The lookup compares hashes only, in SQL: the token itself never reaches
// the database, so how long the index search takes can tell an attacker
// something about a SHA-256 hash at most, never about a token. That makes
// it constant-time by construction, with no need for subtle.ConstantTimeCompare.
func (s *Store) TokenByHash(ctx context.Context, hash string) (Token, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	var r tokenRow
	st, err := s.prepared(ctx, selectToken)
	if err == nil {
		err = st.GetContext(ctx, &r, hash)
	}
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return Token{}, domain.Errorf(domain.CodeNotFound, "token not found")
		}
		return Token{}, fmt.Errorf("store: token: %w", err)
	}
	t := Token{ID: r.ID, Name: r.Name, Role: domain.Role(r.Role), LastUsedAt: timeOf(r.LastUsedAt)}
	if r.OrgSlug != nil {
		t.OrgSlug = *r.OrgSlug
	}
	return t, nil
}

// TouchToken records that the token was used now. Callers throttle it (the
// HTTP layer writes at most about once a minute per token), so that reads
// stay reads.
func (s *Store) TouchToken(ctx context.Context, id int64) error {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	if _, err := s.db.ExecContext(ctx, s.db.Rebind(`UPDATE api_tokens SET last_used_at = ? WHERE id = ?`), s.now(), id); err != nil {
		return fmt.Errorf("store: touch token %d: %w", id, err)
	}
	return nil
}

// RevokeToken revokes a token for good: TokenByHash no longer finds it. A
// missing token is not found; one already revoked is a conflict.
func (s *Store) RevokeToken(ctx context.Context, id int64, actor, source string) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		var r struct {
			Name      string        `db:"name"`
			OrgID     sql.NullInt64 `db:"org_id"`
			RevokedAt sql.NullTime  `db:"revoked_at"`
		}
		err := tx.GetContext(ctx, &r, tx.Rebind(`SELECT name, org_id, revoked_at FROM api_tokens WHERE id = ?`+s.forUpdate()), id)
		if errors.Is(err, sql.ErrNoRows) {
			return domain.Errorf(domain.CodeNotFound, "token %d not found", id)
		}
		if err != nil {
			return fmt.Errorf("store: token %d: %w", id, err)
		}
		if r.RevokedAt.Valid {
			return domain.Errorf(domain.CodeConflict, "token %d is already revoked", id)
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE api_tokens SET revoked_at = ? WHERE id = ?`), s.now(), id); err != nil {
			return fmt.Errorf("store: revoke token %d: %w", id, err)
		}
		return s.audit(ctx, tx, domain.AuditEntry{OrgID: r.OrgID.Int64, Actor: actor, Action: domain.ActionTokenRevoke,
			Target: r.Name, Source: source})
	})
}
