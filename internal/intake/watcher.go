package intake

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// TLS modes, as in the configuration.
const (
	TLSImplicit = "implicit"
	TLSStartTLS = "starttls"
	TLSNone     = "none"
)

// Config is one mailbox to watch.
type Config struct {
	Name     string // names the mailbox in the store and logs
	Address  string // host:port
	TLS      string // implicit, starttls or none (loopback only; config validates)
	CAFile   string
	Username string
	Password string
	// OAuth2TokenCommand prints an OAuth 2.0 access token; when set it is
	// used instead of Password.
	OAuth2TokenCommand string
	Mailbox            string // default INBOX
	ProcessedFolder    string // empty: flag \Seen and leave in place
	RejectedFolder     string
	IDLE               bool
	PollInterval       time.Duration
	// MaxMessageBytes: larger messages are never downloaded whole; the
	// handler gets the header and the first part of the body, Truncated set.
	MaxMessageBytes int64
	// BatchSize is the number of messages fetched per command.
	BatchSize int
	// Parallel is how many messages of a batch are decided at once.
	Parallel int
	// Timeout is how long the server may stay silent while an answer is
	// due: the greeting, TLS set-up, a command's reply, the next bytes of a
	// FETCH (deadline.go). Not applied while IDLE waits for mail.
	Timeout time.Duration
}

// Message is one fetched mailbox message.
type Message struct {
	Mailbox     string
	UIDValidity uint32
	UID         uint32
	Size        int64
	Received    time.Time
	// Raw is the whole message, or, when Truncated, its header followed by
	// the first part of its body.
	Raw       []byte
	Truncated bool
}

// Folder is where a decided message goes.
type Folder int

// Folders.
const (
	Processed Folder = iota
	Rejected
)

// Handler decides one message exactly once and says where it goes. It must
// be idempotent: a message decided before a crash comes again after it, and
// must get the same folder without a second decision. An error (such as a
// DNS failure during sender authentication) leaves the message in the
// mailbox for a later try.
type Handler interface {
	Handle(ctx context.Context, m Message) (Folder, error)
}

// Checkpoints keeps the highest decided UID per (mailbox, UIDVALIDITY).
type Checkpoints interface {
	Checkpoint(ctx context.Context, mailbox string, uidvalidity uint32) (uint32, error)
	SetCheckpoint(ctx context.Context, mailbox string, uidvalidity, uid uint32) error
}

// Watcher watches one mailbox.
type Watcher struct {
	cfg         Config
	handler     Handler
	checkpoints Checkpoints
	log         *slog.Logger
	// Lease, when set, must grant the mailbox before the watcher connects,
	// so that one instance at a time watches it (store.AcquireMailbox); it
	// calls standby whenever another instance holds the mailbox. The
	// context it returns ends when the lease is lost.
	Lease func(ctx context.Context, mailbox string, standby func()) (held context.Context, release func(), err error)
	// OnState, when set, is told the state on each change and on each
	// failure, with its cause when retrying; readiness reporting, metrics
	// and tests use it. It must not block.
	OnState func(st State, cause error)

	failures failureRun // used by the Run goroutine only
}

// State is where a watcher stands, for readiness reports.
type State string

// Watcher states.
const (
	StateConnecting State = "connecting" // first connection (or lease request) under way
	StateStandby    State = "standby"    // another instance holds the mailbox lease
	StateConnected  State = "connected"  // the mailbox is selected
	StateRetrying   State = "retrying"   // the last session or lease request failed; retrying
)

// New returns a watcher; defaults fill unset fields of cfg.
func New(cfg Config, h Handler, cp Checkpoints, log *slog.Logger) *Watcher {
	if cfg.Mailbox == "" {
		cfg.Mailbox = "INBOX"
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 30 * time.Second
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 100
	}
	if cfg.Parallel <= 0 {
		cfg.Parallel = 4
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = time.Minute
	}
	if cfg.MaxMessageBytes <= 0 {
		cfg.MaxMessageBytes = 10 << 20
	}
	return &Watcher{cfg: cfg, handler: h, checkpoints: cp, log: log.With("mailbox", cfg.Name)}
}

