package web

import (
	"net/http"

	"github.com/unlockd/unlockd/internal/domain"
)

// failedLoginJSON answers a reported failure.
type failedLoginJSON struct {
	// Result is "invalid" when the failure counted, "locked" when the user
	// was already locked and it did not.
	Result       domain.LoginResult `json:"result"`
	Status       domain.Status      `json:"status"`
	FailedLogins int                `json:"failed_logins"`
	// LockedNow is set when this failure locked the user.
	LockedNow bool `json:"locked_now"`
}

// apiFailedLogins records a failed login the host application checked
// itself, under the org's policy; it may lock the user. The body, if any,
// must be {}.
func (s *Server) apiFailedLogins(w http.ResponseWriter, r *http.Request, _ Principal) error {
	slug, username, err := userParams(r)
	if err != nil {
		return err
	}
	if err := readJSONBody(r, &struct{}{}, true); err != nil {
		return err
	}
	u, result, lockedNow, err := s.Store.RecordFailedLogin(r.Context(), slug, username, source(r.Context()))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, failedLoginJSON{Result: result, Status: u.Status(s.Now()),
		FailedLogins: u.FailedLogins, LockedNow: lockedNow})
	return nil
}
