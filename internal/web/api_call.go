package web

import (
	"errors"
	"net/http"

	"github.com/unlockd/unlockd/internal/store"
)

// The API's hot paths (GET a user, POST an unlock), which the host
// application and admins' scripts call most, have their token checked by
// the store in the same query that reads what the call works on, instead
// of in a round trip of its own (store.TokenCheck). The checks and their
// order are those of every route (api.go): a malformed header is refused
// before the store is asked; then a missing or revoked token (401), the
// org (404), the role (403) and the input (400) are checked in that order
// on what the query read, before anything is written.

// apiCallHandler serves a hot path. It computes its input's error first,
// then makes one store call with c.check(inputErr); what it returns is
// answered like an apiHandler's error.
type apiCallHandler func(w http.ResponseWriter, r *http.Request, c *apiCall) error

// apiCall is one request on a hot path.
type apiCall struct {
	r    *http.Request
	rt   apiRoute
	hash string
	// token is the live token the store found, once it has.
	token *store.Token
}

// check is the store.TokenCheck for the call: checks 2 to 4 of the rule in
// api.go, with input the handler's own input check (nil when the input is
// fine), reported only if the principal may make the call at all.
func (c *apiCall) check(input error) store.TokenCheck {
	return store.TokenCheck{Hash: c.hash, Allow: func(t store.Token) (string, error) {
		c.token = &t
		p := tokenPrincipalOf(t)
		if err := c.rt.authorize(c.r, p); err != nil {
			return "", err
		}
		return p.Actor, input
	}}
}

// apiServeCall serves a hot path: check 1's header part, then the handler,
// then, outside the call's queries, the token's last use.
func (s *Server) apiServeCall(rt apiRoute) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hash, err := bearerHash(r)
		if err == nil {
			c := &apiCall{r: r, rt: rt, hash: hash}
			err = rt.call(w, r, c)
			if c.token != nil {
				s.touchToken(r.Context(), *c.token)
			}
		}
		if errors.Is(err, store.ErrNoToken) {
			err = errTokenInvalid()
		}
		if err != nil {
			s.writeAuthError(w, r, err)
		}
	})
}

// callUserParams are userParams for a hot path. Bad input is not sent to
// the database, which could refuse it (PostgreSQL refuses text that is not
// UTF-8) before the principal's checks have run: the query then names no
// user, and the error waits for c.check.
func callUserParams(r *http.Request) (org, username string, err error) {
	if org, username, err = userParams(r); err != nil {
		return "", "", err
	}
	return org, username, nil
}
