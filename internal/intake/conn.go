package intake

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
)

// dial connects, negotiates TLS as configured and waits for the server's
// greeting, all within the command timeout, and returns the client with
// the deadlineConn under it. wake receives a value when the server reports
// new mail.
func (w *Watcher) dial(wake chan struct{}) (*imapclient.Client, *deadlineConn, error) {
	conn, err := w.connect()
	if err != nil {
		return nil, nil, err
	}
	dc := newDeadlineConn(conn, w.cfg.Timeout)
	c := imapclient.New(dc, &imapclient.Options{
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			// Runs on the reader goroutine: never block here.
			Mailbox: func(d *imapclient.UnilateralDataMailbox) {
				if d.NumMessages != nil {
					select {
					case wake <- struct{}{}:
					default:
					}
				}
			},
		},
	})
	if err := c.WaitGreeting(); err != nil {
		c.Close()
		return nil, nil, dc.explain(fmt.Errorf("intake: greeting from %s: %w", w.cfg.Address, err))
	}
	return c, dc, nil
}

// connect opens the TCP connection and sets TLS up on it: from the first
// byte (implicit), after STARTTLS, or not at all. It returns the plaintext
// stream go-imap is to read.
func (w *Watcher) connect() (net.Conn, error) {
	d := net.Dialer{Timeout: w.cfg.Timeout}
	raw, err := d.Dial("tcp", w.cfg.Address)
	if err != nil {
		return nil, fmt.Errorf("intake: connect %s: %w", w.cfg.Address, err)
	}
	if w.cfg.TLS == TLSNone {
		return raw, nil
	}
	tc, err := w.tlsConfig()
	if err != nil {
		raw.Close()
		return nil, err
	}
	raw.SetDeadline(time.Now().Add(w.cfg.Timeout))
	var prefix []byte
	if w.cfg.TLS == TLSStartTLS {
		if err := startTLS(raw, w.cfg.Timeout); err != nil {
			raw.Close()
			return nil, fmt.Errorf("intake: starttls with %s: %w", w.cfg.Address, err)
		}
		// The greeting was read before TLS; go-imap expects one, and the
		// capabilities it carried are not to be trusted after STARTTLS.
		prefix = []byte("* OK unlockd: TLS negotiated\r\n")
	} else {
		tc.NextProtos = []string{"imap"}
	}
	conn := tls.Client(raw, tc)
	if err := conn.Handshake(); err != nil {
		raw.Close()
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			err = &TimeoutError{Awaiting: "the TLS handshake", After: w.cfg.Timeout}
		}
		return nil, fmt.Errorf("intake: tls handshake with %s: %w", w.cfg.Address, err)
	}
	raw.SetDeadline(time.Time{})
	if prefix != nil {
		return &prefixConn{Conn: conn, prefix: prefix}, nil
	}
	return conn, nil
}

func (w *Watcher) tlsConfig() (*tls.Config, error) {
	host, _, _ := net.SplitHostPort(w.cfg.Address)
	tc := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	if w.cfg.CAFile != "" {
		pem, err := os.ReadFile(w.cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("intake: ca_file: %w", err)
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("intake: ca_file %s holds no certificate", w.cfg.CAFile)
		}
	}
	return tc, nil
}

// maxPreTLSLine bounds a line the server sends before TLS is up.
const maxPreTLSLine = 4096

// startTLS reads the greeting and negotiates STARTTLS on raw (RFC 9051
// §6.2.1), in plain text and under raw's deadline, timeout after the
// connect. A server that greets
// with PREAUTH, refuses STARTTLS, or sends anything after its OK (which
// an attacker could have injected to be read as if protected) is refused.
func startTLS(raw net.Conn, timeout time.Duration) error {
	br := bufio.NewReaderSize(raw, maxPreTLSLine)
	readLine := func() ([]byte, error) {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, fmt.Errorf("a line longer than %d bytes before TLS", maxPreTLSLine)
		}
		if err != nil {
			return nil, err
		}
		return bytes.TrimRight(line, "\r\n"), nil
	}
	greeting, err := readLine()
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return &TimeoutError{Awaiting: "the greeting", After: timeout}
		}
		return fmt.Errorf("greeting: %w", err)
	}
	switch {
	case hasPrefixFold(greeting, "* OK"):
	case hasPrefixFold(greeting, "* PREAUTH"):
		return errors.New("the server sent PREAUTH before TLS")
	default:
		return fmt.Errorf("unexpected greeting %.80q", greeting)
	}
	if _, err := io.WriteString(raw, "S1 STARTTLS\r\n"); err != nil {
		return err
	}
	for range 16 {
		line, err := readLine()
		if err != nil {
			return fmt.Errorf("answer to STARTTLS: %w", err)
		}
		if len(line) > 0 && line[0] == '*' {
			continue // e.g. a CAPABILITY response
		}
		if !hasPrefixFold(line, "S1 OK") {
			return fmt.Errorf("STARTTLS refused: %.80q", line)
		}
		if br.Buffered() > 0 {
			return errors.New("the server sent data after its STARTTLS OK, before TLS")
		}
		return nil
	}
	return errors.New("no answer to STARTTLS among 16 lines")
}

func hasPrefixFold(b []byte, prefix string) bool {
	return len(b) >= len(prefix) && bytes.EqualFold(b[:len(prefix)], []byte(prefix))
}

// prefixConn serves prefix before the connection's own bytes.
type prefixConn struct {
	net.Conn
	prefix []byte
}

func (c *prefixConn) Read(p []byte) (int, error) {
	if len(c.prefix) > 0 {
		n := copy(p, c.prefix)
		c.prefix = c.prefix[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}
