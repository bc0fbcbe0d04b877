package web

import "net/http"

// unlockUser unlocks one user, whatever the lock's reason.
func (u *ui) unlockUser(w http.ResponseWriter, r *http.Request, v *visit) error {
	org, name := r.PathValue("org"), r.PathValue("username")
	_, err := u.unlock(r.Context(), v.Principal, org, name)
	return u.done(w, r, userPath(org, name), err, name+" is unlocked.")
}
