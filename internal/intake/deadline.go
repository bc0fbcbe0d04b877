package intake

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// go-imap v2 beta.8 takes no context and sets no deadline while a command
// waits for the start of its answer: a server that accepts a command and
// then says nothing (or never greets) holds the watcher for ever. A
// deadlineConn sits between go-imap and the (TLS) connection, follows the
// protocol in both directions and keeps a read deadline armed exactly
// while an answer is due: from the connect until the greeting, and from a
// command until its tagged completion. Every byte from the server pushes
// the deadline on, so a slow transfer that keeps moving is never cut; a
// running IDLE that the server accepted is not waited on at all.

// TimeoutError says the IMAP server went silent while an answer was due.
type TimeoutError struct {
	Awaiting string        // "the greeting", or the command, e.g. "UID FETCH"
	After    time.Duration // how long nothing came
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("intake: imap server sent nothing for %v while %s was due", e.After.Round(time.Millisecond), e.Awaiting)
}

// Timeout reports true: this is a net.Error timeout.
func (e *TimeoutError) Timeout() bool { return true }

// Temporary reports true: a reconnect may work.
func (e *TimeoutError) Temporary() bool { return true }

// deadlineConn is a net.Conn carrying plaintext IMAP; see above.
type deadlineConn struct {
	net.Conn
	timeout time.Duration

	mu       sync.Mutex
	greeting bool              // the server's greeting is still due
	pending  map[string]string // tag → command name, awaiting completion
	order    []string          // pending tags, oldest first
	idleTag  string            // tag of a running IDLE
	idling   bool              // the server accepted that IDLE: nothing is due
	progress time.Time         // last byte read, or when an answer fell due
	ours     time.Time         // our deadline; zero when nothing is due
	theirs   time.Time         // the read deadline go-imap asked for
	fired    *TimeoutError     // why a read was cut
	in, out  scanner
}

func newDeadlineConn(c net.Conn, timeout time.Duration) *deadlineConn {
	d := &deadlineConn{Conn: c, timeout: timeout, greeting: true, pending: map[string]string{}}
	d.mu.Lock()
	d.rearm(time.Now())
	d.mu.Unlock()
	return d
}

// due reports whether the server owes an answer. d.mu must be held.
func (d *deadlineConn) due() bool { return d.greeting || (len(d.order) > 0 && !d.idling) }

// awaiting names what is due. d.mu must be held.
func (d *deadlineConn) awaiting() string {
	switch {
	case d.greeting:
		return "the greeting"
	case len(d.order) > 0:
		return "the answer to " + d.pending[d.order[0]]
	}
	return "nothing"
}

// rearm sets our deadline timeout after now when an answer is due, clears
// it otherwise, and applies the earlier of ours and go-imap's. d.mu must be
// held.
func (d *deadlineConn) rearm(now time.Time) {
	if d.due() {
		d.progress = now
		d.ours = now.Add(d.timeout)
	} else {
		d.ours = time.Time{}
	}
	d.apply()
}

func (d *deadlineConn) apply() {
	t := d.ours
	if t.IsZero() || (!d.theirs.IsZero() && d.theirs.Before(t)) {
		t = d.theirs
	}
	d.Conn.SetReadDeadline(t)
}

func (d *deadlineConn) Read(p []byte) (int, error) {
	n, err := d.Conn.Read(p)
	d.mu.Lock()
	defer d.mu.Unlock()
	if n > 0 {
		d.in.feed(p[:n], d.serverLine)
		d.rearm(time.Now())
	}
	var ne net.Error
	if err != nil && errors.As(err, &ne) && ne.Timeout() && d.due() {
		// Ours or go-imap's own deadline (30 s within one response): the
		// cause is the same, a server that went silent. A read after the
		// first timeout gets the first one's error, so that the cause is
		// told once, with one figure.
		if d.fired == nil {
			d.fired = &TimeoutError{Awaiting: d.awaiting(), After: time.Since(d.progress)}
		}
		err = d.fired
	}
	return n, err
}

func (d *deadlineConn) Write(p []byte) (int, error) {
	d.mu.Lock()
	wasDue := d.due()
	d.out.feed(p, d.clientLine)
	if d.due() && !wasDue {
		d.rearm(time.Now())
	}
	d.mu.Unlock()
	return d.Conn.Write(p)
}

func (d *deadlineConn) SetDeadline(t time.Time) error {
	d.SetReadDeadline(t)
	return d.Conn.SetWriteDeadline(t)
}

func (d *deadlineConn) SetReadDeadline(t time.Time) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.theirs = t
	d.apply()
	return nil
}

// cause returns why the connection was cut, if a deadline cut it.
func (d *deadlineConn) cause() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.fired == nil {
		return nil
	}
	return d.fired
}

