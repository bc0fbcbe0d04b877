package web

import "net/http"

// ui serves the web UI: server-rendered pages for operators (SPEC §8).
// Each route has its own file, ui_<page>.go; sessions are in session.go and
// cross-site request forgery defences in csrf.go.
type ui struct {
	*Server
	pages pages
	// cop refuses cross-origin state-changing requests.
	cop *http.CrossOriginProtection
}

// uiRoutes registers the web UI at /. Templates are parsed here, once.
// Every route runs behind the cross-origin check; routes for operators
// (u.page) also need a session, and their POSTs the session's CSRF token.
func (s *Server) uiRoutes(mux *http.ServeMux) error {
	u := &ui{Server: s}
	var err error
	if u.pages, err = u.parsePages(); err != nil {
		return err
	}
	u.cop = u.crossOriginProtection()

	mux.Handle("GET /static/style.css", u.public(u.stylesheet))
	mux.Handle("GET /signin", u.public(u.signInPage))
	mux.Handle("POST /signin", u.public(u.signIn))
	mux.Handle("POST /signout", u.account(u.signOut))
	mux.Handle("GET "+totpPath, u.account(u.totpPage))
	mux.Handle("POST "+totpPath, u.account(u.enrolTOTP))
	mux.Handle("GET /confirm/{token}", u.public(u.confirmPage))
	mux.Handle("POST /confirm/{token}", u.public(u.confirm))

	mux.Handle("GET /{$}", u.page(u.home))
	mux.Handle("GET /queue", u.page(u.queuePage))
	mux.Handle("GET /requests/{id}", u.page(u.requestPage))
	mux.Handle("POST /requests/{id}/approve", u.page(u.approveRequest))
	mux.Handle("POST /requests/{id}/reject", u.page(u.rejectRequest))

	mux.Handle("GET /orgs", u.page(u.orgsPage))
	mux.Handle("GET /orgs/{org}", u.page(u.orgPage))
	mux.Handle("POST /orgs/{org}/reset-failed-logins", u.page(u.resetOrgFailedLogins))
	mux.Handle("GET /orgs/{org}/users", u.page(u.usersPage))
	mux.Handle("GET /orgs/{org}/users/{username}", u.page(u.userPage))
	mux.Handle("POST /orgs/{org}/users/{username}/unlock", u.page(u.unlockUser))
	mux.Handle("POST /orgs/{org}/users/{username}/lock", u.page(u.lockUser))
	mux.Handle("POST /orgs/{org}/users/{username}/password", u.page(u.setUserPassword))
	mux.Handle("GET /orgs/{org}/contacts", u.page(u.contactsPage))
	mux.Handle("POST /orgs/{org}/contacts", u.page(u.addContactForm))
	mux.Handle("POST /orgs/{org}/contacts/remove", u.page(u.removeContactForm))
	mux.Handle("GET /orgs/{org}/policy", u.page(u.policyPage))
	mux.Handle("POST /orgs/{org}/policy", u.page(u.savePolicy))
	mux.Handle("GET /orgs/{org}/audit", u.page(u.auditPage))

	mux.Handle("GET /dead-mail", u.page(u.deadMailPage))
	mux.Handle("POST /dead-mail/{id}/retry", u.page(u.retryMailForm))
	mux.Handle("POST /dead-mail/{id}/discard", u.page(u.discardMailForm))
	return nil
}

// home sends operators to the queue.
func (u *ui) home(w http.ResponseWriter, r *http.Request, _ *visit) error {
	http.Redirect(w, r, "/queue", http.StatusSeeOther)
	return nil
}