// Backoff bounds for reconnecting, and for asking for the lease again
// while the database is unreachable.
const (
	minBackoff      = 500 * time.Millisecond
	maxBackoff      = 2 * time.Minute
	maxLeaseBackoff = 10 * time.Second
)

// Run watches until ctx ends, holding the mailbox lease when one is set
// and reconnecting after failures. It returns nil when ctx ends.
func (w *Watcher) Run(ctx context.Context) error {
	w.setState(StateConnecting, nil)
	if w.Lease == nil {
		w.watch(ctx)
		return nil
	}
	backoff := minBackoff
	for ctx.Err() == nil {
		held, release, err := w.Lease(ctx, w.cfg.Name, func() { w.setState(StateStandby, nil) })
		if err != nil {
			if ctx.Err() == nil {
				wait := backoff/2 + rand.N(backoff/2+1)
				w.failed("mailbox lease unavailable; retrying", err, wait)
				sleep(ctx, wait)
				backoff = min(backoff*2, maxLeaseBackoff)
			}
			continue
		}
		backoff = minBackoff
		w.log.Info("mailbox lease held")
		w.setState(StateConnecting, nil)
		w.watch(held)
		release()
		if ctx.Err() == nil {
			w.log.Warn("mailbox lease lost; standing by")
		}
	}
	return nil
}

// watch runs sessions until ctx ends, reconnecting after failures.
func (w *Watcher) watch(ctx context.Context) {
	backoff := minBackoff
	for {
		start := time.Now()
		err := w.session(ctx)
		if ctx.Err() != nil {
			return
		}
		if time.Since(start) > maxBackoff {
			backoff = minBackoff // the session was healthy for a while
		}
		wait := backoff/2 + rand.N(backoff/2+1) // jitter
		w.failed("imap session ended; reconnecting", err, wait)
		if !sleep(ctx, wait) {
			return
		}
		backoff = min(backoff*2, maxBackoff)
	}
}

// sleep waits for d or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// session runs one connection: connect, select, then drain and wait until
// an error or ctx ends.
func (w *Watcher) session(ctx context.Context) (err error) {
	wake := make(chan struct{}, 1)
	c, conn, err := w.dial(wake)
	if err != nil {
		return err
	}
	defer c.Close()
	defer func() { err = conn.explain(err) }()
	// go-imap calls take no context: closing the client unblocks them. Until
	// the first wait, a stop request closes the connection at once; while
	// draining, the batch in hand is finished first (see drain).
	stop := context.AfterFunc(ctx, func() { c.Close() })
	if err := w.login(ctx, c); err != nil {
		return err
	}
	for _, f := range []string{w.cfg.ProcessedFolder, w.cfg.RejectedFolder} {
		if err := ensureFolder(c, f); err != nil {
			return err
		}
	}
	sel, err := c.Select(w.cfg.Mailbox, nil).Wait()
	if err != nil {
		return fmt.Errorf("intake: select %s: %w", w.cfg.Mailbox, err)
	}
	w.log.Info("imap mailbox selected", "uidvalidity", sel.UIDValidity, "messages", sel.NumMessages)
	stop()
	// A server that hangs while the batch in hand is finished still cannot
	// hold up a stop for longer than one command timeout.
	defer context.AfterFunc(ctx, func() { time.AfterFunc(w.cfg.Timeout, func() { c.Close() }) })()
	w.setState(StateConnected, nil)
	idle := w.cfg.IDLE && (c.Caps().Has(imap.CapIdle) || c.Caps().Has(imap.CapIMAP4rev2))
	for {
		if err := w.drain(ctx, c, sel.UIDValidity); err != nil {
			return err
		}
		if err := w.wait(ctx, c, wake, idle); err != nil {
			return err
		}
	}
}

