package web

import (
	"net/http"

	"github.com/unlockd/unlockd/internal/domain"
)

// contactInput is the body of POST /orgs/{org}/contacts.
type contactInput struct {
	Email string `json:"email"`
	Name  string `json:"name"`
}

// contactAdded answers POST /orgs/{org}/contacts: the contact, and a
// warning when other orgs have the same address (shared_with names them).
type contactAdded struct {
	contactJSON
	Warnings []string `json:"warnings,omitempty"`
}

// apiContactAdd adds an authorised contact: {"email", "name"}; staff only.
// An address already on record for the org is a conflict.
func (s *Server) apiContactAdd(w http.ResponseWriter, r *http.Request, p Principal) error {
	slug, err := orgParam(r)
	if err != nil {
		return err
	}
	var in contactInput
	if err := readJSONBody(r, &in, false); err != nil {
		return err
	}
	c, err := s.addContact(r.Context(), p, slug, domain.Contact{Email: in.Email, Name: in.Name})
	if err != nil {
		return err
	}
	out := contactAdded{contactJSON: toContactJSON(c, p)}
	if warning := c.SharedWarning(); warning != "" {
		out.Warnings = []string{warning}
	}
	writeJSON(w, http.StatusCreated, out)
	return nil
}
