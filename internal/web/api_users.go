package web

import (
	"context"
	"net/http"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/store"
)

// apiUsers lists the org's users by username: ?status=locked|active,
// ?reason=failed_logins|admin (locked users with that reason).
func (s *Server) apiUsers(w http.ResponseWriter, r *http.Request, _ Principal) error {
	slug, err := orgParam(r)
	if err != nil {
		return err
	}
	if err := checkListQuery(r, "status", "reason", "limit", "cursor"); err != nil {
		return err
	}
	f, err := userFilter(r)
	if err != nil {
		return err
	}
	pg, err := readListPage(r, cursorUsers)
	if err != nil {
		return err
	}
	f.AfterUsername, f.Limit = pg.after, pg.limit
	users, err := s.listUsers(r.Context(), slug, f)
	if err != nil {
		return err
	}
	now := s.Now()
	views := make([]userJSON, len(users))
	for i, u := range users {
		views[i] = toUserJSON(slug, u, now)
	}
	return writeListJSON(w, pg, views, func(u userJSON) string { return u.Username })
}

// userFilter reads ?status= and ?reason=; a reason implies status locked.
func userFilter(r *http.Request) (store.UserFilter, error) {
	var f store.UserFilter
	q := r.URL.Query()
	if q.Has("status") {
		st, err := domain.ParseStatus(q.Get("status"))
		if err != nil {
			return f, err
		}
		f.Status = st
	}
	if q.Has("reason") {
		reason, err := domain.ParseLockReason(q.Get("reason"))
		if err != nil {
			return f, err
		}
		if f.Status == domain.StatusActive {
			return f, domain.Errorf(domain.CodeInvalid, "reason applies to locked users only")
		}
		f.Status, f.Reason = domain.StatusLocked, reason
	}
	return f, nil
}

// listUsers lists the org's users: from its directory, which lists locked
// accounts only, or from the store.
func (s *Server) listUsers(ctx context.Context, slug string, f store.UserFilter) ([]domain.User, error) {
	o, dir, err := s.remote(ctx, slug)
	if err != nil || dir == nil {
		if err != nil {
			return nil, err
		}
		return s.Store.ListUsers(ctx, slug, f)
	}
	if f.Status == domain.StatusActive {
		return nil, domain.Errorf(domain.CodeInvalid, "directory %s lists locked accounts only", dir.Name())
	}
	users, err := s.listRemote(ctx, o, dir, f.AfterUsername, remoteListLimit)
	if err != nil {
		return nil, err
	}
	limit := f.Limit
	if limit <= 0 {
		limit = remoteListLimit
	}
	out := users[:0]
	for _, u := range users {
		if (f.Reason == "" || (u.Lock != nil && u.Lock.Reason == f.Reason)) && len(out) < limit {
			out = append(out, u)
		}
	}
	return out, nil
}
