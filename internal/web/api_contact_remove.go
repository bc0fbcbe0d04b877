package web

import "net/http"

// apiContactRemove removes an authorised contact, named by its address in
// any case.
func (s *Server) apiContactRemove(w http.ResponseWriter, r *http.Request, p Principal) error {
	slug, err := orgParam(r)
	if err != nil {
		return err
	}
	email := r.PathValue("email")
	if err := checkLength("email", email, maxEmailBytes); err != nil {
		return err
	}
	if err := s.Store.RemoveContact(r.Context(), slug, email, p.Actor, source(r.Context())); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
