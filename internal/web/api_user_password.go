package web

import "net/http"

// passwordBody is the body of POST .../password: {} (or no body) to
// generate one, or {"password": "..."} to set it; "" is a password too, and
// refused.
type passwordBody struct {
	Password optionalString `json:"password"`
}

// generatedPassword is the answer carrying a generated password.
type generatedPassword struct {
	Password string `json:"password"`
}

// apiUserPassword sets a user's password. A generated password is in the
// answer, shown this once (the answer is marked no-store); a chosen one is
// answered with 204. Neither is logged or audited.
func (s *Server) apiUserPassword(w http.ResponseWriter, r *http.Request, p Principal) error {
	slug, username, err := userParams(r)
	if err != nil {
		return err
	}
	var in passwordBody
	if err := readJSONBody(r, &in, true); err != nil {
		return err
	}
	generated, err := s.setPassword(r.Context(), p, slug, username, in.Password)
	if err != nil {
		return s.hashBusy(w, err)
	}
	if generated == "" {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	writeJSON(w, http.StatusOK, generatedPassword{Password: generated})
	return nil
}
