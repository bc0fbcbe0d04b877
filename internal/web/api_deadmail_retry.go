package web

import "net/http"

// apiDeadMailRetry puts dead mail back in the queue, due now, with its
// attempts counted from zero; staff only.
func (s *Server) apiDeadMailRetry(w http.ResponseWriter, r *http.Request, p Principal) error {
	id, err := mailIDParam(r)
	if err != nil {
		return err
	}
	m, err := s.retryMail(r.Context(), p, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toDeadMailJSON(m))
	return nil
}
