package demo

import (
	"context"
	"fmt"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/password"
	"github.com/unlockd/unlockd/internal/store"
)

// The demo's organisation, people and addresses.
const (
	orgSlug      = "acme"
	orgName      = "Acme Ltd"
	orgDomain    = "acme.example"
	contactEmail = "it@acme.example"
	contactName  = "Acme IT"
	staffEmail   = "staff@unlockd.demo"
	adminEmail   = "admin@acme.example"
	supportEmail = "support@unlockd.demo"
	// actor and source name the demo in audit entries.
	actor  = "demo"
	source = "demo"
	// maxFailures bounds the failed logins reported to lock a user, in case
	// the policy never locks.
	maxFailures = 100
)

// demoUser is one seeded user and how it is left.
type demoUser struct {
	username, name string
	lock           domain.LockReason // "" for an active user
	note           string            // the admin's note on a deliberate lock
}

// users are the seeded users of the org. rpatel is locked like jsmith so
// that the forged request has a locked account to aim at: jsmith is
// already unlocked by the verified request by then.
var users = []demoUser{
	{username: "jsmith", name: "John Smith", lock: domain.LockFailedLogins},
	{username: "mlopez", name: "Maria Lopez", lock: domain.LockAdmin, note: "laptop reported stolen; IT must check it first"},
	{username: "rpatel", name: "Raj Patel", lock: domain.LockFailedLogins},
	{username: "tlee", name: "Tina Lee"},
}

// operators are the seeded web-UI accounts: support staff, and an admin of
// the org, who is told when someone asks to lift a deliberate lock.
var operators = []store.Operator{
	{Email: staffEmail, Role: domain.RoleStaff},
	{Email: adminEmail, Role: domain.RoleAdmin, OrgSlug: orgSlug},
}

// signIn is an operator account with the password made for it.
type signIn struct {
	store.Operator
	password string
}

// seed creates the org, its contact and users, and the operators with
// fresh passwords, which it returns: they are printed once, for signing in.
// With inLDAP the org's directory is the demo's slapd, which holds the
// users already.
func seed(ctx context.Context, st *store.Store, inLDAP bool) ([]signIn, error) {
	org := domain.Org{Slug: orgSlug, Name: orgName, Policy: domain.DefaultPolicy()}
	if inLDAP {
		org.Directory = ldapName
	}
	if _, err := st.CreateOrg(ctx, org); err != nil {
		return nil, fmt.Errorf("demo: seed org: %w", err)
	}
	if _, err := st.AddContact(ctx, orgSlug, domain.Contact{Email: contactEmail, Name: contactName}, actor, source); err != nil {
		return nil, fmt.Errorf("demo: seed contact: %w", err)
	}
	for _, u := range users {
		if inLDAP {
			break
		}
		if err := seedUser(ctx, st, u); err != nil {
			return nil, err
		}
	}
	out := make([]signIn, len(operators))
	for i, op := range operators {
		pw := password.Generate()
		hash, err := password.Hash(pw, password.Default)
		if err != nil {
			return nil, fmt.Errorf("demo: seed operator %s: %w", op.Email, err)
		}
		if out[i].Operator, err = st.AddOperator(ctx, op, hash, actor, source); err != nil {
			return nil, fmt.Errorf("demo: seed operator %s: %w", op.Email, err)
		}
		out[i].password = pw
	}
	return out, nil
}

// seedUser creates u and locks it the way a real one would be: failed
// logins reported until the org's policy locks it, or an admin's lock.
func seedUser(ctx context.Context, st *store.Store, u demoUser) error {
	user := domain.User{Username: u.username, DisplayName: u.name, Email: u.username + "@" + orgDomain}
	if _, err := st.CreateUser(ctx, orgSlug, user, actor, source); err != nil {
		return fmt.Errorf("demo: seed user %s: %w", u.username, err)
	}
	switch u.lock {
	case domain.LockFailedLogins:
		for range maxFailures {
			res, err := st.RecordLogin(ctx, orgSlug, u.username, false, source)
			if err != nil {
				return fmt.Errorf("demo: failed login of %s: %w", u.username, err)
			}
			if res == domain.LoginLocked {
				return nil
			}
		}
		return fmt.Errorf("demo: %s not locked after %d failed logins", u.username, maxFailures)
	case domain.LockAdmin:
		if _, err := st.LockUser(ctx, orgSlug, u.username, u.note, actor, source); err != nil {
			return fmt.Errorf("demo: lock %s: %w", u.username, err)
		}
	}
	return nil
}
