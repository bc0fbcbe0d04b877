package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/password"
)

// Session lifetimes: a web-UI session ends SessionIdle after its last
// request, and SessionMaxAge after sign-in however busy it is.
const (
	SessionIdle   = 30 * time.Minute
	SessionMaxAge = 12 * time.Hour
	// sessionTouch bounds how often a lookup writes last_seen_at, so that a
	// busy page costs one write a minute rather than one per request.
	sessionTouch = time.Minute
)

// Session is a signed-in operator's web-UI session. The token that names
// it lives only in the browser's cookie; the table keeps its SHA-256.
type Session struct {
	Operator Operator
	// CSRFToken is the per-session token every form of the session carries.
	CSRFToken  string
	CreatedAt  time.Time
	LastSeenAt time.Time
}

// newSecret returns a random token of 256 bits and more from crypto/rand,
// in base32 (52 characters).
func newSecret() string { return rand.Text() + rand.Text() }

const insertSession = `INSERT INTO sessions (token_hash, operator_id, csrf_token, created_at, last_seen_at)
	VALUES (?, ?, ?, ?, ?)`

const purgeSessions = `DELETE FROM sessions WHERE last_seen_at <= ? OR created_at <= ?`

// CreateSession starts a session for an operator SignIn returned and
// returns its token, for the cookie. Expired sessions of every operator are
// purged on the way.
func (s *Store) CreateSession(ctx context.Context, op Operator) (string, Session, error) {
	now := s.now()
	token := newSecret()
	sess := Session{Operator: op, CSRFToken: newSecret(), CreatedAt: now, LastSeenAt: now}
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, tx.Rebind(purgeSessions), now.Add(-SessionIdle), now.Add(-SessionMaxAge)); err != nil {
			return fmt.Errorf("store: purge sessions: %w", err)
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(insertSession), password.HashToken(token), op.ID,
			sess.CSRFToken, now, now); err != nil {
			return fmt.Errorf("store: insert session: %w", err)
		}
		return nil
	})
	if err != nil {
		return "", Session{}, err
	}
	return token, sess, nil
}

type sessionRow struct {
	operatorRow
	CSRFToken  string    `db:"csrf_token"`
	CreatedAt  time.Time `db:"created_at"`
	LastSeenAt time.Time `db:"last_seen_at"`
}

const selectSession = `SELECT o.id, o.email, o.role, o.org_id, g.slug AS org_slug, o.totp_secret, s.csrf_token, s.created_at, s.last_seen_at
	FROM sessions s JOIN operators o ON o.id = s.operator_id LEFT JOIN orgs g ON g.id = o.org_id
	WHERE s.token_hash = ?`

// Session returns the live session named by token and records the visit.
// An unknown token, and a session past its idle or absolute expiry, are
// not found; an expired session is deleted.
func (s *Store) Session(ctx context.Context, token string) (Session, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	notFound := domain.Errorf(domain.CodeNotFound, "no such session")
	if token == "" {
		return Session{}, notFound
	}
	hash := password.HashToken(token)
	var r sessionRow
	err := s.db.GetContext(ctx, &r, s.db.Rebind(selectSession), hash)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, notFound
	}
	if err != nil {
		return Session{}, fmt.Errorf("store: session: %w", err)
	}
	now := s.now()
	if now.Sub(r.LastSeenAt) >= SessionIdle || now.Sub(r.CreatedAt) >= SessionMaxAge {
		if err := s.deleteSession(ctx, hash); err != nil {
			return Session{}, err
		}
		return Session{}, notFound
	}
	if now.Sub(r.LastSeenAt) >= sessionTouch {
		if _, err := s.db.ExecContext(ctx, s.db.Rebind(`UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?`), now, hash); err != nil {
			return Session{}, fmt.Errorf("store: touch session: %w", err)
		}
		r.LastSeenAt = now
	}
	return Session{Operator: r.operator(), CSRFToken: r.CSRFToken, CreatedAt: r.CreatedAt.UTC(), LastSeenAt: r.LastSeenAt.UTC()}, nil
}

// DeleteSession ends the session named by token (signing out); an unknown
// token is not an error.
func (s *Store) DeleteSession(ctx context.Context, token string) error {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	return s.deleteSession(ctx, password.HashToken(token))
}

func (s *Store) deleteSession(ctx context.Context, hash string) error {
	if _, err := s.db.ExecContext(ctx, s.db.Rebind(`DELETE FROM sessions WHERE token_hash = ?`), hash); err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	return nil
}
