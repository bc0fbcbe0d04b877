package web

import "net/http"

// apiUser shows one user of the org.
func (s *Server) apiUser(w http.ResponseWriter, r *http.Request, _ Principal) error {
	slug, username, err := userParams(r)
	if err != nil {
		return err
	}
	u, err := s.Store.User(r.Context(), slug, username)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toUserJSON(slug, u, s.Now()))
	return nil
}
