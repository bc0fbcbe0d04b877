package web

import (
	"net/http"

	"github.com/unlockd/unlockd/internal/domain"
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
	if in.empty() {
		return domain.Errorf(domain.CodeInvalid, "no field to change")
	}
	if err := in.check(); err != nil {
		return err
	}
	o, err := s.Store.ChangeOrg(r.Context(), slug, func(o *domain.Org) error {
		in.apply(o)
		return nil
	}, p.Actor, source(r.Context()))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toOrgJSON(o))
	return nil
}
