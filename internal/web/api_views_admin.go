package web

import (
	"time"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/store"
)

// deadMailJSON is one dead mail: no body.
type deadMailJSON struct {
	ID        int64           `json:"id"`
	Kind      domain.MailKind `json:"kind"`
	To        string          `json:"to"`
	Subject   string          `json:"subject"`
	MessageID string          `json:"message_id"`
	Attempts  int             `json:"attempts"`
	LastError string          `json:"last_error"`
	CreatedAt time.Time       `json:"created_at"`
}

func toDeadMailJSON(m store.DeadMail) deadMailJSON {
	return deadMailJSON{ID: m.ID, Kind: m.Kind, To: m.To, Subject: m.Subject, MessageID: m.MessageID,
		Attempts: m.Attempts, LastError: m.LastError, CreatedAt: m.CreatedAt}
}

// orgDeletedJSON answers DELETE /orgs/{org}: what went with the org.
type orgDeletedJSON struct {
	Org            string `json:"org"`
	Users          int    `json:"users"`
	Contacts       int    `json:"contacts"`
	QueuedRequests int    `json:"queued_requests"`
}
