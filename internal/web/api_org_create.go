package web

import (
	"net/http"

	"github.com/unlockd/unlockd/internal/domain"
)

// orgCreate is the body of POST /orgs: a slug, a name, and any policy
// fields that differ from the defaults.
type orgCreate struct {
	Slug string `json:"slug"`
	orgPatch
}

// apiOrgCreate creates an organisation (staff).
func (s *Server) apiOrgCreate(w http.ResponseWriter, r *http.Request, p Principal) error {
	var in orgCreate
	if err := readJSONBody(r, &in, false); err != nil {
		return err
	}
	if err := domain.ValidateSlug(in.Slug); err != nil {
		return err
	}
	if in.Name == nil {
		return domain.Errorf(domain.CodeInvalid, "name is required")
	}
	if err := s.checkDirectory(p, in.Directory); err != nil {
		return err
	}
	o := domain.Org{Slug: in.Slug, Policy: domain.DefaultPolicy()}
	if err := in.apply(&o); err != nil {
		return err
	}
	o, err := s.Store.CreateOrg(r.Context(), o)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toOrgJSON(o))
	return nil
}
