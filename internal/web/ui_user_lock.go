package web

import (
	"net/http"
	"strings"

	"github.com/unlockd/unlockd/internal/domain"
)

// lockUser locks one user deliberately, with a note saying why. Such a lock
// is never lifted by email alone.
func (u *ui) lockUser(w http.ResponseWriter, r *http.Request, v *visit) error {
	org, name := r.PathValue("org"), r.PathValue("username")
	to := userPath(org, name)
	note := strings.TrimSpace(r.PostForm.Get("note"))
	if note == "" {
		if err := v.Principal.Org(org); err != nil {
			return err
		}
		return u.done(w, r, to, domain.Errorf(domain.CodeInvalid, "say why the user is locked"), "")
	}
	_, err := u.lock(r.Context(), v.Principal, org, name, note)
	return u.done(w, r, to, err, name+" is locked.")
}
