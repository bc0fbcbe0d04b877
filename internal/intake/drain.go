package intake

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/unlockd/unlockd/internal/store"
)

// Checkpoints keeps where a mailbox stands: the highest UID up to which
// every message was handled, per (mailbox, UIDVALIDITY), and the messages
// set aside after a temporary failure. store.Store implements it.
type Checkpoints interface {
	Checkpoint(ctx context.Context, mailbox string, uidvalidity uint32) (uint32, error)
	SetCheckpoint(ctx context.Context, mailbox string, uidvalidity, uid uint32) error
	Deferrals(ctx context.Context, mailbox string, uidvalidity uint32, limit int) ([]store.Deferral, error)
	SaveDeferrals(ctx context.Context, mailbox string, uidvalidity uint32, deferred []store.Deferral, settled []uint32) error
}

// Defaults for setting deferred messages aside.
const (
	defaultDeferTries   = 8
	defaultDeferMaxAge  = time.Hour
	defaultDeferBackoff = 30 * time.Second
	maxDeferBackoff     = 10 * time.Minute
	// maxDeferralsRead bounds the deferrals read per batch: the soonest due
	// come first.
	maxDeferralsRead = 1000
)

// outcome is what became of one message of a batch.
type outcome int

const (
	notStarted outcome = iota // a stop came first
	decided                   // filed in folder
	vanished                  // expunged by someone else meanwhile
	deferred                  // set aside after a DeferError
	failed                    // any other error: the batch stops here
)

type result struct {
	outcome outcome
	folder  Folder
	err     error
}

// drain decides the messages above the checkpoint and the deferred ones
// that are due, a batch at a time, listing the mailbox once per round. It
// pipelines: while one batch is decided (the database's turn), the next is
// fetched and prepared (IMAP's and the cores' turn); the IMAP commands
// themselves never overlap. When ctx ends it finishes the batch in hand,
// files what it decided and records where it got to before returning.
// nextDue is when the next deferred message falls due (zero: none is
// waiting).
func (w *Watcher) drain(ctx context.Context, c *imapclient.Client, uidvalidity uint32) (nextDue time.Time, err error) {
	stopping := ctx
	ctx = context.WithoutCancel(ctx)
	for {
		if err := stopping.Err(); err != nil {
			return time.Time{}, err
		}
		last, err := w.checkpoints.Checkpoint(ctx, w.cfg.Name, uidvalidity)
		if err != nil {
			return time.Time{}, err
		}
		var waiting []store.Deferral
		if w.mayHaveDeferrals {
			if waiting, err = w.checkpoints.Deferrals(ctx, w.cfg.Name, uidvalidity, maxDeferralsRead); err != nil {
				return time.Time{}, err
			}
			w.mayHaveDeferrals = len(waiting) > 0
		}
		due, next := w.dueNow(waiting)
		dueUIDs := make([]uint32, 0, len(due))
		for u := range due {
			dueUIDs = append(dueUIDs, u)
		}
		fresh, old, err := w.list(c, last, dueUIDs)
		if err != nil {
			return time.Time{}, err
		}
		var gone []uint32 // due but no longer in the mailbox
		for _, u := range dueUIDs {
			if !containsUID(old, u) {
				gone = append(gone, u)
			}
		}
		queue := append(old, fresh...)
		if len(queue) == 0 {
			return next, w.checkpoints.SaveDeferrals(ctx, w.cfg.Name, uidvalidity, nil, gone)
		}
		r := &round{w: w, c: c, uidvalidity: uidvalidity, due: due, last: last, settled: gone}
		if err := r.run(ctx, stopping, queue); err != nil {
			return time.Time{}, err
		}
	}
}

// round works through one listing of the mailbox.
type round struct {
	w           *Watcher
	c           *imapclient.Client
	uidvalidity uint32
	due         map[uint32]store.Deferral
	last        uint32   // the checkpoint
	settled     []uint32 // deferrals settled and not yet saved
}

// staged is a batch fetched and prepared, ready to be decided.
type staged struct {
	batch    []sized
	results  []result // vanished messages already marked
	msgs     []Message
	at       []int // batch index of each of msgs
	prepared Prepared
	err      error
}

