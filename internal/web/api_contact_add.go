package web

import (
	"net/http"

	"github.com/unlockd/unlockd/internal/domain"
)

// apiContactAdd adds an authorised contact: {"email", "name"}. An address
// already on record for the org is a conflict.
func (s *Server) apiContactAdd(w http.ResponseWriter, r *http.Request, p Principal) error {
	slug, err := orgParam(r)
	if err != nil {
		return err
	}
	var in contactJSON
	if err := readJSONBody(r, &in, false); err != nil {
		return err
	}
	if err := checkLength("email", in.Email, maxEmailBytes); err != nil {
		return err
	}
	if err := checkLength("name", in.Name, maxNameBytes); err != nil {
		return err
	}
	c, err := s.Store.AddContact(r.Context(), slug, domain.Contact{Email: in.Email, Name: in.Name}, p.Actor, source(r.Context()))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toContactJSON(c))
	return nil
}
