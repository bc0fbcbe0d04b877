package web

import "net/http"

// apiUserDelete deletes a user. Its queued requests stay, without a user,
// to be declined or to expire.
func (s *Server) apiUserDelete(w http.ResponseWriter, r *http.Request, p Principal) error {
	org, username, err := userParams(r)
	if err != nil {
		return err
	}
	if err := s.deleteUser(r.Context(), p, org, username); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
