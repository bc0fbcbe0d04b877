package web

import (
	"net/http"

	"github.com/unlockd/unlockd/internal/domain"
)

// passwordData is the generated-password page's Data.
type passwordData struct {
	Username string
	Password string
}

// setUserPassword sets the password the form chose, when it has a password
// field (an empty one is refused like any password breaking the rules, with
// a message on the user page), or else a generated one, shown once on a page
// no cache keeps. The store holds only the hash.
func (u *ui) setUserPassword(w http.ResponseWriter, r *http.Request, v *visit) error {
	org, err := u.orgFor(r, v)
	if err != nil {
		return err
	}
	name := r.PathValue("username")
	to := userPath(org.Slug, name)
	chosen := optionalString{Value: r.PostForm.Get("password")}
	_, chosen.Set = r.PostForm["password"]
	pw, err := u.setPassword(r.Context(), v.Principal, org.Slug, name, chosen)
	if err != nil || chosen.Set {
		return u.done(w, r, to, u.hashBusy(w, err), "The new password is set.")
	}
	if pw == "" {
		return domain.Errorf(domain.CodeInternal, "no password was generated")
	}
	w.Header().Set("Cache-Control", "no-store")
	return u.render(w, r, http.StatusOK, "password", orgView(v, org, "users", "New password", passwordData{Username: name, Password: pw}))
}
