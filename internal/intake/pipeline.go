package intake

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"math"
	"runtime"
	"sync"
	"time"

	"github.com/unlockd/unlockd/internal/address"
	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/mailparse"
	"github.com/unlockd/unlockd/internal/senderauth"
	"github.com/unlockd/unlockd/internal/store"
)

// Pipeline is the Handler that turns fetched messages into their one
// decision each: parse (mailparse), authenticate the sender (senderauth),
// then decide and record a batch in one transaction (store.DecideBatch over
// domain.Decide).
type Pipeline struct {
	Store    *store.Store
	Verifier *senderauth.Verifier
	// Render renders the reply and notifications for each decision; nil
	// queues no mail.
	Render store.Renderer
	// Decided, when set, is called after each new decision commits, with
	// the time taken since the message was handed over: the app wakes the
	// outbox worker, so replies leave at once, and records metrics.
	Decided func(d store.Decided, took time.Duration)
	// Directories are the configured remote directories, by name: the
	// users of an org naming one are looked up there before each batch
	// (directory.go). Empty for a deployment on builtin only.
	Directories map[string]domain.Directory
	// LookedUp, when set, is told each directory lookup's outcome, for
	// metrics and readiness. It must not block.
	LookedUp func(directory string, err error)
	Log      *slog.Logger
}

// Prepare implements Handler: it parses and authenticates the messages in
// parallel across the cores; Decide then records all that are ready in one
// store transaction (store.DecideBatch). A temporary sender-authentication
// failure of a contact's message is returned as a DeferError, so the
// message is set aside and tried again; every other outcome is a recorded
// decision.
func (p *Pipeline) Prepare(ctx context.Context, batch []Message) Prepared {
	start := time.Now()
	inputs := make([]store.Input, len(batch))
	errs := make([]error, len(batch))
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i, m := range batch {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			inputs[i].Message = store.Message{Mailbox: m.Mailbox, UIDValidity: m.UIDValidity, UID: m.UID, ReceivedAt: m.Received}
			inputs[i].Facts, errs[i] = p.facts(ctx, m, &inputs[i].Message)
		})
	}
	wg.Wait()
	n := len(batch) // the closure keeps no message bytes alive
	lastTry := make([]bool, n)
	for i, m := range batch {
		lastTry[i] = m.LastTry
	}
	return Decided(func(ctx context.Context) []Result {
		out := make([]Result, n)
		var ready []store.Input
		var at []int
		var readyLast []bool
		for i := range n {
			if errs[i] != nil {
				out[i].Err = errs[i]
				continue
			}
			ready, at, readyLast = append(ready, inputs[i]), append(at, i), append(readyLast, lastTry[i])
		}
		deferred, err := p.lookup(ctx, ready, readyLast)
		if err != nil {
			for _, i := range at {
				out[i].Err = fmt.Errorf("intake: directory lookup: %w", err)
			}
			return out
		}
		if len(deferred) > 0 {
			var keep []store.Input
			var keepAt []int
			for j, x := range ready {
				if derr, ok := deferred[j]; ok {
					out[at[j]].Err = derr
					continue
				}
				keep, keepAt = append(keep, x), append(keepAt, at[j])
			}
			ready, at = keep, keepAt
		}
		for j, r := range p.decide(ctx, ready, start) {
			out[at[j]] = r
		}
		return out
	})
}

// Handle decides one message: Prepare and Decide of a batch of one.
func (p *Pipeline) Handle(ctx context.Context, m Message) (Folder, error) {
	r := p.Prepare(ctx, []Message{m}).Decide(ctx)[0]
	return r.Folder, r.Err
}

// decide records the ready inputs in one transaction. When that fails, each
// is tried alone, so that one message the store cannot take does not hold
// up the others.
func (p *Pipeline) decide(ctx context.Context, in []store.Input, start time.Time) []Result {
	if len(in) == 0 {
		return nil
	}
	outcomes, err := p.Store.DecideBatch(ctx, in, p.Render)
	if err != nil && len(in) > 1 {
		out := make([]Result, 0, len(in))
		for _, x := range in {
			out = append(out, p.decide(ctx, []store.Input{x}, start)...)
		}
		return out
	}
	out := make([]Result, len(in))
	if err != nil {
		out[0].Err = fmt.Errorf("intake: decide uid %d: %w", in[0].Message.UID, err)
		return out
	}
	took := time.Since(start)
	for i, o := range outcomes {
		m := in[i].Message
		if o.Duplicate {
			p.Log.Info("duplicate message skipped", "message_key", m.Key, "uid", m.UID, "verdict", o.Verdict)
			out[i].Folder = folderFor(o.Verdict)
			continue
		}
		if p.Decided != nil {
			p.Decided(o.Decided, took)
		}
		p.Log.Info("message decided", "uid", m.UID, "message_id", m.MessageID, "verdict", o.Decision.Verdict,
			"reason", o.Decision.Reason, "items", len(o.Decision.Items))
		out[i].Folder = folderFor(o.Decision.Verdict)
	}
	return out
}

