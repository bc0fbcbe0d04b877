package web

import "net/http"

// apiContactRemove removes an authorised contact, named by its address in
// any case; staff only.
func (s *Server) apiContactRemove(w http.ResponseWriter, r *http.Request, p Principal) error {
	slug, err := orgParam(r)
	if err != nil {
		return err
	}
	if err := s.removeContact(r.Context(), p, slug, r.PathValue("email")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
