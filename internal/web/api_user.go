package web

import "net/http"

// apiUser shows one user of the org. Its token is checked in the same
// query (api_call.go).
func (s *Server) apiUser(w http.ResponseWriter, r *http.Request, c *apiCall) error {
	slug, username, err := callUserParams(r)
	u, err := s.Store.UserByToken(r.Context(), c.check(err), slug, username)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toUserJSON(slug, u, s.Now()))
	return nil
}
