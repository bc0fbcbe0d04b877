package mailtest

import (
	"bytes"
	"errors"
	"io"
	"log"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// SMTP credentials the test server accepts. AUTH is optional unless
// SMTPServer.RequireAuth is set.
const (
	SMTPUser     = "unlockd@example.com"
	SMTPPassword = "smtp-test-password"
)

// SMTPFault is a failure the SMTP server injects on demand.
type SMTPFault int

// Faults. The connect faults apply to the next connections; the others to
// the next mail transactions (one per message), at the step they name.
const (
	// SMTPRefuse closes a new connection before the greeting.
	SMTPRefuse SMTPFault = iota + 1
	// SMTP421Connect greets with 421 and closes the connection.
	SMTP421Connect
	// SMTP451Mail and SMTP550Mail answer MAIL FROM.
	SMTP451Mail
	SMTP550Mail
	// SMTP451Rcpt and SMTP550Rcpt answer RCPT TO.
	SMTP451Rcpt
	SMTP550Rcpt
	// SMTP451Data and SMTP550Data answer the end of DATA; the message is
	// not recorded.
	SMTP451Data
	SMTP550Data
	// SMTPDropData closes the connection while the message is being sent.
	SMTPDropData
	// SMTPHangData reads the whole message and then never answers, until
	// the client gives up and closes the connection; the message is not
	// recorded.
	SMTPHangData
)

func (f SMTPFault) atConnect() bool { return f == SMTPRefuse || f == SMTP421Connect }

// SMTPMessage is one message the server accepted.
type SMTPMessage struct {
	From string
	To   []string
	Data []byte
	// Auth is the user the client authenticated as, or "".
	Auth string
	// Conn numbers the connection it arrived on, from 1.
	Conn int
}

// SMTPServer is an in-process SMTP server on a loopback port that records
// every message it accepts and fails on demand. Its methods are safe for
// concurrent use.
type SMTPServer struct {
	// Addr is the server's host:port.
	Addr string

	srv *smtp.Server

	mu          sync.Mutex
	ln          net.Listener
	messages    []SMTPMessage
	conns       int
	connFaults  []SMTPFault
	txFaults    []SMTPFault
	requireAuth bool
	onMessage   func(SMTPMessage)
	changed     chan struct{}
	quit        chan struct{} // closed when the test ends
}

// StartSMTP starts a server on 127.0.0.1 with no TLS, closed when the test
// ends.
func StartSMTP(tb testing.TB) *SMTPServer {
	tb.Helper()
	s := &SMTPServer{changed: make(chan struct{}), quit: make(chan struct{})}
	s.srv = smtp.NewServer(smtp.BackendFunc(s.newSession))
	s.srv.Domain = "localhost"
	s.srv.AllowInsecureAuth = true
	s.srv.ReadTimeout = 10 * time.Second
	s.srv.WriteTimeout = 10 * time.Second
	s.srv.ErrorLog = log.New(io.Discard, "", 0)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s.Addr = ln.Addr().String()
	s.serve(ln)
	tb.Cleanup(func() { close(s.quit); s.srv.Close() })
	return s
}

func (s *SMTPServer) serve(ln net.Listener) {
	s.mu.Lock()
	s.ln = ln
	s.mu.Unlock()
	go s.srv.Serve(&faultListener{Listener: ln, s: s})
}

// FailNext makes the next n connections (for SMTPRefuse and
// SMTP421Connect) or the next n mail transactions (for the others) fail
// with f. Calls queue up in order.
func (s *SMTPServer) FailNext(n int, f SMTPFault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		if f.atConnect() {
			s.connFaults = append(s.connFaults, f)
		} else {
			s.txFaults = append(s.txFaults, f)
		}
	}
}

// PendingFaults returns how many injected faults have not fired yet.
func (s *SMTPServer) PendingFaults() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.connFaults) + len(s.txFaults)
}

// Down closes the listening socket, so that connections are refused
// outright until Up; connections already open are left alone.
func (s *SMTPServer) Down() {
	s.mu.Lock()
	ln := s.ln
	s.ln = nil
	s.mu.Unlock()
	if ln != nil {
		ln.Close()
	}
}

// Up listens again on the same address after Down.
func (s *SMTPServer) Up(tb testing.TB) {
	tb.Helper()
	ln, err := net.Listen("tcp", s.Addr)
	if err != nil {
		tb.Fatalf("listen again on %s: %v", s.Addr, err)
	}
	s.serve(ln)
}

// RequireAuth makes the server refuse MAIL FROM before AUTH.
func (s *SMTPServer) RequireAuth() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requireAuth = true
}

// OnMessage sets a function called with each accepted message before the
// server answers the client, e.g. to cancel a context mid-batch.
func (s *SMTPServer) OnMessage(fn func(SMTPMessage)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onMessage = fn
}

// Messages returns a copy of the accepted messages, in order of arrival.
func (s *SMTPServer) Messages() []SMTPMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SMTPMessage(nil), s.messages...)
}

