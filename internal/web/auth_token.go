package web

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/password"
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
			if domain.ErrorCode(err) == codeUnauthorized {
				challenge := `Bearer realm="unlockd"`
				if r.Header.Get("Authorization") != "" {
					challenge += `, error="invalid_token"`
				}
				w.Header().Set("WWW-Authenticate", challenge)
			}
			s.writeError(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(withPrincipal(r.Context(), p)))
	})
}

// tokenPrincipal returns the principal of the request's token.
func (s *Server) tokenPrincipal(r *http.Request) (Principal, error) {
	values := r.Header.Values("Authorization")
	if len(values) == 0 {
		return Principal{}, domain.Errorf(codeUnauthorized, "an API token is required: Authorization: Bearer <token>")
	}
	scheme, token, ok := strings.Cut(values[0], " ")
	token = strings.TrimSpace(token)
	if len(values) > 1 || !ok || !strings.EqualFold(scheme, "Bearer") ||
		!strings.HasPrefix(token, password.TokenPrefix) || len(token) > maxTokenBytes {
		return Principal{}, domain.Errorf(codeUnauthorized, "the Authorization header must be: Bearer <token>")
	}
	t, err := s.Store.TokenByHash(r.Context(), password.HashToken(token))
	if errors.Is(err, domain.ErrNotFound) {
		return Principal{}, domain.Errorf(codeUnauthorized, "the API token is not valid or has been revoked")
	}
	if err != nil {
		return Principal{}, err
	}
	if s.Now().Sub(t.LastUsedAt) >= touchEvery {
		if err := s.Store.TouchToken(r.Context(), t.ID); err != nil {
			s.Log.Warn("recording token use failed", "token", t.Name, slog.Any("error", err))
		}
	}
	return Principal{Actor: "token:" + t.Name, Role: t.Role, OrgSlug: t.OrgSlug}, nil
}
