package web

import (
	"errors"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/unlockd/unlockd/internal/config"
	"github.com/unlockd/unlockd/internal/domain"
)

// policyForm is the security-policy form, as typed. Durations are written
// as the configuration file and the API write them ("15m", "12h", "1d",
// "0s"); the values go through the API's orgPatch, so the same text is
// accepted or refused, with the same words, both ways.
type policyForm struct {
	MaxFailedLogins    string
	LockoutDuration    string
	FailureWindow      string
	AutoUnlock         bool
	MaxRequestsPerHour string
	MaxUnverified      string
	EmailConfirmation  string
	// confirmSent is set when the form had an email_confirmation field:
	// one without it (a page from before the field) leaves it as it is.
	confirmSent bool
	// Directory is the org's directory; staff see it as a choice among
	// Directories (builtin and the configured ones), and only their form
	// sends it (directorySent).
	Directory     string
	Directories   []string
	Staff         bool
	directorySent bool
	Error         string
}

func formOfPolicy(p domain.Policy) policyForm {
	return policyForm{
		MaxFailedLogins:    strconv.Itoa(p.MaxFailedLogins),
		LockoutDuration:    config.Duration(p.LockoutDuration).String(),
		FailureWindow:      config.Duration(p.FailureWindow).String(),
		AutoUnlock:         p.AutoUnlock,
		MaxRequestsPerHour: strconv.Itoa(p.MaxRequestsPerHour),
		MaxUnverified:      strconv.Itoa(p.MaxUnverifiedPerHour),
		EmailConfirmation:  p.EmailConfirmation.String(),
	}
}

// withDirectory adds the org's directory, and for staff the choices.
func (f policyForm) withDirectory(o domain.Org, v *visit, configured []string) policyForm {
	if f.Directory == "" {
		f.Directory = directoryOf(o)
	}
	f.Staff = v.Principal.Staff()
	if f.Staff {
		f.Directories = append([]string{domain.BuiltinDirectory}, configured...)
	}
	return f
}

// policyFormOf reads the posted form.
func policyFormOf(v url.Values) policyForm {
	return policyForm{
		MaxFailedLogins:    v.Get("max_failed_logins"),
		LockoutDuration:    v.Get("lockout_duration"),
		FailureWindow:      v.Get("failure_window"),
		AutoUnlock:         v.Get("auto_unlock") != "",
		MaxRequestsPerHour: v.Get("max_requests_per_hour"),
		MaxUnverified:      v.Get("max_unverified_per_hour"),
		EmailConfirmation:  v.Get("email_confirmation"),
		confirmSent:        v.Has("email_confirmation"),
		Directory:          v.Get("directory"),
		directorySent:      v.Has("directory"),
	}
}

// patch turns the form into the orgPatch the API would read: every field
// is set (email_confirmation when the form sent it). A count that is not a whole number is refused here, naming its
// field; one too large for an int is passed on as such, for the domain's
// range check to refuse in its own words.
func (f policyForm) patch() (orgPatch, error) {
	var err error
	number := func(key, s string) *int {
		t := strings.TrimSpace(s)
		n, e := strconv.Atoi(t)
		switch {
		case e == nil:
		case errors.Is(e, strconv.ErrRange) && strings.HasPrefix(t, "-"):
			n = math.MinInt
		case errors.Is(e, strconv.ErrRange):
			n = math.MaxInt
		case err == nil:
			err = domain.Errorf(domain.CodeInvalid, "%s must be a whole number, not %.32q", key, s)
		}
		return &n
	}
	lockout, window, auto, confirm := f.LockoutDuration, f.FailureWindow, f.AutoUnlock, f.EmailConfirmation
	p := orgPatch{
		MaxFailedLogins:    number("max_failed_logins", f.MaxFailedLogins),
		LockoutDuration:    &lockout,
		FailureWindow:      &window,
		AutoUnlock:         &auto,
		MaxRequestsPerHour: number("max_requests_per_hour", f.MaxRequestsPerHour),
		MaxUnverified:      number("max_unverified_per_hour", f.MaxUnverified),
	}
	if f.confirmSent {
		p.EmailConfirmation = &confirm
	}
	if f.directorySent {
		dir := f.Directory
		p.Directory = &dir
	}
	return p, err
}

// policyPage shows the org's security-policy form.
func (u *ui) policyPage(w http.ResponseWriter, r *http.Request, v *visit) error {
	org, err := u.orgFor(r, v)
	if err != nil {
		return err
	}
	return u.render(w, r, http.StatusOK, "policy", orgView(v, org, "policy", "Security policy",
		formOfPolicy(org.Policy).withDirectory(org, v, u.Directories)))
}
