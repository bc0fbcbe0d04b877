package outbox

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/store"
)

// ConfirmPath is where confirmation links point, below PublicURL; the
// token follows it.
const ConfirmPath = "/confirm/"

// errNoPublicURL is the render error of a link without a base to put it
// under: the configuration makes no links then (app), so it is a bug.
var errNoPublicURL = errors.New("outbox: a confirmation link needs http.public_url")

// link puts the request's confirmation link, if the decision made one,
// into the reply: PublicURL, ConfirmPath and the token.
func (r *Renderer) link(data *ReplyData, c *store.ConfirmMail) error {
	if c == nil {
		return nil
	}
	if r.PublicURL == "" {
		return errNoPublicURL
	}
	data.ConfirmURL = strings.TrimRight(r.PublicURL, "/") + ConfirmPath + url.PathEscape(c.Token)
	data.ConfirmFor = durationWords(c.TTL)
	data.ConfirmUntil = c.ExpiresAt.UTC().Format("2 Jan 2006 15:04 UTC")
	return nil
}

// confirmed renders the answer to a request its contact confirmed by link:
// each item as the link left it, unlocked or still queued and why.
func (r *Renderer) confirmed(a store.FollowUp) (domain.Mail, error) {
	f := FollowUp{DecisionID: a.DecisionID, To: a.To, Subject: a.Subject, MessageID: a.MessageID}
	items := make([]domain.Item, len(a.Items))
	for i, it := range a.Items {
		it.Confirmable = false // used: nothing waits for the link any more
		items[i] = it
	}
	return r.followUp(f, store.FollowUpConfirmed, "", items...)
}

// durationWords says d in words: "30 minutes", "2 hours", "1 hour 30
// minutes".
func durationWords(d time.Duration) string {
	d = d.Round(time.Second)
	var parts []string
	for _, u := range []struct {
		unit time.Duration
		name string
	}{{24 * time.Hour, "day"}, {time.Hour, "hour"}, {time.Minute, "minute"}, {time.Second, "second"}} {
		if n := d / u.unit; n > 0 {
			d -= n * u.unit
			word := u.name
			if n > 1 {
				word += "s"
			}
			parts = append(parts, fmt.Sprintf("%d %s", n, word))
		}
	}
	if len(parts) == 0 {
		return "a moment"
	}
	return strings.Join(parts, " ")
}
