package mailtest

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"github.com/unlockd/unlockd/internal/imapmem"
)

// IMAP credentials of the test mailbox.
const (
	IMAPUser     = "support@example.com"
	IMAPPassword = "imap-test-password"
)

// IMAPServer is an in-process IMAP server with one user.
type IMAPServer struct {
	Addr string
	User *imapmemserver.User

	srv *imapserver.Server
	ln  net.Listener

	mu       sync.Mutex
	commands map[string]int
}

// IMAPOptions tune the server; the zero value advertises IDLE and MOVE.
type IMAPOptions struct {
	NoIdle bool
	NoMove bool
	// OAuthToken, when set, makes the server accept AUTHENTICATE XOAUTH2
	// and OAUTHBEARER with this access token.
	OAuthToken string
	// OAuthMechanism, when set, is the only OAuth mechanism offered.
	OAuthMechanism string
	// TLS, when set, makes the server speak TLS with this configuration:
	// from the first byte (ImplicitTLS) or after STARTTLS.
	TLS         *tls.Config
	ImplicitTLS bool
}

// StartIMAP starts a server on a loopback port with INBOX, closed when the
// test ends.
func StartIMAP(tb testing.TB, opts IMAPOptions) *IMAPServer {
	tb.Helper()
	s, err := NewIMAP(opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// NewIMAP starts a server on a loopback port with INBOX; Close stops it.
// Tests use StartIMAP; this is for tools without a testing.TB.
func NewIMAP(opts IMAPOptions) (*IMAPServer, error) {
	user := imapmemserver.NewUser(IMAPUser, IMAPPassword)
	if err := user.Create("INBOX", nil); err != nil {
		return nil, err
	}
	caps := imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapUIDPlus: {}}
	if !opts.NoIdle {
		caps[imap.CapIdle] = struct{}{}
	}
	if !opts.NoMove {
		caps[imap.CapMove] = struct{}{}
	}
	s := &IMAPServer{User: user, commands: map[string]int{}}
	s.srv = imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			if opts.OAuthToken != "" {
				return &oauthSession{Session: imapmem.NewSession(user), token: opts.OAuthToken, only: opts.OAuthMechanism}, nil, nil
			}
			return imapmem.NewSession(user), nil, nil
		},
		Caps:         caps,
		InsecureAuth: opts.TLS == nil,
		TLSConfig:    opts.TLS,
		Logger:       log.New(io.Discard, "", 0),
		DebugWriter:  commandCounter{s},
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	if opts.TLS != nil && opts.ImplicitTLS {
		ln = tls.NewListener(ln, opts.TLS)
	}
	s.ln, s.Addr = ln, ln.Addr().String()
	go s.srv.Serve(ln)
	return s, nil
}

// Close stops the server.
func (s *IMAPServer) Close() error { return s.srv.Close() }

// Append adds a raw message to mailbox and returns its UID.
func (s *IMAPServer) Append(tb testing.TB, mailbox string, raw []byte) uint32 {
	tb.Helper()
	uid, err := s.Add(mailbox, raw)
	if err != nil {
		tb.Fatal(err)
	}
	return uid
}

// Add is Append for tools without a testing.TB.
func (s *IMAPServer) Add(mailbox string, raw []byte) (uint32, error) {
	data, err := s.User.Append(mailbox, literal{bytes.NewReader(raw), int64(len(raw))}, &imap.AppendOptions{Time: time.Now()})
	if err != nil {
		return 0, fmt.Errorf("mailtest: append to %s: %w", mailbox, err)
	}
	return uint32(data.UID), nil
}

// Count returns how many messages mailbox holds; 0 when it does not exist.
func (s *IMAPServer) Count(tb testing.TB, mailbox string) int {
	tb.Helper()
	n, err := s.Messages(mailbox)
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

// Messages is Count for tools without a testing.TB.
func (s *IMAPServer) Messages(mailbox string) (int, error) {
	if _, err := s.User.Status(mailbox, &imap.StatusOptions{}); err != nil {
		return 0, nil // not created yet
	}
	st, err := s.User.Status(mailbox, &imap.StatusOptions{NumMessages: true})
	if err != nil {
		return 0, fmt.Errorf("mailtest: status %s: %w", mailbox, err)
	}
	return int(*st.NumMessages), nil
}

// Commands returns how many times the client sent the named command (e.g.
// "UID FETCH") so far.
func (s *IMAPServer) Commands(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.commands[name]
}

type literal struct {
	*bytes.Reader
	size int64
}

func (l literal) Size() int64 { return l.size }

// commandCounter sees the raw protocol both ways and counts client command
// names (the words after the tag).
type commandCounter struct{ s *IMAPServer }

func (c commandCounter) Write(p []byte) (int, error) {
	for _, line := range bytes.Split(p, []byte("\r\n")) {
		f := bytes.Fields(line)
		if len(f) < 2 || f[0][0] == '*' || f[0][0] == '+' || bytes.Equal(f[1], []byte("OK")) || bytes.Equal(f[1], []byte("NO")) || bytes.Equal(f[1], []byte("BAD")) {
			continue
		}
		name := string(bytes.ToUpper(f[1]))
		if name == "UID" && len(f) > 2 {
			name += " " + string(bytes.ToUpper(f[2]))
		}
		c.s.mu.Lock()
		c.s.commands[name]++
		c.s.mu.Unlock()
	}
	return len(p), nil
}