// run decides queue in batches. It pipelines: while one batch is decided
// (the database's turn), the batch before it is filed and the next one
// fetched and prepared (IMAP's and the cores' turn), in that order, so
// IMAP commands never overlap. A batch's checkpoint is recorded only once
// it is filed. When the batch before fails (its move, or one of its
// messages), the round ends with the batch just decided unfiled: the next
// round fetches it again and finds it decided (duplicates), so each
// message still has one decision.
func (r *round) run(ctx, stopping context.Context, queue []sized) error {
	take := func() []sized {
		n := r.w.batchLen(queue)
		b := queue[:n]
		queue = queue[n:]
		return b
	}
	cur := r.stage(ctx, take())
	var prev *filing // decided, not yet filed
	for {
		if cur.err != nil {
			return r.finish(ctx, prev, cur.err)
		}
		moved := make(chan error, 1)
		ahead := make(chan staged, 1)
		more := len(queue) > 0 && stopping.Err() == nil
		var batch []sized
		if more {
			batch = take()
		}
		go func() {
			err := prev.move(r)
			moved <- err
			if err == nil && more {
				ahead <- r.stage(ctx, batch)
			}
		}()
		decided := &filing{batch: cur.batch, results: r.decide(ctx, cur)}
		if err := <-moved; err != nil {
			return err
		}
		if err := prev.record(ctx, r); err != nil {
			if more {
				<-ahead // the connection is free again
			}
			return err
		}
		prev = decided
		if !more {
			return r.finish(ctx, prev, nil)
		}
		cur = <-ahead
	}
}

// filing is a decided batch on its way to its folders.
type filing struct {
	batch   []sized
	results []result
}

// finish files the last decided batch, if any, and returns its first
// failure, or else err.
func (r *round) finish(ctx context.Context, last *filing, err error) error {
	if merr := last.move(r); merr != nil {
		return merr
	}
	if rerr := last.record(ctx, r); rerr != nil {
		return rerr
	}
	return err
}

// move files a decided batch's messages, one command per folder; nil
// files nothing.
func (f *filing) move(r *round) error {
	if f == nil {
		return nil
	}
	moves := map[Folder][]uint32{}
	for i, res := range f.results {
		if res.outcome == decided {
			moves[res.folder] = append(moves[res.folder], f.batch[i].uid)
		}
	}
	return r.w.move(r.c, moves)
}

// Defaults of batching and of the memory budget.
const (
	// DefaultBatchSize: a batch's transaction and its MOVE each cost
	// something whatever the batch's size (Dovecot's MOVE updates both
	// folders' indexes), so a backlog drains in few large batches: 1000
	// drained 10,000 requests about 5% faster than 500, and 2000 only 3%
	// faster again while holding the batch's row locks twice as long
	// (bench intake). The fetch budget bounds their bytes.
	DefaultBatchSize   = 1000
	DefaultFetchBudget = 32 << 20
	DefaultSpoolBytes  = 1 << 20
)

// heldBytes is what a message costs in memory while its batch is fetched
// and prepared: its size when fetched whole; the header and first body
// bytes of an oversized one; a buffer's worth for a spooled one, which
// waits on disk.
func (w *Watcher) heldBytes(s sized) int64 {
	switch {
	case s.size > w.cfg.MaxMessageBytes:
		return truncatedBodyBytes + maxHeaderBytes
	case s.size > w.cfg.SpoolBytes:
		return spoolBuffer
	}
	return s.size
}

// batchLen is how many messages of queue the next batch takes: at most
// BatchSize, and no more than FetchBudget bytes held (a message alone may
// be over it only by its spool buffer or truncated part).
func (w *Watcher) batchLen(queue []sized) int {
	var held int64
	for i, s := range queue {
		if i == w.cfg.BatchSize || (i > 0 && held+w.heldBytes(s) > w.cfg.FetchBudget) {
			return i
		}
		held += w.heldBytes(s)
	}
	return len(queue)
}

// stage fetches a batch and hands what arrived to the handler's Prepare.
func (r *round) stage(ctx context.Context, batch []sized) staged {
	st := staged{batch: batch, results: make([]result, len(batch))}
	fetched, err := r.w.fetch(r.c, r.uidvalidity, batch)
	if err != nil {
		st.err = err
		return st
	}
	now := time.Now()
	for i, s := range batch {
		msg, ok := fetched[s.uid]
		if !ok {
			st.results[i] = result{outcome: vanished}
			continue
		}
		msg.LastTry = r.w.lastTry(r.due[s.uid], now)
		st.msgs, st.at = append(st.msgs, msg), append(st.at, i)
	}
	st.prepared = r.w.handler.Prepare(ctx, st.msgs)
	for i := range st.msgs { // the batch is prepared: let its bytes go
		removeSpool(st.msgs[i])
		st.msgs[i].Raw, st.msgs[i].Spool = nil, nil
	}
	return st
}

