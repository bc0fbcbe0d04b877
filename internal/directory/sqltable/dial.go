package sqltable

import (
	"bytes"
	"context"
	"net"
	"sync"
	"time"
)

// lib/pq has no deadline of its own: a query whose context ends sends the
// server a cancel request, then still waits for its answer, forever on a
// server that went silent. Its connections are therefore dialed by
// pgDialer, whose connections fail a read that waits for longer than the
// directory's timeout (and pgGrace) after the request that asked for it. (MySQL's driver
// closes the connection when the context ends.)

// pgGrace is how much longer than the timeout a PostgreSQL server may stay
// silent: a live server answers the cancel request sent at the timeout at
// once, which keeps the connection usable.
const pgGrace = 500 * time.Millisecond

// pgDialer dials PostgreSQL with TCP keepalives and answer deadlines.
type pgDialer struct{ limit time.Duration }

func (d pgDialer) Dial(network, address string) (net.Conn, error) {
	return d.DialContext(context.Background(), network, address)
}

func (d pgDialer) DialTimeout(network, address string, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return d.DialContext(ctx, network, address)
}

func (d pgDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	nd := net.Dialer{Timeout: d.limit, KeepAliveConfig: net.KeepAliveConfig{Enable: true, Idle: 15 * time.Second, Interval: 5 * time.Second, Count: 3}}
	c, err := nd.DialContext(ctx, network, address)
	if err != nil {
		return nil, err
	}
	return &answerConn{Conn: c, limit: d.limit}, nil
}

// answerConn sets a read deadline of limit from each write (the request
// whose answer is due), or the earlier deadline lib/pq set itself.
type answerConn struct {
	net.Conn
	limit time.Duration

	mu      sync.Mutex
	user    time.Time // the read deadline lib/pq asked for, if any
	written bool
}

// cancelRequest is the start of PostgreSQL's CancelRequest message: its
// length, 16, and the code 80877102.
var cancelRequest = []byte{0, 0, 0, 16, 0x04, 0xd2, 0x16, 0x2e}

func (c *answerConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	if !c.written && len(p) == 16 && bytes.HasPrefix(p, cancelRequest) {
		// lib/pq sends a cancel request when a query's context ends, then
		// waits for the server to close that connection before the query
		// returns: a silent server gets pgGrace, not the whole timeout.
		c.limit = pgGrace
	}
	c.written = true
	d := time.Now().Add(c.limit)
	if !c.user.IsZero() && c.user.Before(d) {
		d = c.user
	}
	c.mu.Unlock()
	c.Conn.SetReadDeadline(d)
	return c.Conn.Write(p)
}

func (c *answerConn) SetDeadline(t time.Time) error {
	c.SetReadDeadline(t)
	return c.Conn.SetWriteDeadline(t)
}

func (c *answerConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	c.user = t
	c.mu.Unlock()
	return c.Conn.SetReadDeadline(t)
}
