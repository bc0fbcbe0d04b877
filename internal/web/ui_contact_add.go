package web

import (
	"net/http"
	"strings"

	"github.com/unlockd/unlockd/internal/domain"
)

// addContactForm adds an authorised contact; staff only. When other orgs
// have the same address, the page says so as a warning.
func (u *ui) addContactForm(w http.ResponseWriter, r *http.Request, v *visit) error {
	slug := r.PathValue("org")
	in := domain.Contact{Email: strings.TrimSpace(r.PostForm.Get("email")), Name: strings.TrimSpace(r.PostForm.Get("name"))}
	c, err := u.addContact(r.Context(), v.Principal, slug, in)
	to := "/orgs/" + slug + "/contacts"
	if warning := c.SharedWarning(); err == nil && warning != "" {
		u.setFlash(w, "warn", "Contact added. "+warning)
		http.Redirect(w, r, to, http.StatusSeeOther)
		return nil
	}
	return u.done(w, r, to, err, c.Email+" is now an authorised contact.")
}