// explain puts the real cause in front of err when a deadline cut the
// connection: go-imap itself then reports only a closed connection.
func (d *deadlineConn) explain(err error) error {
	cause := d.cause()
	switch {
	case err == nil || cause == nil || errors.Is(err, cause):
		return err
	case strings.Contains(err.Error(), cause.Error()):
		return cause // go-imap only wrapped its text
	}
	return fmt.Errorf("%w (then: %v)", cause, err)
}

// clientLine follows a command line the client sends. d.mu must be held.
func (d *deadlineConn) clientLine(head []byte) {
	f := bytes.Fields(head)
	if len(f) == 1 && bytes.EqualFold(f[0], []byte("DONE")) {
		d.idling = false // IDLE ends: its completion is due
		return
	}
	if len(f) < 2 {
		return // an AUTHENTICATE response line
	}
	tag := string(f[0])
	name := string(bytes.ToUpper(f[1]))
	if name == "UID" && len(f) > 2 {
		name += " " + string(bytes.ToUpper(f[2]))
	}
	if _, dup := d.pending[tag]; dup || !isAtom(tag) {
		return
	}
	d.pending[tag] = name
	d.order = append(d.order, tag)
	if name == "IDLE" {
		d.idleTag = tag
	}
}

// serverLine follows a line the server sends. d.mu must be held.
func (d *deadlineConn) serverLine(head []byte) {
	if d.greeting {
		d.greeting = false
		return
	}
	if len(head) > 0 && head[0] == '+' {
		if d.idleTag != "" {
			d.idling = true
		}
		return
	}
	tag, rest, ok := bytes.Cut(head, []byte(" "))
	if !ok {
		return
	}
	if _, waiting := d.pending[string(tag)]; !waiting {
		return
	}
	status, _, _ := bytes.Cut(rest, []byte(" "))
	switch string(bytes.ToUpper(bytes.TrimSpace(status))) {
	case "OK", "NO", "BAD":
	default:
		return
	}
	delete(d.pending, string(tag))
	for i, t := range d.order {
		if t == string(tag) {
			d.order = append(d.order[:i], d.order[i+1:]...)
			break
		}
	}
	if string(tag) == d.idleTag {
		d.idleTag, d.idling = "", false
	}
}

func isAtom(s string) bool {
	for _, r := range s {
		if r <= ' ' || r >= 0x7f || bytes.ContainsRune([]byte(`(){%*"\]`), r) {
			return false
		}
	}
	return s != ""
}

// scanner finds the lines of one direction of an IMAP stream, skipping
// literals ({n} or {n+} at a line's end, then n bytes of data).
type scanner struct {
	literal int64  // literal bytes still to skip
	cont    bool   // the current segment continues a line after a literal
	head    []byte // the first bytes of the current line
	tail    []byte // the last bytes of the current segment
}

// Bytes kept of a line: enough for a tag and a command name, and for the
// literal marker at a segment's end.
const (
	headBytes = 64
	tailBytes = 24
)

// feed scans p, calling line with the start of each line the moment the
// first segment of that line ends.
func (s *scanner) feed(p []byte, line func(head []byte)) {
	for len(p) > 0 {
		if s.literal > 0 {
			n := int(min(s.literal, int64(len(p))))
			s.literal -= int64(n)
			p = p[n:]
			continue
		}
		i := bytes.IndexByte(p, '\n')
		seg := p
		if i >= 0 {
			seg = p[:i+1]
		}
		p = p[len(seg):]
		if !s.cont && len(s.head) < headBytes {
			s.head = append(s.head, seg[:min(len(seg), headBytes-len(s.head))]...)
		}
		s.tail = append(s.tail, seg...)
		if len(s.tail) > tailBytes {
			s.tail = append(s.tail[:0], s.tail[len(s.tail)-tailBytes:]...)
		}
		if i < 0 {
			continue
		}
		if !s.cont {
			line(bytes.TrimRight(s.head, "\r\n"))
		}
		n, isLiteral := literalAtEnd(bytes.TrimRight(s.tail, "\r\n"))
		s.head, s.tail = s.head[:0], s.tail[:0]
		s.cont, s.literal = isLiteral, n
	}
}

// literalAtEnd parses a literal marker ending b: "{n}" or "{n+}".
func literalAtEnd(b []byte) (int64, bool) {
	if len(b) < 3 || b[len(b)-1] != '}' {
		return 0, false
	}
	open := bytes.LastIndexByte(b, '{')
	if open < 0 {
		return 0, false
	}
	digits := bytes.TrimSuffix(b[open+1:len(b)-1], []byte("+"))
	n, err := strconv.ParseInt(string(digits), 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}
