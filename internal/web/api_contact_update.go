package web

import (
	"net/http"

	"github.com/unlockd/unlockd/internal/domain"
)

// apiContactUpdate renames an authorised contact, named by its address in
// any case: {"name"}; staff only.
func (s *Server) apiContactUpdate(w http.ResponseWriter, r *http.Request, p Principal) error {
	slug, err := orgParam(r)
	if err != nil {
		return err
	}
	var in struct {
		Name optionalString `json:"name"`
	}
	if err := readJSONBody(r, &in, false); err != nil {
		return err
	}
	if !in.Name.Set {
		return domain.Errorf(domain.CodeInvalid, "no field to change: give name")
	}
	c, err := s.renameContact(r.Context(), p, slug, r.PathValue("email"), in.Name.Value)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toContactJSON(c, p))
	return nil
}
