package web

import (
	"net/http"
	"strings"
)

// resetOrgFailedLogins unlocks every user of the org locked for failed
// logins and clears every failure counter; deliberate locks stay.
func (u *ui) resetOrgFailedLogins(w http.ResponseWriter, r *http.Request, v *visit) error {
	slug := r.PathValue("org")
	unlocked, err := u.resetFailedLogins(r.Context(), v.Principal, slug)
	msg := "Failed logins reset; nobody was locked for them."
	if len(unlocked) > 0 {
		msg = "Failed logins reset; unlocked " + strings.Join(unlocked, ", ") + "."
	}
	return u.done(w, r, "/orgs/"+slug, err, msg)
}
