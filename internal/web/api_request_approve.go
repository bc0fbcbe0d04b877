package web

import "net/http"

// apiRequestApprove approves a pending request: the user is unlocked (if
// still locked) and the contact is answered. A request already decided is
// a conflict, so approving twice unlocks once. The body is optional:
// {"note": "..."} records the reviewer's note.
func (s *Server) apiRequestApprove(w http.ResponseWriter, r *http.Request, p Principal) error {
	id, err := requestIDParam(r)
	if err != nil {
		return err
	}
	var in struct {
		Note string `json:"note"`
	}
	if err := readJSONBody(r, &in, true); err != nil {
		return err
	}
	rq, err := s.approve(r.Context(), p, id, in.Note)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toRequestJSON(rq))
	return nil
}