// ensureFolder creates folder unless it is empty or already exists.
func ensureFolder(c *imapclient.Client, folder string) error {
	if folder == "" {
		return nil
	}
	// RFC 3501 wants at least one STATUS item; Dovecot rejects "()".
	if _, err := c.Status(folder, &imap.StatusOptions{NumMessages: true}).Wait(); err == nil {
		return nil
	}
	err := c.Create(folder, nil).Wait()
	var imapErr *imap.Error
	if errors.As(err, &imapErr) && imapErr.Code == imap.ResponseCodeAlreadyExists {
		return nil // created meanwhile, or STATUS failed for another reason
	}
	if err != nil {
		return fmt.Errorf("intake: create folder %s: %w", folder, err)
	}
	return nil
}

// wait returns when new mail may have arrived: an EXISTS during IDLE, or
// the poll interval elapsed.
func (w *Watcher) wait(ctx context.Context, c *imapclient.Client, wake chan struct{}, idle bool) error {
	if !idle {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-wake:
		case <-time.After(w.cfg.PollInterval):
		}
		if err := c.Noop().Wait(); err != nil {
			return fmt.Errorf("intake: noop: %w", err)
		}
		return nil
	}
	cmd, err := c.Idle()
	if err != nil {
		return fmt.Errorf("intake: idle: %w", err)
	}
	select {
	case <-ctx.Done():
	case <-wake:
	case <-c.Closed():
	case <-time.After(w.cfg.PollInterval * 10): // re-check now and then even if IDLE stays silent
	}
	if err := cmd.Close(); err != nil {
		return fmt.Errorf("intake: idle done: %w", err)
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("intake: idle: %w", err)
	}
	return ctx.Err()
}

// drain decides every message above the checkpoint, a batch at a time.
// When ctx ends it finishes the message in hand, files what it decided and
// records the checkpoint before returning.
func (w *Watcher) drain(ctx context.Context, c *imapclient.Client, uidvalidity uint32) error {
	stopping := ctx
	ctx = context.WithoutCancel(ctx)
	for {
		if err := stopping.Err(); err != nil {
			return err
		}
		last, err := w.checkpoints.Checkpoint(ctx, w.cfg.Name, uidvalidity)
		if err != nil {
			return err
		}
		pending, err := w.listNew(c, last)
		if err != nil || len(pending) == 0 {
			return err
		}
		if len(pending) > w.cfg.BatchSize {
			pending = pending[:w.cfg.BatchSize]
		}
		done, err := w.decideBatch(ctx, stopping, c, uidvalidity, pending)
		if done == 0 {
			return err
		}
		if err := w.checkpoints.SetCheckpoint(ctx, w.cfg.Name, uidvalidity, done); err != nil {
			return err
		}
		if err != nil {
			return err
		}
	}
}

// sized is a UID with its RFC822.SIZE.
type sized struct {
	uid  uint32
	size int64
}

// listNew returns the UIDs above last with their sizes, in UID order. The
// range "last+1:*" always matches the newest message even when its UID is
// lower, so the answer is filtered.
func (w *Watcher) listNew(c *imapclient.Client, last uint32) ([]sized, error) {
	var set imap.UIDSet
	set.AddRange(imap.UID(last+1), 0)
	msgs, err := c.Fetch(set, &imap.FetchOptions{UID: true, RFC822Size: true}).Collect()
	if err != nil {
		return nil, fmt.Errorf("intake: list new messages: %w", err)
	}
	out := make([]sized, 0, len(msgs))
	for _, m := range msgs {
		if uint32(m.UID) > last {
			out = append(out, sized{uint32(m.UID), m.RFC822Size})
		}
	}
	slices.SortFunc(out, func(a, b sized) int { return int(a.uid) - int(b.uid) })
	return out, nil
}

