package web

import (
	"time"

	"github.com/unlockd/unlockd/internal/config"
	"github.com/unlockd/unlockd/internal/domain"
)

// orgPatch holds the name and policy settings of an org body, or of the
// UI's policy form; a field left out is not changed. Durations are text in
// the configuration file's units (config.ParseDuration: "90s", "15m",
// "12h", "1d", "0"), read by the one parser both ways share; the ranges
// are the domain's (domain.Policy.Validate), checked when the result is
// stored.
type orgPatch struct {
	Name               *string `json:"name"`
	MaxFailedLogins    *int    `json:"max_failed_logins"`
	LockoutDuration    *string `json:"lockout_duration"`
	FailureWindow      *string `json:"failure_window"`
	AutoUnlock         *bool   `json:"auto_unlock"`
	MaxRequestsPerHour *int    `json:"max_requests_per_hour"`
	MaxUnverified      *int    `json:"max_unverified_per_hour"`
	EmailConfirmation  *string `json:"email_confirmation"`
	// Directory names the configured directory of the org's users
	// (builtin or one of directories[].name); staff only.
	Directory *string `json:"directory"`
}

// empty reports whether no field is given.
func (p orgPatch) empty() bool { return p == orgPatch{} }

// apply sets the given fields on o. A duration or an email_confirmation
// that does not parse is an error naming its field.
func (p orgPatch) apply(o *domain.Org) error {
	if p.Name != nil {
		o.Name = *p.Name
	}
	for _, d := range []struct {
		key  string
		text *string
		to   *time.Duration
	}{{"lockout_duration", p.LockoutDuration, &o.Policy.LockoutDuration}, {"failure_window", p.FailureWindow, &o.Policy.FailureWindow}} {
		if d.text == nil {
			continue
		}
		v, err := config.ParseDuration(*d.text)
		if err != nil {
			return domain.Errorf(domain.CodeInvalid, "%s: %v", d.key, err)
		}
		*d.to = v
	}
	for _, n := range []struct {
		v  *int
		to *int
	}{{p.MaxFailedLogins, &o.Policy.MaxFailedLogins}, {p.MaxRequestsPerHour, &o.Policy.MaxRequestsPerHour},
		{p.MaxUnverified, &o.Policy.MaxUnverifiedPerHour}} {
		if n.v != nil {
			*n.to = *n.v
		}
	}
	if p.AutoUnlock != nil {
		o.Policy.AutoUnlock = *p.AutoUnlock
	}
	if p.EmailConfirmation != nil {
		c, err := domain.ParseConfirmPolicy(*p.EmailConfirmation)
		if err != nil {
			return err
		}
		o.Policy.EmailConfirmation = c
	}
	if p.Directory != nil {
		o.Directory = *p.Directory
	}
	return nil
}
