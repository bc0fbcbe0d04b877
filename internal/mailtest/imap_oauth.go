package mailtest

import (
	"bytes"
	"errors"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-sasl"
)

// oauthSession adds the XOAUTH2 and OAUTHBEARER mechanisms to a session:
// a client presenting the expected token is logged in as IMAPUser.
type oauthSession struct {
	imapserver.Session
	token string
	only  string // when set, the one mechanism offered
}

var _ imapserver.SessionSASL = (*oauthSession)(nil)

func (s *oauthSession) AuthenticateMechanisms() []string {
	if s.only != "" {
		return []string{s.only}
	}
	return []string{"XOAUTH2", sasl.OAuthBearer}
}

func (s *oauthSession) Authenticate(mech string) (sasl.Server, error) {
	switch mech {
	case sasl.OAuthBearer:
		return sasl.NewOAuthBearerServer(func(o sasl.OAuthBearerOptions) *sasl.OAuthBearerError {
			if o.Username != IMAPUser || o.Token != s.token || s.Session.Login(IMAPUser, IMAPPassword) != nil {
				return &sasl.OAuthBearerError{Status: "invalid_token"}
			}
			return nil
		}), nil
	case "XOAUTH2":
		return xoauth2Server{s}, nil
	}
	return nil, errors.New("unsupported mechanism")
}

type xoauth2Server struct{ s *oauthSession }

func (x xoauth2Server) Next(resp []byte) ([]byte, bool, error) {
	want := []byte("user=" + IMAPUser + "\x01auth=Bearer " + x.s.token + "\x01\x01")
	if !bytes.Equal(resp, want) || x.s.Session.Login(IMAPUser, IMAPPassword) != nil {
		return nil, true, imapserver.ErrAuthFailed
	}
	return nil, true, nil
}

// Move forwards MOVE, which the embedded interface does not expose.
func (s *oauthSession) Move(w *imapserver.MoveWriter, numSet imap.NumSet, dest string) error {
	return s.Session.(imapserver.SessionMove).Move(w, numSet, dest)
}
