package web

import (
	"context"
	"slices"
	"strings"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/metrics"
	"github.com/unlockd/unlockd/internal/password"
	"github.com/unlockd/unlockd/internal/store"
)

// The actions below are what the API and the UI both do. Each checks that
// the principal may see the org, then calls one store service, which owns
// the transaction, the audit entry and any mail.

// approve approves a queued request within the principal's scope, with an
// optional note.
func (s *Server) approve(ctx context.Context, p Principal, id int64, note string) (store.Request, error) {
	if err := p.Allow(domain.RoleStaff, domain.RoleAdmin); err != nil {
		return store.Request{}, err
	}
	r, err := s.Store.ApproveRequest(ctx, id, p.Scope(), note, p.Actor, source(ctx), s.Answer)
	if err == nil {
		s.wake()
		s.unlocked(metrics.ChannelReview, 1)
	}
	return r, err
}

// reject declines a queued request within the principal's scope, with a
// note (domain.Item.Resolve says it is required).
func (s *Server) reject(ctx context.Context, p Principal, id int64, note string) (store.Request, error) {
	if err := p.Allow(domain.RoleStaff, domain.RoleAdmin); err != nil {
		return store.Request{}, err
	}
	r, err := s.Store.RejectRequest(ctx, id, p.Scope(), note, p.Actor, source(ctx), s.Answer)
	if err == nil {
		s.wake()
	}
	return r, err
}

// unlock unlocks one user.
func (s *Server) unlock(ctx context.Context, p Principal, org, username string) (domain.User, error) {
	if err := s.manage(p, org); err != nil {
		return domain.User{}, err
	}
	if o, dir, err := s.remote(ctx, org); err != nil || dir != nil {
		if err != nil {
			return domain.User{}, err
		}
		return s.unlockRemote(ctx, p, o, dir, username)
	}
	u, err := s.Store.UnlockUser(ctx, org, username, p.Actor, source(ctx))
	if err == nil {
		s.unlocked(metrics.ChannelHTTP, 1)
	}
	return u, err
}

// lock locks one user deliberately, with a note (domain.User.LockByAdmin).
func (s *Server) lock(ctx context.Context, p Principal, org, username, note string) (domain.User, error) {
	if err := s.manage(p, org); err != nil {
		return domain.User{}, err
	}
	if o, dir, err := s.remote(ctx, org); err != nil || dir != nil {
		if err != nil {
			return domain.User{}, err
		}
		return s.lockRemote(ctx, p, o, dir, username, note)
	}
	return s.Store.LockUser(ctx, org, username, note, p.Actor, source(ctx))
}

// resetFailedLogins unlocks every failed-login lock of the org.
func (s *Server) resetFailedLogins(ctx context.Context, p Principal, org string) ([]string, error) {
	if err := s.manage(p, org); err != nil {
		return nil, err
	}
	if o, dir, err := s.remote(ctx, org); err != nil || dir != nil {
		if err != nil {
			return nil, err
		}
		return s.resetRemote(ctx, p, o, dir)
	}
	names, err := s.Store.ResetFailedLogins(ctx, org, p.Actor, source(ctx))
	if err == nil {
		s.unlocked(metrics.ChannelHTTP, len(names))
	}
	return names, err
}

// setPassword sets a user's password: the chosen one when set, which must
// pass domain.CheckPassword (against the username and the user's email),
// otherwise a generated one, which is returned to be shown once. Passwords
// never appear in logs or audit entries.
func (s *Server) setPassword(ctx context.Context, p Principal, org, username string, chosen optionalString) (generated string, err error) {
	if err := s.manage(p, org); err != nil {
		return "", err
	}
	if o, dir, err := s.remote(ctx, org); err != nil || dir != nil {
		if err != nil {
			return "", err
		}
		return s.setPasswordRemote(ctx, p, o, dir, username, chosen)
	}
	pw := chosen.Value
	if chosen.Set {
		u, err := s.Store.User(ctx, org, username)
		if err != nil {
			return "", err
		}
		if err := domain.CheckPassword(pw, u.Username, u.Email); err != nil {
			return "", err
		}
	} else {
		pw = password.Generate()
	}
	hash, err := s.signInHashes.Hash(ctx, pw, password.Default)
	if err != nil {
		return "", err
	}
	if err := s.Store.SetPassword(ctx, org, username, hash, p.Actor, source(ctx)); err != nil {
		return "", err
	}
	if chosen.Set {
		return "", nil
	}
	return pw, nil
}

// manage checks the principal may change the org's users: staff and the
// org's admins.
func (s *Server) manage(p Principal, org string) error {
	if err := p.Org(org); err != nil {
		return err
	}
	return p.Allow(domain.RoleStaff, domain.RoleAdmin)
}

// changeOrg changes the org's name and policy settings given in patch,
// from the API or the UI's policy form alike; the store checks the result
// (domain.Org.Normalize).
func (s *Server) changeOrg(ctx context.Context, p Principal, org string, patch orgPatch) (domain.Org, error) {
	if err := p.Org(org); err != nil {
		return domain.Org{}, err
	}
	if err := p.Allow(domain.RoleStaff, domain.RoleAdmin); err != nil {
		return domain.Org{}, err
	}
	if patch.empty() {
		return domain.Org{}, domain.Errorf(domain.CodeInvalid, "no field to change")
	}
	if err := s.checkDirectory(p, patch.Directory); err != nil {
		return domain.Org{}, err
	}
	return s.Store.ChangeOrg(ctx, org, patch.apply, p.Actor, source(ctx))
}

// checkDirectory allows a change of an org's directory to staff only, and
// only to builtin or a configured directory (Config.Directories).
func (s *Server) checkDirectory(p Principal, name *string) error {
	if name == nil {
		return nil
	}
	if !p.Staff() {
		return domain.Errorf(domain.CodeForbidden, "only staff may change an org's directory")
	}
	if *name == domain.BuiltinDirectory || slices.Contains(s.Directories, *name) {
		return nil
	}
	return domain.Errorf(domain.CodeInvalid, "directory %.64q is not configured; it must be builtin or one of directories[].name (%s)",
		*name, strings.Join(append([]string{domain.BuiltinDirectory}, s.Directories...), ", "))
}

func (s *Server) unlocked(channel string, n int) {
	if s.Unlocked != nil && n > 0 {
		s.Unlocked(channel, n)
	}
}

func (s *Server) wake() {
	if s.Wake != nil {
		s.Wake()
	}
}