// facts parses and authenticates m: what mailparse and senderauth found,
// for domain.Decide to judge. It fills sm's message fields.
func (p *Pipeline) facts(ctx context.Context, m Message, sm *store.Message) (domain.Facts, error) {
	var msg *mailparse.Message
	var err error
	switch {
	case m.Spool != nil:
		msg, err = mailparse.ParseReader(whole(m), mailparse.Options{})
	case m.Truncated:
		msg, err = mailparse.ParseHeader(m.Raw)
	default:
		msg, err = mailparse.Parse(m.Raw)
	}
	if err != nil {
		sm.Key = rawKey(m)
		return domain.Facts{Unparsable: err.Error()}, nil
	}
	sm.Key, sm.MessageID, sm.Subject, sm.References = msg.Key, msg.MessageID, msg.Subject, msg.References
	f := domain.Facts{AutoGenerated: msg.AutoGenerated, Sender: msg.From, Usernames: msg.Usernames, Words: msg.Words,
		Proof: domain.Proof{SenderProblem: msg.SenderProblem, Duplicated: msg.Duplicated, HeaderLimit: msg.HeaderLimit}}
	if f.AutoGenerated != "" || f.Sender == "" {
		return f, nil
	}
	in := senderauth.Input{Raw: m.Raw, Header: msg.Header, FromDomain: address.Domain(msg.From), Truncated: m.Truncated}
	if m.Spool != nil {
		in.Body = whole(m)
	}
	v, err := p.Verifier.Check(ctx, in)
	if senderauth.IsTemporary(err) {
		return f, p.temporary(ctx, m, &f, err)
	}
	if err != nil {
		return f, err
	}
	f.Proof.Passed, f.Proof.Detail = v.Pass, v.Reason
	for _, sig := range v.Signatures {
		sm.SignatureKeys = append(sm.SignatureKeys, sig.Key())
	}
	if v.Covers(msg.Header, "Subject") {
		f.Proof.Covered |= domain.InSubject
	}
	if v.Covers(msg.Header, "Content-Type", "Content-Transfer-Encoding") {
		f.Proof.Covered |= domain.InBody
	}
	return f, nil
}

// temporary handles a temporary sender-authentication failure (a DKIM key
// lookup that timed out). A contact's message is set aside to be tried
// again (DeferError) until its last try, when it is decided as
// unauthenticated; a stranger's is decided at once, since authentication
// would only decide whether a "not authorised" answer goes out, and after a
// temporary failure none does.
func (p *Pipeline) temporary(ctx context.Context, m Message, f *domain.Facts, err error) error {
	if !m.LastTry {
		contact, cerr := p.Store.IsContact(ctx, f.Sender)
		if cerr != nil {
			return cerr
		}
		if contact {
			return &DeferError{Err: err}
		}
	}
	f.Proof.Detail = "sender authentication failed temporarily: " + err.Error()
	return nil
}

func folderFor(v domain.Verdict) Folder {
	if v == domain.VerdictRejected {
		return Rejected
	}
	return Processed
}

// rawKey is the duplicate key of a message too broken to parse: a hash of
// its header block (or of all of it when no blank line ends the header),
// reading at most the first 64 KiB of a spooled one.
func rawKey(m Message) string {
	raw := m.Raw
	if m.Spool != nil {
		raw, _ = io.ReadAll(io.LimitReader(whole(m), 64<<10))
	}
	head := raw
	if i := bytes.Index(raw, []byte("\n\n")); i >= 0 {
		head = raw[:i]
	} else if i := bytes.Index(raw, []byte("\r\n\r\n")); i >= 0 {
		head = raw[:i]
	}
	sum := sha256.Sum256(head)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// whole reads a spooled message from its start; each call reads anew.
func whole(m Message) io.Reader { return io.NewSectionReader(m.Spool, 0, math.MaxInt64) }
