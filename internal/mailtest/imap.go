package mailtest

import (
	"bytes"
	"crypto/tls"
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
	user := imapmemserver.NewUser(IMAPUser, IMAPPassword)
	if err := user.Create("INBOX", nil); err != nil {
		tb.Fatal(err)
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
		tb.Fatal(err)
	}
	if opts.TLS != nil && opts.ImplicitTLS {
		ln = tls.NewListener(ln, opts.TLS)
	}
	s.ln, s.Addr = ln, ln.Addr().String()
	go s.srv.Serve(ln)
	tb.Cleanup(func() { s.srv.Close() })
	return s
}

// Append adds a raw message to mailbox and returns its UID.
func (s *IMAPServer) Append(tb testing.TB, mailbox string, raw []byte) uint32 {
	tb.Helper()
	data, err := s.User.Append(mailbox, literal{bytes.NewReader(raw), int64(len(raw))}, &imap.AppendOptions{Time: time.Now()})
	if err != nil {
		tb.Fatalf("append to %s: %v", mailbox, err)
	}
	return uint32(data.UID)
}

// Count returns how many messages mailbox holds; 0 when it does not exist.
func (s *IMAPServer) Count(tb testing.TB, mailbox string) int {
	if _, err := s.User.Status(mailbox, &imap.StatusOptions{}); err != nil {
		return 0 // not created yet
	}
	tb.Helper()
	st, err := s.User.Status(mailbox, &imap.StatusOptions{NumMessages: true})
	if err != nil {
		tb.Fatalf("status %s: %v", mailbox, err)
	}
	return int(*st.NumMessages)
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