// Connections returns how many connections the server accepted, including
// those it failed on purpose.
func (s *SMTPServer) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

// WaitMessages waits until the server holds at least n messages, failing
// the test after timeout, and returns them.
func (s *SMTPServer) WaitMessages(tb testing.TB, n int, timeout time.Duration) []SMTPMessage {
	tb.Helper()
	deadline := time.After(timeout)
	for {
		s.mu.Lock()
		got, changed := len(s.messages), s.changed
		s.mu.Unlock()
		if got >= n {
			return s.Messages()
		}
		select {
		case <-changed:
		case <-deadline:
			tb.Fatalf("SMTP server holds %d messages after %v, want %d", got, timeout, n)
		}
	}
}

// faultListener counts connections and applies connect faults.
type faultListener struct {
	net.Listener
	s *SMTPServer
}

func (l *faultListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		s := l.s
		s.mu.Lock()
		s.conns++
		var f SMTPFault
		if len(s.connFaults) > 0 {
			f, s.connFaults = s.connFaults[0], s.connFaults[1:]
		}
		s.mu.Unlock()
		switch f {
		case SMTPRefuse:
			c.Close()
			continue
		case SMTP421Connect:
			c.SetWriteDeadline(time.Now().Add(time.Second))
			io.WriteString(c, "421 4.3.2 Service not available, closing transmission channel\r\n")
			c.Close()
			continue
		}
		return c, nil
	}
}

func (s *SMTPServer) newSession(c *smtp.Conn) (smtp.Session, error) {
	s.mu.Lock()
	n := s.conns
	s.mu.Unlock()
	return &smtpSession{s: s, conn: c, connNo: n}, nil
}

// smtpSession is one connection's state.
type smtpSession struct {
	s      *SMTPServer
	conn   *smtp.Conn
	connNo int
	auth   string
	fault  SMTPFault
	msg    SMTPMessage
}

func smtpErr(code int, msg string) error {
	class := code / 100
	return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{class, 0, 0}, Message: msg}
}

func (ss *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (ss *smtpSession) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != SMTPUser || password != SMTPPassword || (identity != "" && identity != username) {
			return smtp.ErrAuthFailed
		}
		ss.auth = username
		return nil
	}), nil
}

func (ss *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	s := ss.s
	s.mu.Lock()
	required := s.requireAuth
	ss.fault = 0
	if len(s.txFaults) > 0 {
		ss.fault, s.txFaults = s.txFaults[0], s.txFaults[1:]
	}
	s.mu.Unlock()
	if required && ss.auth == "" {
		return smtp.ErrAuthRequired
	}
	switch ss.fault {
	case SMTP451Mail:
		return smtpErr(451, "Try again later (injected)")
	case SMTP550Mail:
		return smtpErr(550, "Sender rejected (injected)")
	}
	ss.msg = SMTPMessage{From: from, Auth: ss.auth, Conn: ss.connNo}
	return nil
}

func (ss *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	switch ss.fault {
	case SMTP451Rcpt:
		return smtpErr(451, "Mailbox busy (injected)")
	case SMTP550Rcpt:
		return smtpErr(550, "No such user (injected)")
	}
	ss.msg.To = append(ss.msg.To, to)
	return nil
}

func (ss *smtpSession) Data(r io.Reader) error {
	if ss.fault == SMTPDropData {
		// Read a little so that the client is mid-message, then hang up.
		io.CopyN(io.Discard, r, 64)
		ss.conn.Conn().Close()
		return errors.New("connection dropped (injected)")
	}
	var b bytes.Buffer
	if _, err := io.Copy(&b, r); err != nil {
		return err
	}
	if ss.fault == SMTPHangData {
		ss.hang()
		return errors.New("hung after DATA (injected)")
	}
	switch ss.fault {
	case SMTP451Data:
		return smtpErr(451, "Local error in processing (injected)")
	case SMTP550Data:
		return smtpErr(550, "Message rejected (injected)")
	}
	ss.msg.Data = b.Bytes()
	s := ss.s
	s.mu.Lock()
	s.messages = append(s.messages, ss.msg)
	fn := s.onMessage
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
	if fn != nil {
		fn(ss.msg)
	}
	return nil
}

// hang waits, silent, until the client closes the connection or the test
// ends.
func (ss *smtpSession) hang() {
	gone := make(chan struct{})
	go func() {
		// The client sends nothing more before our answer: a read ends
		// only when it closes the connection (or go-smtp's read deadline,
		// which is lifted).
		c := ss.conn.Conn()
		for {
			_, err := c.Read(make([]byte, 1))
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				c.SetReadDeadline(time.Time{})
				continue
			}
			if err != nil {
				break
			}
		}
		close(gone)
	}()
	select {
	case <-gone:
	case <-ss.s.quit:
	}
}

func (ss *smtpSession) Reset() { ss.fault, ss.msg = 0, SMTPMessage{} }

func (ss *smtpSession) Logout() error { return nil }
