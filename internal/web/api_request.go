package web

import "net/http"

// apiRequest shows one request item with its evidence. Another org's item
// is not found, like a missing one.
func (s *Server) apiRequest(w http.ResponseWriter, r *http.Request, p Principal) error {
	id, err := requestIDParam(r)
	if err != nil {
		return err
	}
	rq, err := s.Store.Request(r.Context(), id, p.Scope())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toRequestJSON(rq))
	return nil
}
