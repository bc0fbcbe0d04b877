package outbox

import (
	"time"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/store"
)

// DigestData is what the notify_digest templates render.
type DigestData struct {
	Sender string
	// Since is when the first listed request arrived (RFC 1123, UTC).
	Since string
	// Requests are the listed items, each with its request's subject.
	Requests []DigestItem
	// More counts items not listed.
	More int
	// LoopID is our X-Loop value.
	LoopID string
}

// DigestItem is one item of a digest.
type DigestItem struct {
	ItemView
	Subject  string
	Received string
}

// Digest renders the combined notice about one sender's unverified
// requests; it matches store.DigestRenderer: one notice to staff with every
// item, and one to the admins of each org with an admin lock among them,
// with that org's items only.
func (r *Renderer) Digest(d store.Digest) ([]domain.Mail, error) {
	all := r.digestData(d, func(store.Request) bool { return true })
	m, err := r.digestMail(all)
	if err != nil {
		return nil, err
	}
	m.Kind = domain.MailNotifyStaff
	out := []domain.Mail{m}
	seen := map[int64]bool{}
	for _, req := range d.Requests {
		org := req.OrgID
		if req.Reason != domain.QueueAdminLock || seen[org] {
			continue
		}
		seen[org] = true
		m, err := r.digestMail(r.digestData(d, func(q store.Request) bool { return q.OrgID == org }))
		if err != nil {
			return nil, err
		}
		m.Kind, m.OrgID = domain.MailNotifyAdmins, org
		out = append(out, m)
	}
	return out, nil
}

func (r *Renderer) digestData(d store.Digest, keep func(store.Request) bool) DigestData {
	data := DigestData{Sender: d.Sender, Since: d.Since.UTC().Format(time.RFC1123), More: d.More, LoopID: r.loopID}
	for _, q := range d.Requests {
		if keep(q) {
			data.Requests = append(data.Requests, DigestItem{ItemView: view(q.Item), Subject: q.Subject,
				Received: q.CreatedAt.UTC().Format(time.RFC1123)})
		}
	}
	return data
}

func (r *Renderer) digestMail(data DigestData) (domain.Mail, error) {
	subject, text, html, err := r.tmpl[tmplNotifyDigest].execute(data)
	if err != nil {
		return domain.Mail{}, err
	}
	return domain.Mail{Subject: subject, MessageID: r.newMessageID(), Text: text, HTML: html}, nil
}
