package web

import (
	"net/http"

	"github.com/unlockd/unlockd/internal/metrics"
)

// confirm is the Confirm button of a confirmation link: after the client's
// budget and the form's double-submit token, the store applies the link
// in one transaction, exactly once, as an authenticated request from the
// contact would be decided, and queues the threaded answer (for users of
// a remote directory, once it answered: the wake reaches the apply
// worker); the page then says what happened. A second press finds the
// link used (410).
func (u *ui) confirm(w http.ResponseWriter, r *http.Request) {
	if !u.confirmAllowed(w, r) {
		return
	}
	if err := u.checkCSRF(w, r, u.cookieValue(r, confirmCookie)); err != nil {
		u.confirmFailed(w, r, err)
		return
	}
	ctx := r.Context()
	token := r.PathValue("token")
	c, err := u.Store.Confirm(ctx, token, source(ctx), u.Answer)
	if err != nil {
		u.confirmFailed(w, r, err)
		return
	}
	u.unlocked(metrics.ChannelLink, c.Unlocked())
	u.wake()
	u.Log.Info("request confirmed by link", "decision", c.Link.DecisionID, "unlocked", c.Unlocked(), "applying", c.Applying(),
		"queued", len(c.Items)-c.Unlocked()-c.Applying(), "request_id", httpRequestID(ctx), "client", clientAddr(ctx).String())
	d := confirmDataOf(token, c)
	d.Done = true
	u.renderConfirm(w, r, http.StatusOK, d)
}
