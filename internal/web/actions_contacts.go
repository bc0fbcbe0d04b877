package web

import (
	"context"

	"github.com/unlockd/unlockd/internal/domain"
)

// Contacts are staff's to grant (SPEC §1): an org's admins may see the
// org's contacts but not add or remove one, since a contact's mail can
// unlock any user of the org, and an address shared with another org makes
// that org's requests ambiguous.

// grantContacts checks the principal may change the org's contacts: the
// org must be visible (another org's is not found), then the role staff.
func grantContacts(p Principal, org string) error {
	if err := p.Org(org); err != nil {
		return err
	}
	return p.Allow(domain.RoleStaff)
}

// addContact adds a contact to the org; the store checks it
// (domain.Contact.Normalize). The contact answered names, in SharedWith,
// the other orgs that have the same address.
func (s *Server) addContact(ctx context.Context, p Principal, org string, c domain.Contact) (domain.Contact, error) {
	if err := grantContacts(p, org); err != nil {
		return c, err
	}
	return s.Store.AddContact(ctx, org, c, p.Actor, source(ctx))
}

// removeContact removes a contact of the org, named by its address.
func (s *Server) removeContact(ctx context.Context, p Principal, org, email string) error {
	if err := grantContacts(p, org); err != nil {
		return err
	}
	if err := domain.CheckEmail("email", email); err != nil {
		return err
	}
	return s.Store.RemoveContact(ctx, org, email, p.Actor, source(ctx))
}
