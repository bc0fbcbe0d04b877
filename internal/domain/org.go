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
	// Directory names the configured directory holding the org's users;
	// empty means BuiltinDirectory.
	Directory string
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
	// EmailConfirmation says which requests get a one-time confirmation
	// link to the contact's address on record (ConfirmPolicy); the zero
	// value is ConfirmOff.
	EmailConfirmation ConfirmPolicy
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
		EmailConfirmation:    ConfirmUnverified,
	}
}

// Bounds of the policy's settings. Counts fit the columns' INTEGER and
// durations, kept in whole seconds, their BIGINT, on both engines.
const (
	// MaxPolicyCount bounds max_failed_logins, max_requests_per_hour and
	// max_unverified_per_hour.
	MaxPolicyCount = 1_000_000
	// MaxPolicyDuration bounds lockout_duration and failure_window:
	// 36500 days.
	MaxPolicyDuration = 36500 * 24 * time.Hour
)

// Validate reports the first setting of p that is out of range, naming it
// by its key (max_failed_logins, lockout_duration, ...): counts run from 0
// to MaxPolicyCount; email_confirmation is a ConfirmPolicy (or unset,
// meaning off); durations from 0 to MaxPolicyDuration in whole seconds, since that is what is kept, so that 500ms is refused rather than
// stored as 0s (which would make a temporary lock permanent).
func (p Policy) Validate() error {
	for _, c := range []struct {
		key string
		v   int
	}{{"max_failed_logins", p.MaxFailedLogins}, {"max_requests_per_hour", p.MaxRequestsPerHour},
		{"max_unverified_per_hour", p.MaxUnverifiedPerHour}} {
		if c.v < 0 || c.v > MaxPolicyCount {
			return invalidf("%s must be a whole number from 0 to %d", c.key, MaxPolicyCount)
		}
	}
	if p.EmailConfirmation != "" {
		if _, err := ParseConfirmPolicy(string(p.EmailConfirmation)); err != nil {
			return err
		}
	}
	for _, d := range []struct {
		key string
		v   time.Duration
	}{{"lockout_duration", p.LockoutDuration}, {"failure_window", p.FailureWindow}} {
		switch {
		case d.v < 0 || d.v > MaxPolicyDuration:
			return invalidf("%s must be from 0s to 36500d", d.key)
		case d.v%time.Second != 0:
			return invalidf("%s must be a whole number of seconds, not %s", d.key, d.v)
		}
	}
	return nil
}

// Normalize trims the spaces around o's name and checks o as it will be
// stored: a valid slug (ValidateSlug), a name (RequireName), a directory
// name (empty: builtin; whether it is configured is the caller's check)
// and a valid policy, whose zero email_confirmation is stored as off. It returns the
// first problem, naming its field.
func (o *Org) Normalize() error {
	if err := ValidateSlug(o.Slug); err != nil {
		return err
	}
	name, err := RequireName("name", o.Name)
	if err != nil {
		return err
	}
	o.Name = name
	if o.Policy.EmailConfirmation == "" {
		o.Policy.EmailConfirmation = ConfirmOff
	}
	if o.Directory == "" {
		o.Directory = BuiltinDirectory
	}
	if err := ValidateDirectoryName(o.Directory); err != nil {
		return err
	}
	return o.Policy.Validate()
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
