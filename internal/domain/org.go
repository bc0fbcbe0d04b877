package domain

import (
	"fmt"
	"regexp"
	"time"
)

// Org is a customer organisation.
type Org struct {
	ID     int64
	Slug   string
	Name   string
	Policy Policy
}

// Policy is an organisation's security policy (SPEC §2).
type Policy struct {
	// MaxFailedLogins locks a user after this many failures; 0 never locks.
	MaxFailedLogins int
	// LockoutDuration lifts a failed-login lock after this time; 0 keeps it
	// until someone unlocks it.
	LockoutDuration time.Duration
	// FailureWindow resets the failure counter after this much quiet time;
	// 0 never resets it.
	FailureWindow time.Duration
	// AutoUnlock applies verified email requests for failed-login locks
	// without a human.
	AutoUnlock bool
	// MaxRequestsPerHour caps the unlocks one contact may have applied by
	// email in an hour; 0 means no limit.
	MaxRequestsPerHour int
	// MaxUnverifiedPerHour caps the unverified requests from one contact
	// address that are answered in an hour; past it they are still
	// recorded and queued, silently. Counted apart from
	// MaxRequestsPerHour, so forged mail cannot use up the contact's own
	// limit. 0 means no limit.
	MaxUnverifiedPerHour int
}

// DefaultPolicy returns the policy a new organisation starts with.
func DefaultPolicy() Policy {
	return Policy{
		MaxFailedLogins:      5,
		LockoutDuration:      0,
		FailureWindow:        12 * time.Hour,
		AutoUnlock:           true,
		MaxRequestsPerHour:   10,
		MaxUnverifiedPerHour: 5,
	}
}

// Validate reports the first field of p that is out of range.
func (p Policy) Validate() error {
	switch {
	case p.MaxFailedLogins < 0:
		return invalidf("max_failed_logins must not be negative")
	case p.LockoutDuration < 0:
		return invalidf("lockout_duration must not be negative")
	case p.FailureWindow < 0:
		return invalidf("failure_window must not be negative")
	case p.MaxRequestsPerHour < 0:
		return invalidf("max_requests_per_hour must not be negative")
	case p.MaxUnverifiedPerHour < 0:
		return invalidf("max_unverified_per_hour must not be negative")
	}
	return nil
}

var slugPattern = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`)

// ValidateSlug checks that s can name an organisation: 1 to 63 lower-case
// letters, digits and inner hyphens.
func ValidateSlug(s string) error {
	if !slugPattern.MatchString(s) {
		return invalidf("org slug %q must be 1-63 lower-case letters, digits or inner hyphens", s)
	}
	return nil
}

// String returns the slug, for logs.
func (o Org) String() string { return fmt.Sprintf("org %s", o.Slug) }
