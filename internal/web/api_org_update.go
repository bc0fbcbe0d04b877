package web

import (
	"net/http"
)

// apiOrgUpdate changes an organisation's name or policy: only the fields
// given, under a row lock, with an audit entry.
func (s *Server) apiOrgUpdate(w http.ResponseWriter, r *http.Request, p Principal) error {
	slug, err := orgParam(r)
	if err != nil {
		return err
	}
	var in orgPatch
	if err := readJSONBody(r, &in, false); err != nil {
		return err
	}
	o, err := s.changeOrg(r.Context(), p, slug, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toOrgJSON(o))
	return nil
}
