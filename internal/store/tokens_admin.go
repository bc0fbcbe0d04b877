package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/unlockd/unlockd/internal/domain"
)

// TokenInfo is what `unlockd token list` shows of a token: never the token
// or its hash.
type TokenInfo struct {
	Token
	CreatedAt time.Time
	// RevokedAt is zero for a live token.
	RevokedAt time.Time
}

// TokenFilter narrows ListTokens. Zero fields match every live token.
type TokenFilter struct {
	// Name, when set, matches that name exactly.
	Name string
	// OrgSlug, when set, matches the org's tokens only.
	OrgSlug string
	// Revoked includes revoked tokens.
	Revoked bool
}

type tokenInfoRow struct {
	tokenRow
	CreatedAt time.Time    `db:"created_at"`
	RevokedAt sql.NullTime `db:"revoked_at"`
}

// ListTokens lists tokens by id, live ones only unless f.Revoked. Hashes
// are never read.
func (s *Store) ListTokens(ctx context.Context, f TokenFilter) ([]TokenInfo, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	q := `SELECT t.id, t.name, t.role, o.slug, t.last_used_at, t.created_at, t.revoked_at
		FROM api_tokens t LEFT JOIN orgs o ON o.id = t.org_id WHERE 1 = 1`
	var args []any
	if !f.Revoked {
		q += ` AND t.revoked_at IS NULL`
	}
	if f.Name != "" {
		q += ` AND t.name = ?`
		args = append(args, f.Name)
	}
	if f.OrgSlug != "" {
		q += ` AND o.slug = ?`
		args = append(args, f.OrgSlug)
	}
	var rows []tokenInfoRow
	if err := s.db.SelectContext(ctx, &rows, s.db.Rebind(q+` ORDER BY t.id`), args...); err != nil {
		return nil, fmt.Errorf("store: list tokens: %w", err)
	}
	out := make([]TokenInfo, len(rows))
	for i, r := range rows {
		out[i] = TokenInfo{Token: Token{ID: r.ID, Name: r.Name, Role: domain.Role(r.Role), LastUsedAt: timeOf(r.LastUsedAt)},
			CreatedAt: r.CreatedAt.UTC(), RevokedAt: timeOf(r.RevokedAt)}
		if r.OrgSlug != nil {
			out[i].OrgSlug = *r.OrgSlug
		}
	}
	return out, nil
}
