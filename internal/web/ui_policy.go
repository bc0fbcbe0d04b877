package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/unlockd/unlockd/internal/domain"
)

// policyForm is the security-policy form, as typed: durations are Go
// durations ("15m", "12h", "0").
type policyForm struct {
	MaxFailedLogins    string
	LockoutDuration    string
	FailureWindow      string
	AutoUnlock         bool
	MaxRequestsPerHour string
	MaxUnverified      string
	Error              string
}

func formOfPolicy(p domain.Policy) policyForm {
	return policyForm{
		MaxFailedLogins:    strconv.Itoa(p.MaxFailedLogins),
		LockoutDuration:    formatDuration(p.LockoutDuration),
		FailureWindow:      formatDuration(p.FailureWindow),
		AutoUnlock:         p.AutoUnlock,
		MaxRequestsPerHour: strconv.Itoa(p.MaxRequestsPerHour),
		MaxUnverified:      strconv.Itoa(p.MaxUnverifiedPerHour),
	}
}

// policy parses the form; the store validates the ranges.
func (f policyForm) policy() (domain.Policy, error) {
	var p domain.Policy
	var err error
	number := func(name, s string) int {
		n, e := strconv.Atoi(strings.TrimSpace(s))
		if e != nil && err == nil {
			err = domain.Errorf(domain.CodeInvalid, "%s must be a whole number", name)
		}
		return n
	}
	duration := func(name, s string) time.Duration {
		d, e := time.ParseDuration(strings.TrimSpace(s))
		if e != nil && err == nil {
			err = domain.Errorf(domain.CodeInvalid, "%s must be a duration such as 15m or 12h, or 0", name)
		}
		return d
	}
	p.MaxFailedLogins = number("failed logins before a lock", f.MaxFailedLogins)
	p.LockoutDuration = duration("lockout duration", f.LockoutDuration)
	p.FailureWindow = duration("failure window", f.FailureWindow)
	p.AutoUnlock = f.AutoUnlock
	p.MaxRequestsPerHour = number("requests per contact per hour", f.MaxRequestsPerHour)
	p.MaxUnverifiedPerHour = number("unverified requests answered per hour", f.MaxUnverified)
	return p, err
}

// formatDuration writes d the way people type it: 12h rather than 12h0m0s.
func formatDuration(d time.Duration) string {
	if d == 0 {
		return "0"
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// policyPage shows the org's security-policy form.
func (u *ui) policyPage(w http.ResponseWriter, r *http.Request, v *visit) error {
	org, err := u.orgFor(r, v)
	if err != nil {
		return err
	}
	return u.render(w, r, http.StatusOK, "policy", orgView(v, org, "policy", "Security policy", formOfPolicy(org.Policy)))
}
