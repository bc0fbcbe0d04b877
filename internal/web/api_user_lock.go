package web

import "net/http"

// apiUserLock locks a user deliberately: {"note": "..."}, required.
func (s *Server) apiUserLock(w http.ResponseWriter, r *http.Request, p Principal) error {
	slug, username, err := userParams(r)
	if err != nil {
		return err
	}
	note, err := readNote(r)
	if err != nil {
		return err
	}
	u, err := s.lock(r.Context(), p, slug, username, note)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toUserJSON(slug, u, s.Now()))
	return nil
}
