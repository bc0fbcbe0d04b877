// Package imapmem serves go-imap's in-memory users (imapmemserver) with one
// fix, for the demo and the test peers: IDLE first reports the mailbox
// updates queued before it.
//
// imapmemserver (go-imap v2.0.0-beta.8) queues updates per session but only
// wakes an IDLE for updates that arrive while it runs, so a message appended
// between a client's last command and its IDLE went unannounced until the
// next change. Real servers announce it. A few instructions between the
// Poll and the IDLE registration remain uncovered; that gap is far below
// anything a client can hit by timing its commands.
package imapmem

import (
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
)

// Session is a session of one in-memory user.
type Session struct {
	*imapmemserver.UserSession
}

// NewSession returns a session of user; it accepts the user's own login.
func NewSession(user *imapmemserver.User) *Session {
	return &Session{imapmemserver.NewUserSession(user)}
}

// Idle reports the updates already queued, then waits for more until stop
// is closed.
func (s *Session) Idle(w *imapserver.UpdateWriter, stop <-chan struct{}) error {
	if err := s.Poll(w, true); err != nil {
		return err
	}
	return s.UserSession.Idle(w, stop)
}
