package web

import (
	"net/http"

	"github.com/unlockd/unlockd/internal/domain"
)

// savePolicy saves the org's security policy (with an audit entry). A value
// out of range shows the form again, as typed, with the reason.
func (u *ui) savePolicy(w http.ResponseWriter, r *http.Request, v *visit) error {
	org, err := u.orgFor(r, v)
	if err != nil {
		return err
	}
	if err := v.Principal.Allow(domain.RoleStaff, domain.RoleAdmin); err != nil {
		return err
	}
	f := policyForm{
		MaxFailedLogins:    r.PostForm.Get("max_failed_logins"),
		LockoutDuration:    r.PostForm.Get("lockout_duration"),
		FailureWindow:      r.PostForm.Get("failure_window"),
		AutoUnlock:         r.PostForm.Get("auto_unlock") != "",
		MaxRequestsPerHour: r.PostForm.Get("max_requests_per_hour"),
		MaxUnverified:      r.PostForm.Get("max_unverified_per_hour"),
	}
	org.Policy, err = f.policy()
	if err == nil {
		err = u.Store.UpdateOrg(r.Context(), org, v.Principal.Actor, source(r.Context()))
	}
	if domain.ErrorCode(err) == domain.CodeInvalid {
		f.Error = domain.ErrorMessage(err)
		return u.render(w, r, http.StatusBadRequest, "policy", orgView(v, org, "policy", "Security policy", f))
	}
	return u.done(w, r, "/orgs/"+org.Slug+"/policy", err, "Security policy saved.")
}
