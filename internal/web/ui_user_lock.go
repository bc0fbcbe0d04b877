package web

import "net/http"

// lockUser locks one user deliberately, with a note saying why
// (domain.User.LockByAdmin). Such a lock is never lifted by email alone.
func (u *ui) lockUser(w http.ResponseWriter, r *http.Request, v *visit) error {
	org, name := r.PathValue("org"), r.PathValue("username")
	_, err := u.lock(r.Context(), v.Principal, org, name, r.PostForm.Get("note"))
	return u.done(w, r, userPath(org, name), err, name+" is locked.")
}
