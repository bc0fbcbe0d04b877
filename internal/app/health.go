package app

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/intake"
	"github.com/unlockd/unlockd/internal/metrics"
	"github.com/unlockd/unlockd/internal/outbox"
	"github.com/unlockd/unlockd/internal/senderauth"
)

// Store states in /readyz.
const (
	storeStarting    = "starting"    // not asked yet
	storeOK          = "ok"          // answers, migrated
	storeUnreachable = "unreachable" // did not answer; see error
)

// component is one part's state in /readyz: what it is doing, since when,
// and, while it retries, the last error.
type component struct {
	State string    `json:"state"`
	Error string    `json:"error,omitempty"`
	Since time.Time `json:"since"`
}

// health is what /readyz reports. Its methods are safe for concurrent use.
type health struct {
	mu        sync.Mutex
	store     component
	smtp      component
	dns       component
	mailboxes map[string]component
	// directories are the remote directories' states (directory_health.go).
	directories map[string]component
}

func (h *health) init() {
	now := time.Now().UTC()
	h.store = component{State: storeStarting, Since: now}
	h.smtp = component{State: string(outbox.StateOK), Since: now}
	h.dns = component{State: dnsOK, Since: now}
	h.mailboxes = map[string]component{}
}

// set moves c to state: since changes with the state, the error with
// every report.
func set(c *component, state string, err error) {
	if c.State != state || c.Since.IsZero() {
		c.State, c.Since = state, time.Now().UTC()
	}
	c.Error = ""
	if err != nil {
		c.Error = err.Error()
	}
}

func (h *health) setStore(state string, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	set(&h.store, state, err)
}

// mailboxState records a watcher's report: readiness, the connected gauge
// and, for a failure, the peer it came from and the reconnect.
func (a *App) mailboxState(mailbox string, st intake.State, cause error) {
	a.health.mu.Lock()
	c := a.health.mailboxes[mailbox]
	set(&c, string(st), cause)
	a.health.mailboxes[mailbox] = c
	a.health.mu.Unlock()
	a.metrics.Connected(mailbox, st == intake.StateConnected)
	if st != intake.StateRetrying || cause == nil {
		return
	}
	peer, lease := peerOf(cause)
	a.metrics.PeerFailure(peer, isTimeout(cause))
	if !lease {
		a.metrics.Reconnecting(mailbox)
	}
}

// DNS states in /readyz: the last DKIM key lookup answered, or failed
// temporarily (the message was set aside; see error).
const (
	dnsOK       = "ok"
	dnsRetrying = "retrying"
)

// dnsState records how the last DKIM key query went (senderauth's
// OnLookup); a temporary failure is counted as a DNS peer failure.
func (a *App) dnsState(err error) {
	a.health.mu.Lock()
	if err != nil {
		set(&a.health.dns, dnsRetrying, err)
	} else if a.health.dns.State != dnsOK {
		set(&a.health.dns, dnsOK, nil)
	}
	a.health.mu.Unlock()
	if err != nil {
		a.metrics.PeerFailure(metrics.PeerDNS, isTimeout(err))
	}
}

// smtpState records the outbox worker's SMTP state.
func (a *App) smtpState(st outbox.State, cause error) {
	a.health.mu.Lock()
	defer a.health.mu.Unlock()
	set(&a.health.smtp, string(st), cause)
}

// readyPing bounds the store check of one /readyz request.
const readyPing = 2 * time.Second

