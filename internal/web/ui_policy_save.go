package web

import (
	"net/http"

	"github.com/unlockd/unlockd/internal/domain"
)

// savePolicy saves the org's security policy, as the API's PATCH does
// (with an audit entry). A value out of range shows the form again, as
// typed, with the reason, which names the field.
func (u *ui) savePolicy(w http.ResponseWriter, r *http.Request, v *visit) error {
	org, err := u.orgFor(r, v)
	if err != nil {
		return err
	}
	f := policyFormOf(r.PostForm)
	patch, err := f.patch()
	if err == nil {
		_, err = u.changeOrg(r.Context(), v.Principal, org.Slug, patch)
	}
	if domain.ErrorCode(err) == domain.CodeInvalid {
		f.Error = domain.ErrorMessage(err)
		return u.render(w, r, http.StatusBadRequest, "policy", orgView(v, org, "policy", "Security policy", f.withDirectory(org, v, u.Directories)))
	}
	return u.done(w, r, "/orgs/"+org.Slug+"/policy", err, "Security policy saved.")
}
