package web

import "net/http"

// apiResetFailedLogins unlocks every failed-login lock of the org and
// clears every failure counter; deliberate locks stay. It answers
// {"unlocked": [usernames]}. The body, if any, must be {}.
func (s *Server) apiResetFailedLogins(w http.ResponseWriter, r *http.Request, p Principal) error {
	slug, err := orgParam(r)
	if err != nil {
		return err
	}
	if err := readJSONBody(r, &struct{}{}, true); err != nil {
		return err
	}
	unlocked, err := s.resetFailedLogins(r.Context(), p, slug)
	if err != nil {
		return err
	}
	if unlocked == nil {
		unlocked = []string{}
	}
	writeJSON(w, http.StatusOK, map[string][]string{"unlocked": unlocked})
	return nil
}