// readyz reports the store, the SMTP state, each mailbox and each remote
// directory (pinged now, when it can be) as JSON: 200 when the store
// answers and is migrated, 503 otherwise. Mailboxes that are retrying, or
// on standby while another instance holds their lease, and directories
// that cannot answer do not make the instance unready: the API still
// works, and their requests wait.
func (a *App) readyz(w http.ResponseWriter, r *http.Request) {
	if a.prepared.Load() {
		ctx, cancel := context.WithTimeout(r.Context(), readyPing)
		done := make(chan error, 1)
		go func() { done <- a.Store.Ping(ctx) }()
		var err error
		select {
		case err = <-done:
		case <-ctx.Done(): // lib/pq may wait longer on a dead link
			err = errors.New("store: no answer to a ping within " + readyPing.String())
		}
		cancel()
		if err != nil {
			a.health.setStore(storeUnreachable, err)
		} else {
			a.health.setStore(storeOK, nil)
		}
	}
	if len(a.directories) > 0 {
		a.pingDirectories(r.Context())
	}
	status := map[string]any{}
	a.health.mu.Lock()
	code := http.StatusOK
	if a.health.store.State != storeOK {
		code = http.StatusServiceUnavailable
	}
	status["store"] = a.health.store
	if a.worker != nil {
		status["smtp"] = a.health.smtp
	}
	if len(a.cfg.Mailboxes) > 0 {
		status["dns"] = a.health.dns
	}
	mailboxes := map[string]component{}
	for _, mb := range a.cfg.Mailboxes {
		c, ok := a.health.mailboxes[mb.Name]
		if !ok {
			c = component{State: "starting", Since: a.health.store.Since}
		}
		mailboxes[mb.Name] = c
	}
	if len(a.directories) > 0 {
		status["directories"] = a.directoriesStatus()
	}
	a.health.mu.Unlock()
	status["mailboxes"] = mailboxes
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(status)
}

// peerError marks an error a watcher reports with the peer it came from:
// the handler's and the checkpoints' errors come from the database (or,
// for a temporary sender-authentication failure, DNS), and so do lease
// errors. Everything else a watcher reports comes from the IMAP server.
type peerError struct {
	peer  string
	lease bool
	err   error
}

func (e *peerError) Error() string { return e.err.Error() }
func (e *peerError) Unwrap() error { return e.err }

func peerOf(err error) (peer string, lease bool) {
	var pe *peerError
	if errors.As(err, &pe) {
		return pe.peer, pe.lease
	}
	return metrics.PeerIMAP, false
}

// isTimeout reports whether err says a peer went silent.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// sourced tags the pipeline's errors with their peer: DNS for a temporary
// sender-authentication failure, the directory for a lookup that could not
// answer, else the database.
type sourced struct{ h intake.Handler }

func (s sourced) Prepare(ctx context.Context, batch []intake.Message) intake.Prepared {
	p := s.h.Prepare(ctx, batch)
	return intake.Decided(func(ctx context.Context) []intake.Result {
		out := p.Decide(ctx)
		for i, r := range out {
			switch {
			case r.Err == nil:
			case senderauth.IsTemporary(r.Err):
				out[i].Err = &peerError{peer: metrics.PeerDNS, err: r.Err}
			case domain.IsTemporary(r.Err): // a directory lookup that could not answer
				out[i].Err = &peerError{peer: metrics.PeerDirectory, err: r.Err}
			default:
				out[i].Err = &peerError{peer: metrics.PeerDatabase, err: r.Err}
			}
		}
		return out
	})
}

// sourcedCheckpoints tags the checkpoint store's errors as the database's;
// methods it does not override pass through untagged.
type sourcedCheckpoints struct{ intake.Checkpoints }

func (s sourcedCheckpoints) Checkpoint(ctx context.Context, mailbox string, uidvalidity uint32) (uint32, error) {
	uid, err := s.Checkpoints.Checkpoint(ctx, mailbox, uidvalidity)
	if err != nil {
		err = &peerError{peer: metrics.PeerDatabase, err: err}
	}
	return uid, err
}

func (s sourcedCheckpoints) SetCheckpoint(ctx context.Context, mailbox string, uidvalidity, uid uint32) error {
	if err := s.Checkpoints.SetCheckpoint(ctx, mailbox, uidvalidity, uid); err != nil {
		return &peerError{peer: metrics.PeerDatabase, err: err}
	}
	return nil
}

// lease is store.AcquireMailbox with its errors tagged as the database's.
func (a *App) lease(ctx context.Context, mailbox string, standby func()) (context.Context, func(), error) {
	held, release, err := a.Store.AcquireMailbox(ctx, mailbox, standby)
	if err != nil {
		err = &peerError{peer: metrics.PeerDatabase, lease: true, err: err}
	}
	return held, release, err
}
