package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/store"
)

// Operator sessions. Signing in (ui_signin.go) stores a session and sets
// its random token in an HttpOnly, SameSite=Lax cookie for path /, Secure
// when Config.PublicURL is https; the store keeps only the token's SHA-256
// and enforces idle and absolute expiry on every lookup. Over plain http
// the cookie can be read on the wire: serve the UI over http only on
// loopback or for demos.

// The UI's cookies. Over https their names take the __Host- prefix, which
// browsers accept only from this host, with Secure and path /, so that a
// neighbouring subdomain cannot plant them.
const (
	sessionCookie = "unlockd_session"
	signInCookie  = "unlockd_signin"  // the sign-in form's CSRF token
	confirmCookie = "unlockd_confirm" // the confirm page's CSRF token
	flashCookie   = "unlockd_flash"
)

// visit is one request of a signed-in operator.
type visit struct {
	Principal Principal
	Email     string
	// CSRF is the session's token, carried by every form of the session.
	CSRF string
	// MustEnrol is set while the operator has to enrol a second factor
	// (Config.RequireTOTP): every page but enrolment and signing out sends
	// them there.
	MustEnrol bool
	operator  store.Operator
	token     string
}

// uiFunc is a handler for signed-in operators; an error it returns is
// rendered as the error page.
type uiFunc func(w http.ResponseWriter, r *http.Request, v *visit) error

// public wraps every UI route: security headers, then the cross-origin
// check, which refuses cross-site POSTs before any handler reads them.
func (u *ui) public(h http.HandlerFunc) http.Handler {
	checked := u.cop.Handler(h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hdr := w.Header()
		hdr.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		hdr.Set("X-Content-Type-Options", "nosniff")
		hdr.Set("Referrer-Policy", "same-origin")
		hdr.Set("Cache-Control", "no-store")
		checked.ServeHTTP(w, r)
	})
}

// page wraps a route for signed-in operators. Without a live session the
// visitor is sent to sign in, and an operator who must enrol a second
// factor first is sent to do so; a POST must carry the session's CSRF
// token.
func (u *ui) page(h uiFunc) http.Handler { return u.sessionPage(h, true) }

// account wraps the routes an operator who must enrol may use: enrolment
// and signing out.
func (u *ui) account(h uiFunc) http.Handler { return u.sessionPage(h, false) }

func (u *ui) sessionPage(h uiFunc, enrolled bool) http.Handler {
	return u.public(func(w http.ResponseWriter, r *http.Request) {
		v, err := u.loadVisit(r)
		if errors.Is(err, domain.ErrNotFound) {
			u.toSignIn(w, r)
			return
		}
		if err == nil && enrolled && v.MustEnrol {
			http.Redirect(w, r, totpPath, http.StatusSeeOther)
			return
		}
		if err == nil && r.Method == http.MethodPost {
			err = u.checkCSRF(w, r, v.CSRF)
		}
		if err == nil {
			r = r.WithContext(withPrincipal(r.Context(), v.Principal))
			err = h(w, r, v)
		}
		if err != nil {
			u.fail(w, r, v, err)
		}
	})
}

// loadVisit returns the visit of the session named by the request's
// cookie; domain.ErrNotFound when there is none or it expired.
func (u *ui) loadVisit(r *http.Request) (*visit, error) {
	token := u.cookieValue(r, sessionCookie)
	if token == "" {
		return nil, domain.ErrNotFound
	}
	sess, err := u.Store.Session(r.Context(), token)
	if err != nil {
		return nil, err
	}
	op := sess.Operator
	return &visit{
		Principal: Principal{Actor: "operator:" + op.Email, Role: op.Role, OrgSlug: op.OrgSlug},
		Email:     op.Email,
		CSRF:      sess.CSRFToken,
		MustEnrol: u.mustEnrol(op.Role, op.TOTP),
		operator:  op,
		token:     token,
	}, nil
}

// toSignIn sends a visitor without a session to the sign-in page; after
// signing in, a GET returns to the page it asked for.
func (u *ui) toSignIn(w http.ResponseWriter, r *http.Request) {
	if u.cookieValue(r, sessionCookie) != "" {
		u.setCookie(w, sessionCookie, "", -1, http.SameSiteLaxMode)
	}
	to := "/signin"
	if r.Method == http.MethodGet && r.URL.Path != "/" {
		to += "?next=" + url.QueryEscape(r.URL.RequestURI())
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// localPath returns p if it is a path on this site, else "/", so that the
// sign-in page's next parameter cannot send anyone elsewhere. Backslashes
// and control characters are refused outright: browsers read "/\\host"
// as "//host" and drop tabs, so "/\t/host" would be too.
func localPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") {
		return "/"
	}
	for _, c := range p {
		if c < 0x20 || c == 0x7f || c == '\\' {
			return "/"
		}
	}
	return p
}

// secure reports whether the UI is served over https, per Config.PublicURL.
func (u *ui) secure() bool { return strings.HasPrefix(strings.ToLower(u.PublicURL), "https://") }

func (u *ui) cookieName(base string) string {
	if u.secure() {
		return "__Host-" + base
	}
	return base
}

// setCookie sets (or, with maxAge -1, deletes) one of the UI's cookies;
// maxAge 0 makes a cookie that ends with the browser session.
func (u *ui) setCookie(w http.ResponseWriter, base, value string, maxAge int, sameSite http.SameSite) {
	http.SetCookie(w, &http.Cookie{Name: u.cookieName(base), Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: u.secure(), SameSite: sameSite})
}

func (u *ui) cookieValue(r *http.Request, base string) string {
	c, err := r.Cookie(u.cookieName(base))
	if err != nil {
		return ""
	}
	return c.Value
}
