package demo

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"log"
	"net"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"github.com/unlockd/unlockd/internal/imapmem"
)

// imapUser is the login of the demo support mailbox.
const imapUser = "support@unlockd.demo"

// imapServer is an in-memory IMAP server on a loopback port holding the
// support mailbox, with IDLE and MOVE like a real provider.
type imapServer struct {
	addr     string
	password string // made at start; plain text is fine on loopback
	user     *imapmemserver.User
	srv      *imapserver.Server
}

func startIMAP() (*imapServer, error) {
	s := &imapServer{password: rand.Text()}
	s.user = imapmemserver.NewUser(imapUser, s.password)
	if err := s.user.Create("INBOX", nil); err != nil {
		return nil, fmt.Errorf("demo: IMAP: create INBOX: %w", err)
	}
	s.srv = imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return imapmem.NewSession(s.user), nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapUIDPlus: {}, imap.CapIdle: {}, imap.CapMove: {}},
		InsecureAuth: true, // loopback only
		Logger:       log.New(io.Discard, "", 0),
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("demo: IMAP: listen: %w", err)
	}
	s.addr = ln.Addr().String()
	go s.srv.Serve(ln)
	return s, nil
}

// deliver puts a raw message into INBOX, as a mail server would; a client
// in IDLE hears of it at once.
func (s *imapServer) deliver(raw []byte) error {
	_, err := s.user.Append("INBOX", literal{bytes.NewReader(raw)}, &imap.AppendOptions{Time: time.Now()})
	if err != nil {
		return fmt.Errorf("demo: IMAP: deliver: %w", err)
	}
	return nil
}

// close stops the server and drops its connections.
func (s *imapServer) close() { s.srv.Close() }

// literal is a message body for imapmemserver's Append.
type literal struct{ *bytes.Reader }

func (l literal) Size() int64 { return l.Reader.Size() }
