package ldap

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	goldap "github.com/go-ldap/ldap/v3"
	"github.com/unlockd/unlockd/internal/domain"
)

// dial opens a connection and binds it as the service account, every
// step under the timeout: TCP, TLS (ldaps:// or StartTLS), bind.
func (d *Directory) dial(ctx context.Context) (*goldap.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	var nd net.Dialer
	raw, err := nd.DialContext(ctx, "tcp", d.ep.addr)
	if err != nil {
		return nil, d.classify("connect to "+d.ep.display, err)
	}
	deadline, _ := ctx.Deadline()
	raw.SetDeadline(deadline)
	conn, err := d.secure(ctx, raw)
	if err != nil {
		raw.Close()
		return nil, err
	}
	c := goldap.NewConn(conn, d.ep.tls != nil)
	c.Start()
	c.SetTimeout(d.cfg.Timeout)
	if _, err := c.SimpleBind(&goldap.SimpleBindRequest{Username: d.cfg.BindDN, Password: d.cfg.BindPassword}); err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		err = d.classifyOn(c, "bind as "+d.cfg.BindDN, err)
		c.Close()
		return nil, err
	}
	raw.SetDeadline(time.Time{})
	return c, nil
}

// secure does the TLS part of dial: a handshake for ldaps://, StartTLS
// then a handshake when asked, nothing for plain ldap://. StartTLS is
// sent here, before go-ldap takes the connection, so that the handshake
// runs under the dial's deadline and its errors keep their type.
func (d *Directory) secure(ctx context.Context, raw net.Conn) (net.Conn, error) {
	if d.ep.tls == nil {
		return raw, nil
	}
	if d.cfg.StartTLS {
		if err := startTLS(raw); err != nil {
			return nil, d.classify("StartTLS with "+d.ep.display, err)
		}
	}
	tc := tls.Client(raw, d.ep.tls)
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, d.classify("TLS handshake with "+d.ep.display, err)
	}
	return tc, nil
}

// startTLSOID is the StartTLS extended operation (RFC 4511 §4.14).
const startTLSOID = "1.3.6.1.4.1.1466.20037"

// startTLS sends the StartTLS request on raw and reads its answer.
func startTLS(raw net.Conn) error {
	packet := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "LDAP Request")
	packet.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, int64(1), "MessageID"))
	req := ber.Encode(ber.ClassApplication, ber.TypeConstructed, goldap.ApplicationExtendedRequest, nil, "Start TLS")
	req.AppendChild(ber.NewString(ber.ClassContext, ber.TypePrimitive, 0, startTLSOID, "TLS Extended Command"))
	packet.AppendChild(req)
	if _, err := raw.Write(packet.Bytes()); err != nil {
		return err
	}
	resp, err := ber.ReadPacket(io.LimitReader(raw, 1<<16))
	if err != nil {
		if errors.Is(err, io.EOF) {
			return io.ErrUnexpectedEOF
		}
		return err
	}
	if len(resp.Children) < 2 || resp.Children[1].Tag != goldap.ApplicationExtendedResponse {
		return errors.New("the answer to StartTLS is not an extended response")
	}
	if err := goldap.GetLDAPError(resp); err != nil {
		return fmt.Errorf("the server refused StartTLS: %w", err)
	}
	return nil
}

// pool holds up to size bound connections; idle ones are reused.
type pool struct {
	slots chan struct{}
	idle  chan *goldap.Conn
}

func newPool(size int) *pool {
	return &pool{slots: make(chan struct{}, size), idle: make(chan *goldap.Conn, size)}
}

// with runs fn on a pooled connection. A connection that failed with a
// network error, or whose ctx ended, is closed rather than kept. When
// retry is set (reads), a call that failed on a reused connection with a
// temporary error is tried once more on a new one: idle connections die
// when the server restarts.
func (d *Directory) with(ctx context.Context, retry bool, fn func(c *goldap.Conn) error) error {
	select {
	case d.pool.slots <- struct{}{}:
	case <-ctx.Done():
		return domain.Temporary("ldap %s: waiting for a connection: %w", d.name, ctx.Err())
	}
	defer func() { <-d.pool.slots }()
	for attempt := 0; ; attempt++ {
		c, reused, err := d.conn(ctx)
		if err != nil {
			return err
		}
		stop := context.AfterFunc(ctx, func() { c.Close() })
		err = fn(c)
		if !stop() {
			// ctx ended: the connection is closed or closing. An
			// operation that completed before still counts.
			c.Close()
			if err != nil {
				return domain.Temporary("ldap %s: %w", d.name, ctx.Err())
			}
			return nil
		}
		if err != nil && (domain.IsTemporary(err) || c.IsClosing()) {
			c.Close()
			if retry && reused && attempt == 0 {
				continue
			}
			return err
		}
		d.pool.idle <- c
		return err
	}
}

// conn takes an idle connection that is still open, or dials.
func (d *Directory) conn(ctx context.Context) (*goldap.Conn, bool, error) {
	for {
		select {
		case c := <-d.pool.idle:
			if c.IsClosing() {
				c.Close()
				continue
			}
			return c, true, nil
		default:
			c, err := d.dial(ctx)
			return c, false, err
		}
	}
}

// Close closes the idle connections; calls still running keep theirs.
func (d *Directory) Close() error {
	for {
		select {
		case c := <-d.pool.idle:
			c.Close()
		default:
			return nil
		}
	}
}
