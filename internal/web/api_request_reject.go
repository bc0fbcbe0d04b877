package web

import "net/http"

// apiRequestReject declines a pending request with a note, which the
// contact's answer carries: {"note": "..."}, required.
func (s *Server) apiRequestReject(w http.ResponseWriter, r *http.Request, p Principal) error {
	id, err := requestIDParam(r)
	if err != nil {
		return err
	}
	note, err := readNote(r)
	if err != nil {
		return err
	}
	rq, err := s.reject(r.Context(), p, id, note)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toRequestJSON(rq))
	return nil
}