// decide has the handler decide a staged batch.
func (r *round) decide(ctx context.Context, st staged) []result {
	results := st.results
	for j, res := range st.prepared.Decide(ctx) {
		i := st.at[j]
		var de *DeferError
		switch {
		case res.Err == nil:
			results[i] = result{outcome: decided, folder: res.Folder}
		case errors.As(res.Err, &de) && !st.msgs[j].LastTry:
			results[i] = result{outcome: deferred, err: res.Err}
		default:
			results[i] = result{outcome: failed, err: res.Err}
		}
	}
	return results
}

// record writes what a filed batch leaves, the deferrals and the
// checkpoint, and returns the batch's first failure; nil records nothing.
func (f *filing) record(ctx context.Context, r *round) error {
	if f == nil {
		return nil
	}
	done, toDefer, herr := r.w.settle(f.batch, f.results, r.last, r.due, &r.settled)
	if err := r.w.checkpoints.SaveDeferrals(ctx, r.w.cfg.Name, r.uidvalidity, toDefer, r.settled); err != nil {
		return err
	}
	r.w.mayHaveDeferrals = r.w.mayHaveDeferrals || len(toDefer) > 0
	r.settled = nil
	if done > r.last {
		if err := r.w.checkpoints.SetCheckpoint(ctx, r.w.cfg.Name, r.uidvalidity, done); err != nil {
			return err
		}
		r.last = done
	}
	return herr
}

// dueNow splits the deferred messages into those due now (at most one
// batch) and the time the next of the others falls due.
func (w *Watcher) dueNow(waiting []store.Deferral) (due map[uint32]store.Deferral, next time.Time) {
	now := time.Now()
	due = map[uint32]store.Deferral{}
	for _, d := range waiting {
		if !d.NextTryAt.After(now) && len(due) < w.cfg.BatchSize {
			due[d.UID] = d
		} else if next.IsZero() || d.NextTryAt.Before(next) {
			next = d.NextTryAt
		}
	}
	return due, next
}

// lastTry reports whether a message deferred as d (zero for a fresh one)
// must be decided now whatever happens: its tries or its time are up.
func (w *Watcher) lastTry(d store.Deferral, now time.Time) bool {
	return d.Tries+1 >= w.cfg.DeferTries || (!d.FirstTryAt.IsZero() && now.Sub(d.FirstTryAt) >= w.cfg.DeferMaxAge)
}

// settle works out what a decided batch leaves: the checkpoint, which
// advances over the unbroken run of new messages that were decided, set
// aside or found gone (so a message not started before a stop, or that
// failed, is fetched again, and anything decided after it comes back as a
// duplicate); the deferrals to write; the deferred messages now settled;
// and the first failure.
func (w *Watcher) settle(batch []sized, results []result, last uint32, due map[uint32]store.Deferral, settled *[]uint32) (done uint32, toDefer []store.Deferral, herr error) {
	done = last
	unbroken := true
	now := time.Now()
	for i, s := range batch {
		r := results[i]
		_, wasDue := due[s.uid]
		switch r.outcome {
		case decided, vanished:
			if wasDue {
				*settled = append(*settled, s.uid)
			}
		case deferred:
			d := due[s.uid]
			if d.Tries == 0 {
				d = store.Deferral{UID: s.uid, FirstTryAt: now}
				w.log.Warn("message set aside after a temporary failure; later mail goes on", "uid", s.uid, slog.Any("error", r.err))
			}
			d.Tries++
			d.NextTryAt = now.Add(min(w.cfg.DeferBackoff<<(d.Tries-1), maxDeferBackoff))
			d.LastError = r.err.Error()
			toDefer = append(toDefer, d)
		default:
			if herr == nil {
				herr = r.err
			}
			if s.uid > last {
				unbroken = false
			}
			continue
		}
		if s.uid > last && unbroken {
			done = s.uid
		}
	}
	return done, toDefer, herr
}

func containsUID(list []sized, uid uint32) bool {
	for _, s := range list {
		if s.uid == uid {
			return true
		}
	}
	return false
}
