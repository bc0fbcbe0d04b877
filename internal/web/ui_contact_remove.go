package web

import "net/http"

// removeContactForm removes the authorised contact named by the form's
// email; staff only.
func (u *ui) removeContactForm(w http.ResponseWriter, r *http.Request, v *visit) error {
	slug, email := r.PathValue("org"), r.PostForm.Get("email")
	err := u.removeContact(r.Context(), v.Principal, slug, email)
	return u.done(w, r, "/orgs/"+slug+"/contacts", err, email+" is no longer an authorised contact.")
}
