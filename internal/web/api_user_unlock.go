package web

import (
	"net/http"

	"github.com/unlockd/unlockd/internal/metrics"
)

// apiUserUnlock unlocks a user and clears its failed-login counter. A user
// that is not locked is a conflict. The body, if any, must be {}. Its
// token is checked in the unlock's own first query (api_call.go).
func (s *Server) apiUserUnlock(w http.ResponseWriter, r *http.Request, c *apiCall) error {
	slug, username, err := callUserParams(r)
	if err == nil {
		err = readJSONBody(r, &struct{}{}, true)
	}
	u, err := s.Store.UnlockUserByToken(r.Context(), c.check(err), slug, username, source(r.Context()))
	if err != nil {
		return err
	}
	s.unlocked(metrics.ChannelHTTP, 1)
	writeJSON(w, http.StatusOK, toUserJSON(slug, u, s.Now()))
	return nil
}

// apiUserUnlockAny unlocks a user in the org's directory: the route when
// remote directories are configured. A lock changed since the directory's
// lookup is a conflict, and nothing is lifted.
func (s *Server) apiUserUnlockAny(w http.ResponseWriter, r *http.Request, p Principal) error {
	slug, username, err := userParams(r)
	if err == nil {
		err = readJSONBody(r, &struct{}{}, true)
	}
	if err != nil {
		return err
	}
	u, err := s.unlock(r.Context(), p, slug, username)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toUserJSON(slug, u, s.Now()))
	return nil
}
