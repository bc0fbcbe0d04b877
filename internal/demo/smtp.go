package demo

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"net"
	"strings"
	"time"

	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-smtp"
)

// captured is one mail the sink accepted, with what the printout shows.
type captured struct {
	to        []string // envelope recipients
	subject   string
	messageID string // without angle brackets
	inReplyTo string // without angle brackets
	text      string // the text/plain part
}

// sink is an SMTP server on a loopback port that accepts every message,
// delivers nothing, and hands each one to mail in order of arrival.
type sink struct {
	addr string
	srv  *smtp.Server
	// mail receives every accepted message. It is buffered; a reader that
	// falls far behind slows the outbox worker down, nothing is lost.
	mail chan captured
}

func startSink() (*sink, error) {
	s := &sink{mail: make(chan captured, 64)}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &sinkSession{s: s}, nil }))
	s.srv.Domain = "localhost"
	s.srv.ReadTimeout, s.srv.WriteTimeout = 30*time.Second, 30*time.Second
	s.srv.ErrorLog = log.New(io.Discard, "", 0)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("demo: SMTP: listen: %w", err)
	}
	s.addr = ln.Addr().String()
	go s.srv.Serve(ln)
	return s, nil
}

// close stops the server and drops its connections.
func (s *sink) close() { s.srv.Close() }

// sinkSession is one SMTP connection.
type sinkSession struct {
	s  *sink
	to []string
}

func (ss *sinkSession) Mail(string, *smtp.MailOptions) error { return nil }

func (ss *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.to = append(ss.to, to)
	return nil
}

func (ss *sinkSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	c, err := parseCaptured(raw)
	if err != nil {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: err.Error()}
	}
	c.to = ss.to
	ss.s.mail <- c
	return nil
}

func (ss *sinkSession) Reset()        { ss.to = nil }
func (ss *sinkSession) Logout() error { return nil }

// parseCaptured reads the headers and the text part of a message.
func parseCaptured(raw []byte) (captured, error) {
	mr, err := mail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		return captured{}, fmt.Errorf("demo: read captured mail: %w", err)
	}
	defer mr.Close()
	var c captured
	c.subject, _ = mr.Header.Subject()
	c.messageID, _ = mr.Header.MessageID()
	if ids, err := mr.Header.MsgIDList("In-Reply-To"); err == nil && len(ids) > 0 {
		c.inReplyTo = ids[0]
	}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return c, fmt.Errorf("demo: read captured mail: %w", err)
		}
		h, ok := p.Header.(*mail.InlineHeader)
		if !ok {
			continue
		}
		if ct, _, _ := h.ContentType(); ct != "text/plain" {
			continue
		}
		b, err := io.ReadAll(p.Body)
		if err != nil {
			return c, fmt.Errorf("demo: read captured mail: %w", err)
		}
		c.text = strings.TrimSpace(strings.ReplaceAll(string(b), "\r\n", "\n"))
		break
	}
	return c, nil
}
