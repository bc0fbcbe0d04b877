package web

import (
	"time"

	"github.com/unlockd/unlockd/internal/domain"
)

// orgPatch holds the name and policy fields of an org body; a field left
// out is not changed.
type orgPatch struct {
	Name               *string       `json:"name"`
	MaxFailedLogins    *int          `json:"max_failed_logins"`
	LockoutDuration    *jsonDuration `json:"lockout_duration"`
	FailureWindow      *jsonDuration `json:"failure_window"`
	AutoUnlock         *bool         `json:"auto_unlock"`
	MaxRequestsPerHour *int          `json:"max_requests_per_hour"`
	MaxUnverified      *int          `json:"max_unverified_per_hour"`
}

// Upper bounds of policy values, so that every value fits its column.
const (
	maxPolicyCount    = 1_000_000
	maxPolicyDuration = 100 * 365 * 24 * time.Hour
)

// check validates the fields that are given.
func (p orgPatch) check() error {
	if p.Name != nil {
		if *p.Name == "" {
			return domain.Errorf(domain.CodeInvalid, "name must not be empty")
		}
		if err := checkLength("name", *p.Name, maxNameBytes); err != nil {
			return err
		}
	}
	for field, v := range map[string]*int{"max_failed_logins": p.MaxFailedLogins, "max_requests_per_hour": p.MaxRequestsPerHour,
		"max_unverified_per_hour": p.MaxUnverified} {
		if v != nil && (*v < 0 || *v > maxPolicyCount) {
			return domain.Errorf(domain.CodeInvalid, "%s must be from 0 to %d", field, maxPolicyCount)
		}
	}
	for field, v := range map[string]*jsonDuration{"lockout_duration": p.LockoutDuration, "failure_window": p.FailureWindow} {
		if v != nil && (*v < 0 || time.Duration(*v) > maxPolicyDuration) {
			return domain.Errorf(domain.CodeInvalid, "%s must be from 0s to 36500d", field)
		}
	}
	return nil
}

// empty reports whether no field is given.
func (p orgPatch) empty() bool { return p == orgPatch{} }

// apply sets the given fields on o.
func (p orgPatch) apply(o *domain.Org) {
	if p.Name != nil {
		o.Name = *p.Name
	}
	if p.MaxFailedLogins != nil {
		o.Policy.MaxFailedLogins = *p.MaxFailedLogins
	}
	if p.LockoutDuration != nil {
		o.Policy.LockoutDuration = time.Duration(*p.LockoutDuration)
	}
	if p.FailureWindow != nil {
		o.Policy.FailureWindow = time.Duration(*p.FailureWindow)
	}
	if p.AutoUnlock != nil {
		o.Policy.AutoUnlock = *p.AutoUnlock
	}
	if p.MaxRequestsPerHour != nil {
		o.Policy.MaxRequestsPerHour = *p.MaxRequestsPerHour
	}
	if p.MaxUnverified != nil {
		o.Policy.MaxUnverifiedPerHour = *p.MaxUnverified
	}
}