// decideBatch fetches the batch with at most two FETCH commands (whole
// messages, and header plus first body bytes for oversized ones), decides
// them in UID order, and moves them with one command per folder. It
// returns the highest UID it finished; a temporary handler error stops the
// batch there.
func (w *Watcher) decideBatch(ctx, stopping context.Context, c *imapclient.Client, uidvalidity uint32, batch []sized) (uint32, error) {
	var whole, big imap.UIDSet
	for _, m := range batch {
		if m.size > w.cfg.MaxMessageBytes {
			big.AddNum(imap.UID(m.uid))
		} else {
			whole.AddNum(imap.UID(m.uid))
		}
	}
	fetched := map[uint32]*imapclient.FetchMessageBuffer{}
	wholeSection := &imap.FetchItemBodySection{Peek: true}
	headSection := &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, Peek: true}
	textSection := &imap.FetchItemBodySection{Specifier: imap.PartSpecifierText, Peek: true,
		Partial: &imap.SectionPartial{Offset: 0, Size: truncatedBodyBytes}}
	for _, f := range []struct {
		set      imap.UIDSet
		sections []*imap.FetchItemBodySection
	}{{whole, []*imap.FetchItemBodySection{wholeSection}}, {big, []*imap.FetchItemBodySection{headSection, textSection}}} {
		if len(f.set) == 0 {
			continue
		}
		msgs, err := c.Fetch(f.set, &imap.FetchOptions{UID: true, InternalDate: true, BodySection: f.sections}).Collect()
		if err != nil {
			return 0, fmt.Errorf("intake: fetch: %w", err)
		}
		for _, m := range msgs {
			fetched[uint32(m.UID)] = m
		}
	}

	// Decide up to Parallel messages at once: each decision is its own
	// transaction, and concurrent commits share the database's log flushes.
	type result struct {
		folder  Folder
		err     error
		started bool
	}
	results := make([]result, len(batch))
	sem := make(chan struct{}, w.cfg.Parallel)
	var wg sync.WaitGroup
	for i, s := range batch {
		if stopping.Err() != nil {
			break
		}
		m, ok := fetched[s.uid]
		if !ok {
			results[i] = result{started: true, folder: -1} // expunged by someone else meanwhile
			continue
		}
		msg := Message{Mailbox: w.cfg.Name, UIDValidity: uidvalidity, UID: s.uid, Size: s.size, Received: m.InternalDate}
		if s.size > w.cfg.MaxMessageBytes {
			msg.Raw = append(append([]byte{}, m.FindBodySection(headSection)...), m.FindBodySection(textSection)...)
			msg.Truncated = true
		} else {
			msg.Raw = m.FindBodySection(wholeSection)
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			folder, err := w.handler.Handle(ctx, msg)
			results[i] = result{folder: folder, err: err, started: true}
		})
	}
	wg.Wait()

	// File every decided message; the checkpoint advances only over an
	// unbroken run of finished ones, so a message left for later (or not
	// started before a stop) is fetched again, and any decided message after
	// it comes back as a duplicate.
	var done uint32
	var herr error
	moves := map[Folder][]uint32{}
	unbroken := true
	for i, s := range batch {
		r := results[i]
		if !r.started || r.err != nil {
			if herr == nil {
				herr = r.err
			}
			unbroken = false
			continue
		}
		if r.folder >= 0 {
			moves[r.folder] = append(moves[r.folder], s.uid)
		}
		if unbroken {
			done = s.uid
		}
	}
	if err := w.move(c, moves); err != nil {
		return 0, err
	}
	return done, herr
}

// truncatedBodyBytes is how much of an oversized message's body is read.
const truncatedBodyBytes = 256 << 10

// move files decided messages: one MOVE per folder (COPY, STORE \Deleted
// and UID EXPUNGE where the server lacks MOVE), or \Seen where no folder is
// configured.
func (w *Watcher) move(c *imapclient.Client, moves map[Folder][]uint32) error {
	for folder, uids := range moves {
		target := w.cfg.ProcessedFolder
		if folder == Rejected {
			target = w.cfg.RejectedFolder
		}
		var set imap.UIDSet
		for _, u := range uids {
			set.AddNum(imap.UID(u))
		}
		if target == "" {
			if err := c.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagSeen}}, nil).Close(); err != nil {
				return fmt.Errorf("intake: flag seen: %w", err)
			}
			continue
		}
		if _, err := c.Move(set, target).Wait(); err != nil {
			return fmt.Errorf("intake: move to %s: %w", target, err)
		}
	}
	return nil
}
