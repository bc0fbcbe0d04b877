package web

import (
	"context"

	"github.com/unlockd/unlockd/internal/domain"
)

// Principal is who makes a request: an API token or a signed-in operator.
type Principal struct {
	// Actor names the principal in audit entries: "token:<name>" or
	// "operator:<email>".
	Actor string
	Role  domain.Role
	// OrgSlug binds admin and service principals to one org; empty for
	// staff.
	OrgSlug string
}

// Staff reports whether the principal may act on every org.
func (p Principal) Staff() bool { return p.Role == domain.RoleStaff }

// Org checks that the principal may see the org named slug. Another org's
// data answers not found, exactly like a missing org, so that nothing about
// it leaks.
func (p Principal) Org(slug string) error {
	if p.Staff() || (p.OrgSlug != "" && p.OrgSlug == slug) {
		return nil
	}
	return domain.Errorf(domain.CodeNotFound, "org %q not found", slug)
}

// Scope is the org filter for lists: "" (every org) for staff, the bound
// org otherwise.
func (p Principal) Scope() string {
	if p.Staff() {
		return ""
	}
	return p.OrgSlug
}

// Allow checks the principal has one of roles; a principal that may not use
// a route at all is forbidden.
func (p Principal) Allow(roles ...domain.Role) error {
	for _, r := range roles {
		if p.Role == r {
			return nil
		}
	}
	return domain.Errorf(domain.CodeForbidden, "role %s may not do this", p.Role)
}

type ctxKey int

const (
	principalKey ctxKey = iota
	requestIDKey
	clientAddrKey
)

// withPrincipal stores the authenticated principal in ctx.
func withPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey, p)
}

// principal returns the principal the auth middleware stored.
func principal(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey).(Principal)
	return p, ok
}

func withRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey, id)
}

// source names the channel of a change for audit entries: "http:<id> from
// <client address>".
func source(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	if a := clientAddr(ctx); a.IsValid() {
		return "http:" + id + " from " + a.String()
	}
	return "http:" + id
}

// httpRequestID returns the id Server.ServeHTTP gave the request.
func httpRequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}
