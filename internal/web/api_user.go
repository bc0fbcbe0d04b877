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

// apiUserAny shows one user of the org, from its directory: the route
// when remote directories are configured.
func (s *Server) apiUserAny(w http.ResponseWriter, r *http.Request, p Principal) error {
	slug, username, err := userParams(r)
	if err != nil {
		return err
	}
	u, err := s.userAny(r.Context(), p, slug, username)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toUserJSON(slug, u, s.Now()))
	return nil
}
