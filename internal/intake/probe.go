package intake

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// ProbeStep is one step of Probe: what it found, or why it failed.
type ProbeStep struct {
	// Name is connect, login, folders or capabilities.
	Name   string
	Detail string
	// Warning, when set, is something that works but deserves a look
	// (a certificate about to expire, no IDLE, no MOVE).
	Warning string
	Err     error
	// Skipped is set when an earlier step failed, so this one was not tried.
	Skipped bool
	Took    time.Duration
}

// Probe steps, in order.
const (
	ProbeConnect      = "connect"
	ProbeLogin        = "login"
	ProbeFolders      = "folders"
	ProbeCapabilities = "capabilities"
)

// certWarning is how soon a server certificate's expiry is worth a
// warning.
const certWarning = 14 * 24 * time.Hour

// Probe tries the mailbox as a watcher would at start, with the same
// code: connect (TCP, TLS or STARTTLS, the certificate, the greeting, all
// within cfg.Timeout), log in (LOGIN, AUTHENTICATE PLAIN, or XOAUTH2 /
// OAUTHBEARER with a token from the token command), open the watched
// folder read-only and find the processed and rejected folders (creating
// them when missing, as the watcher does), and report IDLE and MOVE. No
// message is read, flagged or moved. Each step is timed; a failed step
// skips the rest. Nothing returned holds the password or the token.
func Probe(ctx context.Context, cfg Config) []ProbeStep {
	w := New(cfg, nil, nil, slog.New(slog.DiscardHandler))
	steps := []ProbeStep{{Name: ProbeConnect}, {Name: ProbeLogin}, {Name: ProbeFolders}, {Name: ProbeCapabilities}}
	var c *imapclient.Client
	defer func() {
		if c != nil {
			c.Logout().Wait()
			c.Close()
		}
	}()
	failed := ""
	run := func(i int, fn func(st *ProbeStep) error) {
		st := &steps[i]
		if failed != "" {
			st.Skipped, st.Detail = true, "not tried: "+failed+" failed"
			return
		}
		start := time.Now()
		if st.Err = fn(st); st.Err != nil {
			failed = st.Name
		}
		st.Took = time.Since(start)
	}
	run(0, func(st *ProbeStep) error {
		var err error
		c, err = w.probeConnect(st)
		return err
	})
	if c != nil {
		// go-imap calls take no context: closing the client ends them.
		defer context.AfterFunc(ctx, func() { c.Close() })()
	}
	run(1, func(st *ProbeStep) error { return w.probeLogin(ctx, c, st) })
	run(2, func(st *ProbeStep) error { return w.probeFolders(c, st) })
	run(3, func(st *ProbeStep) error { w.probeCaps(c, st); return nil })
	return steps
}

// probeConnect dials as the watcher does and describes the TLS session and
// the server's certificate.
func (w *Watcher) probeConnect(st *ProbeStep) (*imapclient.Client, error) {
	c, dc, err := w.dial(make(chan struct{}, 1))
	if err != nil {
		return nil, err
	}
	conn := dc.Conn
	if pc, ok := conn.(*prefixConn); ok {
		conn = pc.Conn
	}
	tc, ok := conn.(*tls.Conn)
	if !ok {
		st.Detail = w.cfg.Address + " in plain text (tls: none, loopback only)"
		return c, nil
	}
	cs := tc.ConnectionState()
	st.Detail = fmt.Sprintf("%s, %s %s", w.cfg.Address, w.cfg.TLS, tls.VersionName(cs.Version))
	if len(cs.PeerCertificates) > 0 {
		cert := cs.PeerCertificates[0]
		left := time.Until(cert.NotAfter)
		st.Detail += fmt.Sprintf("; certificate %s, issued by %s, valid until %s (%s)", cert.Subject.CommonName,
			cert.Issuer.CommonName, cert.NotAfter.UTC().Format(time.DateOnly), roundLeft(left))
		if left < certWarning {
			st.Warning = "the server's certificate expires within 14 days"
		}
	}
	return c, nil
}

// probeLogin logs in as the watcher does, naming the mechanism.
func (w *Watcher) probeLogin(ctx context.Context, c *imapclient.Client, st *ProbeStep) error {
	caps := c.Caps()
	switch {
	case w.cfg.OAuth2TokenCommand != "" && caps.Has(imap.AuthCap("XOAUTH2")):
		st.Detail = "XOAUTH2 with a token from oauth2_token_command"
	case w.cfg.OAuth2TokenCommand != "":
		st.Detail = "OAUTHBEARER with a token from oauth2_token_command"
	case caps.Has(imap.CapLoginDisabled):
		st.Detail = "AUTHENTICATE PLAIN"
	default:
		st.Detail = "LOGIN"
	}
	st.Detail += " as " + w.cfg.Username
	return w.login(ctx, c)
}

// probeFolders opens the watched folder read-only and finds, or creates,
// the processed and rejected folders.
func (w *Watcher) probeFolders(c *imapclient.Client, st *ProbeStep) error {
	sel, err := c.Select(w.cfg.Mailbox, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		return fmt.Errorf("intake: select %s: %w", w.cfg.Mailbox, err)
	}
	parts := []string{fmt.Sprintf("%s: %d messages", w.cfg.Mailbox, sel.NumMessages)}
	for _, f := range []string{w.cfg.ProcessedFolder, w.cfg.RejectedFolder} {
		if f == "" {
			continue
		}
		if _, err := c.Status(f, &imap.StatusOptions{NumMessages: true}).Wait(); err == nil {
			parts = append(parts, f+": present")
			continue
		}
		if err := ensureFolder(c, f); err != nil {
			return err
		}
		parts = append(parts, f+": created")
	}
	if w.cfg.ProcessedFolder == "" || w.cfg.RejectedFolder == "" {
		parts = append(parts, "decided mail without a folder is flagged \\Seen and left in place")
	}
	st.Detail = strings.Join(parts, "; ")
	return nil
}

// probeCaps reports whether the watcher will use IDLE and MOVE.
func (w *Watcher) probeCaps(c *imapclient.Client, st *ProbeStep) {
	caps := c.Caps()
	rev2 := caps.Has(imap.CapIMAP4rev2)
	var have, warn []string
	switch {
	case caps.Has(imap.CapIdle) || rev2:
		have = append(have, "IDLE")
		if !w.cfg.IDLE {
			warn = append(warn, fmt.Sprintf("idle is off: polling every %s", w.cfg.PollInterval))
		}
	case w.cfg.IDLE:
		warn = append(warn, fmt.Sprintf("no IDLE: polling every %s", w.cfg.PollInterval))
	}
	switch {
	case caps.Has(imap.CapMove) || rev2:
		have = append(have, "MOVE")
	case caps.Has(imap.CapUIDPlus):
		warn = append(warn, "no MOVE: moves take COPY, STORE \\Deleted and UID EXPUNGE")
	default:
		warn = append(warn, "no MOVE nor UIDPLUS: each move ends in EXPUNGE, which also removes other messages marked \\Deleted")
	}
	st.Detail = strings.Join(have, ", ")
	if st.Detail == "" {
		st.Detail = "neither IDLE nor MOVE"
	}
	st.Warning = strings.Join(warn, "; ")
}

// roundLeft says how long until a time, roughly: "in 89 days", "in 5h",
// or "expired".
func roundLeft(d time.Duration) string {
	switch {
	case d <= 0:
		return "expired"
	case d >= 48*time.Hour:
		return fmt.Sprintf("in %d days", int(d/(24*time.Hour)))
	}
	return fmt.Sprintf("in %dh", int(d.Round(time.Hour)/time.Hour))
}
