package outbox

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/unlockd/unlockd/internal/config"
	"github.com/unlockd/unlockd/internal/domain"
)

// dialer opens SMTP connections as configured.
type dialer struct {
	host string
	opts []gomail.Option
}

// newDialer checks cfg and prepares the go-mail options: the port and TLS
// mode from smtp.address and smtp.tls, extra roots from smtp.ca_file, and
// AUTH when smtp.username is set.
func newDialer(cfg config.SMTP, timeout time.Duration) (*dialer, error) {
	host, portStr, err := net.SplitHostPort(cfg.Address)
	if err != nil {
		return nil, fmt.Errorf("outbox: smtp.address %q: %w", cfg.Address, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 1 || port > 65535 {
		return nil, fmt.Errorf("outbox: smtp.address %q: bad port", cfg.Address)
	}
	tlsConf := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("outbox: smtp.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("outbox: smtp.ca_file %s holds no PEM certificate", cfg.CAFile)
		}
		tlsConf.RootCAs = pool
	}
	opts := []gomail.Option{gomail.WithPort(port), gomail.WithTimeout(timeout), gomail.WithTLSConfig(tlsConf)}
	switch cfg.TLS {
	case config.TLSImplicit:
		opts = append(opts, gomail.WithSSL())
	case config.TLSStartTLS, "":
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case config.TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		return nil, fmt.Errorf("outbox: smtp.tls %q must be implicit, starttls or none", cfg.TLS)
	}
	if cfg.Username != "" {
		auth := gomail.SMTPAuthAutoDiscover
		if cfg.TLS == config.TLSNone {
			// Only allowed on loopback, where PLAIN without TLS is safe.
			auth = gomail.SMTPAuthPlainNoEnc
		}
		opts = append(opts, gomail.WithSMTPAuth(auth), gomail.WithUsername(cfg.Username), gomail.WithPassword(cfg.Password))
	}
	return &dialer{host: host, opts: opts}, nil
}

// dial opens one connection, greeted and authenticated.
func (d *dialer) dial(ctx context.Context) (*gomail.Client, error) {
	c, err := gomail.NewClient(d.host, d.opts...)
	if err != nil {
		return nil, fmt.Errorf("outbox: smtp client: %w", err)
	}
	if err := c.DialWithContext(ctx); err != nil {
		return nil, fmt.Errorf("outbox: connect to smtp server: %w", err)
	}
	return c, nil
}

// message builds the wire message for m.
func message(m domain.Mail, from, loopID string, now time.Time) (*gomail.Msg, error) {
	msg := gomail.NewMsg()
	if err := msg.From(from); err != nil {
		return nil, fmt.Errorf("outbox: from %q: %w", from, err)
	}
	if err := msg.To(m.To); err != nil {
		return nil, fmt.Errorf("outbox: to %q: %w", m.To, err)
	}
	msg.Subject(oneLine(m.Subject))
	msg.SetDateWithValue(now)
	msg.SetUserAgent("unlockd")
	if id := cleanID(m.MessageID); id != "" {
		msg.SetMessageIDWithValue(id)
	} else {
		msg.SetMessageID()
	}
	if id := cleanID(m.InReplyTo); id != "" {
		msg.SetGenHeader(gomail.HeaderInReplyTo, "<"+id+">")
	}
	var refs []string
	for _, r := range m.References {
		if id := cleanID(r); id != "" {
			refs = append(refs, "<"+id+">")
		}
	}
	if len(refs) > 0 {
		msg.SetGenHeader(gomail.HeaderReferences, strings.Join(refs, " "))
	}
	msg.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-replied")
	if loopID != "" {
		msg.SetGenHeader(gomail.Header("X-Loop"), oneLine(loopID))
	}
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	return msg, nil
}

// failure classifies a delivery error.
type failure struct {
	err error
	// permanent failures are dead-lettered at once.
	permanent bool
	// connLost means the connection cannot carry another message.
	connLost bool
	// notTried means no connection could be had for the message: it
	// counts no attempt (see Worker.connFailed).
	notTried bool
}

// classify sorts a Send error: a 5xx reply or a message we cannot even
// write is permanent; a 4xx reply or a network error is temporary. A 421
// reply or an error without a reply code leaves the connection unusable.
func classify(err error) failure {
	f := failure{err: err}
	if silent(err) {
		f.err = timeoutError{err}
	}
	var se *gomail.SendError
	if !errors.As(err, &se) {
		f.connLost = true
		return f
	}
	code := se.ErrorCode()
	switch {
	case code >= 500 && code < 600:
		f.permanent = true
	case code == 421:
		f.connLost = true
	case code >= 400 && code < 500:
	default:
		switch se.Reason {
		case gomail.ErrGetSender, gomail.ErrGetRcpts, gomail.ErrNoUnencoded:
			f.permanent = true
		default:
			f.connLost = true
		}
	}
	return f
}

// silent reports whether err says the server went silent until a
// deadline. go-mail's SendError keeps its causes to itself (no Unwrap), so
// the text is read too.
func silent(err error) bool {
	var ne net.Error
	return (errors.As(err, &ne) && ne.Timeout()) || errors.Is(err, os.ErrDeadlineExceeded) ||
		strings.Contains(err.Error(), "i/o timeout")
}

// timeoutError marks a failure where the SMTP server went silent, as a
// net.Error whose Timeout is true, for metrics.
type timeoutError struct{ err error }

func (e timeoutError) Error() string   { return e.err.Error() }
func (e timeoutError) Unwrap() error   { return e.err }
func (e timeoutError) Timeout() bool   { return true }
func (e timeoutError) Temporary() bool { return true }

// isConnCheck reports whether err says the connection was gone before the
// message was even tried.
func isConnCheck(err error) bool {
	var se *gomail.SendError
	return errors.As(err, &se) && se.Reason == gomail.ErrConnCheck
}
