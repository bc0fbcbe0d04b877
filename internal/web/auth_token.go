package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/password"
	"github.com/unlockd/unlockd/internal/store"
)

// API authentication: "Authorization: Bearer ulk_...". The token is hashed
// (SHA-256) and looked up by its hash, so the comparison happens on hashes
// in SQL and is constant-time by construction: how long a lookup takes can
// only depend on the hash, which tells nothing about a token (see
// store.TokenByHash). Revoked tokens are not found. A missing, malformed,
// unknown or revoked token answers 401 with WWW-Authenticate: Bearer.

// maxTokenBytes bounds what is hashed; real tokens are about 56 bytes.
const maxTokenBytes = 128

// touchEvery throttles writes of a token's last_used_at: a request writes
// it only when the stored value is older, so reads stay reads.
const touchEvery = time.Minute

// requireToken authenticates the request's Bearer token and puts its
// principal in the request context.
func (s *Server) requireToken(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.tokenPrincipal(r)
		if err != nil {
			s.writeAuthError(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(withPrincipal(r.Context(), p)))
	})
}

// writeAuthError answers err, with the Bearer challenge when it is a 401.
func (s *Server) writeAuthError(w http.ResponseWriter, r *http.Request, err error) {
	if domain.ErrorCode(err) == codeUnauthorized {
		challenge := `Bearer realm="unlockd"`
		if r.Header.Get("Authorization") != "" {
			challenge += `, error="invalid_token"`
		}
		w.Header().Set("WWW-Authenticate", challenge)
	}
	s.writeError(w, r, err)
}

// errTokenInvalid answers a token that no live token has.
func errTokenInvalid() error {
	return domain.Errorf(codeUnauthorized, "the API token is not valid or has been revoked")
}

// tokenPrincipal returns the principal of the request's token.
func (s *Server) tokenPrincipal(r *http.Request) (Principal, error) {
	hash, err := bearerHash(r)
	if err != nil {
		return Principal{}, err
	}
	t, err := s.Store.TokenByHash(r.Context(), hash)
	if errors.Is(err, domain.ErrNotFound) {
		return Principal{}, errTokenInvalid()
	}
	if err != nil {
		return Principal{}, err
	}
	s.touchToken(r.Context(), t)
	return tokenPrincipalOf(t), nil
}

// bearerHash returns the hash of the request's Bearer token, or a 401 for
// a missing or malformed Authorization header.
func bearerHash(r *http.Request) (string, error) {
	values := r.Header.Values("Authorization")
	if len(values) == 0 {
		return "", domain.Errorf(codeUnauthorized, "an API token is required: Authorization: Bearer <token>")
	}
	scheme, token, ok := strings.Cut(values[0], " ")
	token = strings.TrimSpace(token)
	if len(values) > 1 || !ok || !strings.EqualFold(scheme, "Bearer") ||
		!strings.HasPrefix(token, password.TokenPrefix) || len(token) > maxTokenBytes {
		return "", domain.Errorf(codeUnauthorized, "the Authorization header must be: Bearer <token>")
	}
	return password.HashToken(token), nil
}

// tokenPrincipalOf is the principal of a live token.
func tokenPrincipalOf(t store.Token) Principal {
	return Principal{Actor: "token:" + t.Name, Role: t.Role, OrgSlug: t.OrgSlug}
}

// touchToken records the token's use, at most once every touchEvery.
func (s *Server) touchToken(ctx context.Context, t store.Token) {
	if s.Now().Sub(t.LastUsedAt) < touchEvery {
		return
	}
	if err := s.Store.TouchToken(ctx, t.ID); err != nil {
		s.Log.Warn("recording token use failed", "token", t.Name, slog.Any("error", err))
	}
}
