package web

import (
	"context"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/store"
)

// The admin actions below are what the API, the UI and (through the same
// store services) the command line do to orgs, users, contacts and dead
// mail beyond the daily work.

// deleteOrg deletes an org with its users, contacts and requests; staff
// only. Its audit entries stay, under its slug.
func (s *Server) deleteOrg(ctx context.Context, p Principal, slug string) (store.OrgDeleted, error) {
	if err := p.Org(slug); err != nil {
		return store.OrgDeleted{}, err
	}
	if err := p.Allow(domain.RoleStaff); err != nil {
		return store.OrgDeleted{}, err
	}
	return s.Store.DeleteOrg(ctx, slug, p.Actor, source(ctx))
}

// updateUser changes a user's display name or address.
func (s *Server) updateUser(ctx context.Context, p Principal, org, username string, c store.UserChange) (domain.User, error) {
	if err := s.manage(p, org); err != nil {
		return domain.User{}, err
	}
	return s.Store.UpdateUser(ctx, org, username, c, p.Actor, source(ctx))
}

// deleteUser deletes a user of the org.
func (s *Server) deleteUser(ctx context.Context, p Principal, org, username string) error {
	if err := s.manage(p, org); err != nil {
		return err
	}
	return s.Store.DeleteUser(ctx, org, username, p.Actor, source(ctx))
}

// renameContact renames a contact of the org; staff only, as contacts are
// staff's to grant.
func (s *Server) renameContact(ctx context.Context, p Principal, org, email, name string) (domain.Contact, error) {
	if err := grantContacts(p, org); err != nil {
		return domain.Contact{}, err
	}
	if err := domain.CheckEmail("email", email); err != nil {
		return domain.Contact{}, err
	}
	return s.Store.RenameContact(ctx, org, email, name, p.Actor, source(ctx))
}

// retryMail puts dead mail back in the queue and wakes the worker; staff
// only (mail of any org).
func (s *Server) retryMail(ctx context.Context, p Principal, id int64) (store.DeadMail, error) {
	if err := p.Allow(domain.RoleStaff); err != nil {
		return store.DeadMail{}, err
	}
	m, err := s.Store.RetryMail(ctx, id, p.Actor, source(ctx))
	if err == nil {
		s.wake()
	}
	return m, err
}

// discardMail deletes dead mail unsent; staff only.
func (s *Server) discardMail(ctx context.Context, p Principal, id int64) (store.DeadMail, error) {
	if err := p.Allow(domain.RoleStaff); err != nil {
		return store.DeadMail{}, err
	}
	return s.Store.DiscardMail(ctx, id, p.Actor, source(ctx))
}
