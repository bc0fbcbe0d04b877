package web

import (
	"crypto/rand"
	"crypto/subtle"
	"net/http"

	"github.com/unlockd/unlockd/internal/domain"
)

// Cross-site request forgery is refused twice over:
//
//  1. Every UI route runs behind http.CrossOriginProtection, which refuses
//     a state-changing request that the browser marks cross-site
//     (Sec-Fetch-Site) or whose Origin names another host.
//  2. Every form carries a token in a hidden "csrf" field, compared in
//     constant time: a signed-in operator's forms carry the session's
//     token, kept in the store beside the session; the sign-in form, which
//     has no session yet, carries a random token that is also set in a
//     SameSite=Strict cookie (double submit), so that nobody can sign a
//     victim into another account from a page of theirs. The confirm
//     page of a confirmation link, for contacts who have no session,
//     works the same way with a cookie of its own (formToken).

// maxFormBytes bounds the body of a UI form.
const maxFormBytes = 64 << 10

// crossOriginProtection returns the cross-origin check, answering refusals
// with the error page.
func (u *ui) crossOriginProtection() *http.CrossOriginProtection {
	c := http.NewCrossOriginProtection()
	c.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.fail(w, r, nil, domain.Errorf(domain.CodeForbidden, "cross-origin request refused"))
	}))
	return c
}

// checkCSRF reads the form, bounded, and checks its csrf field against
// want, the token the form was rendered with.
func (u *ui) checkCSRF(w http.ResponseWriter, r *http.Request, want string) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return domain.Errorf(domain.CodeInvalid, "the form could not be read")
	}
	got := r.PostForm.Get("csrf")
	if want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return domain.Errorf(domain.CodeForbidden,
			"this form has expired or did not come from this site: go back, reload the page and try again")
	}
	return nil
}

// formToken returns the double-submit token of a form for visitors
// without a session: the one in the browser's cookie base, or, when it has
// none, a new random one (130 bits), set in that SameSite=Strict cookie.
func (u *ui) formToken(w http.ResponseWriter, r *http.Request, base string) string {
	t := u.cookieValue(r, base)
	if len(t) < 26 {
		t = rand.Text()
		u.setCookie(w, base, t, 0, http.SameSiteStrictMode)
	}
	return t
}
