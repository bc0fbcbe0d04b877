package web

import "net/http"

// apiOrg shows an organisation and its policy.
func (s *Server) apiOrg(w http.ResponseWriter, r *http.Request, _ Principal) error {
	slug, err := orgParam(r)
	if err != nil {
		return err
	}
	o, err := s.Store.Org(r.Context(), slug)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toOrgJSON(o))
	return nil
}
