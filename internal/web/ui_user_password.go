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

// generatePassword sets a generated password and shows it once, on a page
// no cache keeps. The store holds only its hash.
func (u *ui) generatePassword(w http.ResponseWriter, r *http.Request, v *visit) error {
	org, err := u.orgFor(r, v)
	if err != nil {
		return err
	}
	name := r.PathValue("username")
	pw, err := u.setPassword(r.Context(), v.Principal, org.Slug, name, "")
	if err != nil {
		return u.done(w, r, userPath(org.Slug, name), u.hashBusy(w, err), "")
	}
	if pw == "" {
		return domain.Errorf(domain.CodeInternal, "no password was generated")
	}
	w.Header().Set("Cache-Control", "no-store")
	return u.render(w, r, http.StatusOK, "password", orgView(v, org, "users", "New password", passwordData{Username: name, Password: pw}))
}
