package web

import "net/http"

// apiUserUnlock unlocks a user and clears its failed-login counter. A user
// that is not locked is a conflict. The body, if any, must be {}.
func (s *Server) apiUserUnlock(w http.ResponseWriter, r *http.Request, p Principal) error {
	slug, username, err := userParams(r)
	if err != nil {
		return err
	}
	if err := readJSONBody(r, &struct{}{}, true); err != nil {
		return err
	}
	u, err := s.unlock(r.Context(), p, slug, username)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toUserJSON(slug, u, s.Now()))
	return nil
}
