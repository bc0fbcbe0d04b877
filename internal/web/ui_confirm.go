package web

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/store"
)

// The confirm page of a confirmation link (SPEC §3.5), for a contact, who
// has no session: GET /confirm/{token} shows what the link would do and
// changes nothing, since mail scanners fetch every link in a message;
// the Confirm button POSTs (ui_confirm_apply.go). Both are throttled per
// client address, and the token never reaches a log.

// confirmData is the confirm page's Data.
type confirmData struct {
	// Token is the link's token, for the form's action.
	Token string
	// CSRF is the form's double-submit token (csrf.go).
	CSRF string
	// Contact is the address the link was sent to.
	Contact string
	Subject string
	// Authenticated: the request was signed, and the org asks for a link
	// on every request.
	Authenticated bool
	// Orgs names the organisations of the items.
	Orgs []string
	// Unlock are the users the link unlocks (or, Done, unlocked); Queued
	// those that stay queued, each with why.
	Unlock, Queued []confirmItem
	// Applying are the users the link has their remote directory unlock
	// after the click: Done, the page says they are being applied, never
	// unlocked, as the directory has not answered yet.
	Applying  []confirmItem
	ExpiresAt time.Time
	// Done is set on the answer to the Confirm button.
	Done bool
	// Problem, when set, is why the link did nothing (used, expired,
	// unknown, throttled, a form from elsewhere); nothing else is shown.
	// Retry is set when trying again later may work.
	Problem string
	Retry   bool
}

// confirmItem is one user on the confirm page.
type confirmItem struct {
	Org         string
	Username    string
	DisplayName string
	// Why says why the user stays queued.
	Why string
}

// confirmDataOf shows a store.Confirmation.
func confirmDataOf(token string, c store.Confirmation) confirmData {
	d := confirmData{Token: token, Contact: c.Contact, Subject: c.Subject, Authenticated: c.Authenticated, ExpiresAt: c.Link.ExpiresAt}
	seen := map[int64]bool{}
	for _, it := range c.Items {
		if !seen[it.Org.ID] {
			seen[it.Org.ID] = true
			d.Orgs = append(d.Orgs, it.Org.Name)
		}
		v := confirmItem{Org: it.Org.Name, Username: it.Item.Username, DisplayName: it.User.DisplayName}
		switch it.Item.State {
		case domain.ItemApplied:
			d.Unlock = append(d.Unlock, v)
			continue
		case domain.ItemApplying:
			d.Applying = append(d.Applying, v)
			continue
		}
		v.Why = describe(queueReasons, it.Item.Reason)
		d.Queued = append(d.Queued, v)
	}
	return d
}

// confirmPage shows what the link would do, with the Confirm button.
func (u *ui) confirmPage(w http.ResponseWriter, r *http.Request) {
	if !u.confirmAllowed(w, r) {
		return
	}
	token := r.PathValue("token")
	c, err := u.Store.PreviewConfirmation(r.Context(), token)
	if err != nil {
		u.confirmFailed(w, r, err)
		return
	}
	d := confirmDataOf(token, c)
	d.CSRF = u.formToken(w, r, confirmCookie)
	u.renderConfirm(w, r, http.StatusOK, d)
}

// msgConfirmThrottled answers a client over its budget of link uses.
const msgConfirmThrottled = "too many confirmation links opened from your address: try again in a minute"

// confirmAllowed spends one of the client's link uses (the sign-in
// limits, counted apart), or answers 429.
func (u *ui) confirmAllowed(w http.ResponseWriter, r *http.Request) bool {
	if ok, wait := u.confirmClients.take(clientAddr(r.Context()), u.Now()); !ok {
		u.confirmFailed(w, r, rateLimited(w, wait, msgConfirmThrottled))
		return false
	}
	return true
}

// confirmFailed answers the confirm page with err's status and words
// alone: 404 for an unknown link, 410 for a used, expired or decided one.
// Internal errors are logged, without the path, which holds the token.
func (u *ui) confirmFailed(w http.ResponseWriter, r *http.Request, err error) {
	code := errorCode(err)
	if code == domain.CodeInternal || code == codeUnavailable {
		u.Log.Error("confirm page failed", "method", r.Method, "request_id", httpRequestID(r.Context()),
			"client", clientAddr(r.Context()).String(), slog.Any("error", err))
	}
	retry := code != domain.CodeGone && code != domain.CodeNotFound
	u.renderConfirm(w, r, status(code), confirmData{Problem: errorMessage(err), Retry: retry})
}

// renderConfirm renders the confirm page; a template error is the
// generic error page.
func (u *ui) renderConfirm(w http.ResponseWriter, r *http.Request, status int, d confirmData) {
	title := "Confirm your unlock request"
	if d.Problem != "" {
		title = "Confirmation link"
	}
	if err := u.render(w, r, status, "confirm", view{Title: title, Data: d}); err != nil {
		u.Log.Error("render confirm page", "request_id", httpRequestID(r.Context()), slog.Any("error", err))
		http.Error(w, "internal error", http.StatusInternalServerError)
	}
}
