package web

import "net/http"

// apiRequestApprove approves a pending request: the user is unlocked (if
// still locked) and the contact is answered. A request already decided is
// a conflict, so approving twice unlocks once. The body, if any, must be
// {}: the store keeps no note on approvals.
func (s *Server) apiRequestApprove(w http.ResponseWriter, r *http.Request, p Principal) error {
	id, err := requestIDParam(r)
	if err != nil {
		return err
	}
	if err := readJSONBody(r, &struct{}{}, true); err != nil {
		return err
	}
	rq, err := s.approve(r.Context(), p, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toRequestJSON(rq))
	return nil
}
