package web

import (
	"net/http"
	"strings"

	"github.com/unlockd/unlockd/internal/domain"
)

// The JSON API (SPEC §8). Every route is one line of apiTable and one
// handler in its own api_*.go file. A request passes these checks, in this
// order, and the first that fails answers:
//
//  1. Authentication (auth_token.go): no token, a malformed, unknown or
//     revoked one → 401 with WWW-Authenticate: Bearer.
//  2. Org visibility, for routes with {org} in the path: a principal bound
//     to another org → 404, exactly like a missing org (Principal.Org).
//     This comes before the role check, so an admin or service token
//     learns nothing about other orgs, not even that one exists: it never
//     sees 403 for another org's path.
//  3. Role: a principal whose role may not use the route → 403. For a route
//     with {org} that happens only on the principal's own org (see 2), so
//     403 says nothing about any other org; for a route without {org}
//     (orgs, requests, audit) the role check does not depend on the
//     request's target at all.
//  4. Input (api_input.go): the path's names and query parameters, then the
//     body (413, 415, 400). Nothing is written before input passes.
//  5. The handler. Objects of other orgs reached without {org} in the path
//     (a request id, ?org= on the audit log) are looked up within the
//     principal's scope, so they answer 404 too.
//
// Roles: staff may use everything; an admin everything on its own org
// except creating, listing or deleting orgs, changing contacts (it may
// list them) and dead mail; a service token only authenticate and
// failed-logins, on its own org.

// apiHandler serves one API route for an authorised principal. An error it
// returns is answered with the error shape; nothing may have been written
// then.
type apiHandler func(w http.ResponseWriter, r *http.Request, p Principal) error

// apiRoute is one endpoint: its ServeMux pattern, the roles that may use it
// and its handler: handle, or for the hot paths the host application and
// admins' scripts call most, call (api_call.go).
type apiRoute struct {
	pattern string
	roles   []domain.Role
	handle  apiHandler
	call    apiCallHandler
}

// apiTable lists every API route.
func (s *Server) apiTable() []apiRoute {
	staff := []domain.Role{domain.RoleStaff}
	managers := []domain.Role{domain.RoleStaff, domain.RoleAdmin}
	hosts := []domain.Role{domain.RoleStaff, domain.RoleService}
	const org = "/api/v1/orgs/{org}"
	const user = org + "/users/{username}"
	return []apiRoute{
		{"GET /api/v1/orgs", staff, s.apiOrgs, nil},
		{"POST /api/v1/orgs", staff, s.apiOrgCreate, nil},
		{"GET " + org, managers, s.apiOrg, nil},
		{"PATCH " + org, managers, s.apiOrgUpdate, nil},
		{"DELETE " + org, staff, s.apiOrgDelete, nil},
		{"GET " + org + "/contacts", managers, s.apiContacts, nil},
		{"POST " + org + "/contacts", staff, s.apiContactAdd, nil},
		{"PATCH " + org + "/contacts/{email}", staff, s.apiContactUpdate, nil},
		{"DELETE " + org + "/contacts/{email}", staff, s.apiContactRemove, nil},
		{"GET " + org + "/users", managers, s.apiUsers, nil},
		{"POST " + org + "/users", managers, s.apiUserCreate, nil},
		{"POST " + org + "/users/reset-failed-logins", managers, s.apiResetFailedLogins, nil},
		{"GET " + user, managers, s.apiUserAny, s.apiUser},
		{"PATCH " + user, managers, s.apiUserUpdate, nil},
		{"DELETE " + user, managers, s.apiUserDelete, nil},
		{"POST " + user + "/lock", managers, s.apiUserLock, nil},
		{"POST " + user + "/unlock", managers, s.apiUserUnlockAny, s.apiUserUnlock},
		{"POST " + user + "/password", managers, s.apiUserPassword, nil},
		{"POST " + user + "/failed-logins", hosts, s.apiFailedLogins, nil},
		{"POST " + org + "/authenticate", hosts, s.apiAuthenticate, nil},
		{"GET /api/v1/requests", managers, s.apiRequests, nil},
		{"GET /api/v1/requests/{id}", managers, s.apiRequest, nil},
		{"POST /api/v1/requests/{id}/approve", managers, s.apiRequestApprove, nil},
		{"POST /api/v1/requests/{id}/reject", managers, s.apiRequestReject, nil},
		{"GET /api/v1/audit", managers, s.apiAudit, nil},
		{"GET /api/v1/dead-mail", staff, s.apiDeadMail, nil},
		{"POST /api/v1/dead-mail/{id}/retry", staff, s.apiDeadMailRetry, nil},
		{"DELETE /api/v1/dead-mail/{id}", staff, s.apiDeadMailDiscard, nil},
	}
}

// apiRoutes registers the JSON API under /api/v1, and a catch-all that
// answers unknown API paths and methods with the error shape.
func (s *Server) apiRoutes(mux *http.ServeMux) {
	for _, rt := range s.apiTable() {
		// With remote directories configured, a hot path's org may be one
		// the store cannot answer for alone: it takes the ordinary way.
		if rt.call != nil && (rt.handle == nil || len(s.Remote) == 0) {
			mux.Handle(rt.pattern, s.apiServeCall(rt))
			continue
		}
		mux.Handle(rt.pattern, s.requireToken(s.apiServe(rt)))
	}
	// One catch-all per method: a method-less "/api/v1/" would conflict
	// with a UI pattern such as "GET /".
	for _, m := range apiMethods {
		mux.HandleFunc(m+" "+apiPrefix, s.apiUnknown)
	}
}

const apiPrefix = "/api/v1/"

// apiMethods are the methods the API's catch-all answers for.
var apiMethods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// apiServe applies checks 2 and 3 of the rule above, then the handler.
func (s *Server) apiServe(rt apiRoute) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := principal(r.Context())
		err := rt.authorize(r, p)
		if err == nil {
			err = rt.handle(w, r, p)
		}
		if err != nil {
			s.writeError(w, r, err)
		}
	})
}

// authorize applies checks 2 and 3 of the rule above.
func (rt apiRoute) authorize(r *http.Request, p Principal) error {
	if strings.Contains(rt.pattern, "{org}") {
		if err := p.Org(r.PathValue("org")); err != nil {
			return err
		}
	}
	return p.Allow(rt.roles...)
}

// apiUnknown answers a path under /api/v1 that no route matches: 405 with
// Allow when the path exists for other methods, 404 otherwise.
func (s *Server) apiUnknown(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range apiMethods {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "" && !strings.HasSuffix(pattern, " "+apiPrefix) {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		s.writeError(w, r, domain.Errorf(codeMethod, "method %s is not allowed here", r.Method))
		return
	}
	s.writeError(w, r, domain.Errorf(domain.CodeNotFound, "no API route %s", r.URL.Path))
}
