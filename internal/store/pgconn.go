package store

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// PostgreSQL connections must not hang on a peer that went silent. lib/pq
// has no deadline of its own: a cancelled query still waits for the
// server's answer, so on a half-open link (the server's machine gone, a
// firewall dropping packets) it would wait for hours. Every connection is
// therefore dialed with TCP keepalives and wrapped in a silenceConn, and
// the server is told to end sessions left idle inside a transaction, so a
// client that vanishes mid-transaction cannot hold row locks for long.
const (
	// pgDialTimeout bounds the TCP connect.
	pgDialTimeout = 10 * time.Second
	// pgGrace is how much longer than Store.Timeout the server may stay
	// silent while an answer is due: a query cancelled at Timeout is
	// answered at once by a live server.
	pgGrace = 5 * time.Second
	// pgIdleInTransaction ends a session idle inside a transaction for this
	// long; unlockd's transactions never pause near it.
	pgIdleInTransaction = 15 * time.Second
)

// pgKeepAlive probes an idle connection after 15 s and gives up after
// three unanswered probes 5 s apart.
var pgKeepAlive = net.KeepAliveConfig{Enable: true, Idle: 15 * time.Second, Interval: 5 * time.Second, Count: 3}

// openPostgres opens the PostgreSQL pool for s.
func (s *Store) openPostgres(dsn string) (*sqlx.DB, error) {
	cfg, err := pq.NewConfig(postgresDSN(dsn))
	if err != nil {
		return nil, err
	}
	if cfg.Runtime == nil {
		cfg.Runtime = map[string]string{}
	}
	if _, ok := cfg.Runtime["idle_in_transaction_session_timeout"]; !ok {
		cfg.Runtime["idle_in_transaction_session_timeout"] = fmt.Sprint(pgIdleInTransaction.Milliseconds())
	}
	connector, err := pq.NewConnectorConfig(cfg)
	if err != nil {
		return nil, err
	}
	connector.Dialer(pgDialer{silence: s.silence})
	return sqlx.NewDb(sql.OpenDB(connector), Postgres), nil
}

// silence is how long a PostgreSQL server may send nothing while an
// answer is due; migrations, whose statements may run for long, lift it.
func (s *Store) silence() time.Duration {
	if s.migrating.Load() {
		return time.Hour
	}
	return s.Timeout + pgGrace
}

// pgDialer dials PostgreSQL with keepalives and silence deadlines.
type pgDialer struct{ silence func() time.Duration }

func (d pgDialer) Dial(network, address string) (net.Conn, error) {
	return d.DialContext(context.Background(), network, address)
}

func (d pgDialer) DialTimeout(network, address string, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return d.DialContext(ctx, network, address)
}

func (d pgDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	nd := net.Dialer{Timeout: pgDialTimeout, KeepAliveConfig: pgKeepAlive}
	c, err := nd.DialContext(ctx, network, address)
	if err != nil {
		return nil, err
	}
	return &silenceConn{Conn: c, limit: d.silence}, nil
}

// silenceConn fails a read when the server has sent nothing for limit
// since the client last wrote or read. lib/pq reads only while it awaits
// an answer, so an idle pooled connection is never cut.
type silenceConn struct {
	net.Conn
	limit func() time.Duration

	mu   sync.Mutex
	user time.Time // the read deadline lib/pq asked for, if any
}

func (c *silenceConn) arm() {
	d := time.Now().Add(c.limit())
	c.mu.Lock()
	if !c.user.IsZero() && c.user.Before(d) {
		d = c.user
	}
	c.mu.Unlock()
	c.Conn.SetReadDeadline(d)
}

func (c *silenceConn) Write(p []byte) (int, error) {
	c.arm()
	return c.Conn.Write(p)
}

func (c *silenceConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.arm()
	}
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		// lib/pq marks a connection bad only on a *net.OpError.
		err = &net.OpError{Op: "read", Net: "tcp", Addr: c.RemoteAddr(), Err: silenceError{c.limit()}}
	}
	return n, err
}

// silenceError is the cause of a read cut by silenceConn.
type silenceError struct{ limit time.Duration }

func (e silenceError) Error() string {
	return fmt.Sprintf("postgresql server sent nothing for %v while an answer was due", e.limit)
}
func (silenceError) Timeout() bool   { return true }
func (silenceError) Temporary() bool { return true }

func (c *silenceConn) SetDeadline(t time.Time) error {
	c.SetReadDeadline(t)
	return c.Conn.SetWriteDeadline(t)
}

func (c *silenceConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	c.user = t
	c.mu.Unlock()
	return c.Conn.SetReadDeadline(t)
}
