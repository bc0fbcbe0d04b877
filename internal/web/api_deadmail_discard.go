package web

import "net/http"

// apiDeadMailDiscard deletes dead mail unsent; staff only.
func (s *Server) apiDeadMailDiscard(w http.ResponseWriter, r *http.Request, p Principal) error {
	id, err := mailIDParam(r)
	if err != nil {
		return err
	}
	if _, err := s.discardMail(r.Context(), p, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
