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
// that are due, a batch at a time. When ctx ends it finishes the message in
// hand, files what it decided and records where it got to before
// returning. nextDue is when the next deferred message falls due (zero:
// none is waiting).
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
		waiting, err := w.checkpoints.Deferrals(ctx, w.cfg.Name, uidvalidity, maxDeferralsRead)
		if err != nil {
			return time.Time{}, err
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
		var settled []uint32 // due but gone from the mailbox
		for _, u := range dueUIDs {
			if !containsUID(old, u) {
				settled = append(settled, u)
			}
		}
		batch := append(old, fresh...)
		if len(batch) > w.cfg.BatchSize {
			batch = batch[:w.cfg.BatchSize]
		}
		if len(batch) == 0 {
			return next, w.checkpoints.SaveDeferrals(ctx, w.cfg.Name, uidvalidity, nil, settled)
		}
		results, err := w.decideBatch(ctx, stopping, c, uidvalidity, batch, due)
		if err != nil {
			return time.Time{}, err
		}
		done, toDefer, herr := w.settle(batch, results, last, due, &settled)
		if err := w.checkpoints.SaveDeferrals(ctx, w.cfg.Name, uidvalidity, toDefer, settled); err != nil {
			return time.Time{}, err
		}
		if done > last {
			if err := w.checkpoints.SetCheckpoint(ctx, w.cfg.Name, uidvalidity, done); err != nil {
				return time.Time{}, err
			}
		}
		if herr != nil {
			return time.Time{}, herr
		}
	}
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

// decideBatch fetches the batch, hands what arrived to the handler in one
// call, and files the decided messages, one command per folder. due holds
// the deferrals of the batch's messages that were set aside before.
func (w *Watcher) decideBatch(ctx, stopping context.Context, c *imapclient.Client, uidvalidity uint32, batch []sized, due map[uint32]store.Deferral) ([]result, error) {
	fetched, err := w.fetch(c, uidvalidity, batch)
	if err != nil {
		return nil, err
	}
	results := make([]result, len(batch))
	if stopping.Err() != nil {
		return results, nil // nothing started
	}
	now := time.Now()
	var msgs []Message
	var at []int // batch index of each of msgs
	for i, s := range batch {
		msg, ok := fetched[s.uid]
		if !ok {
			results[i] = result{outcome: vanished}
			continue
		}
		msg.LastTry = w.lastTry(due[s.uid], now)
		msgs, at = append(msgs, msg), append(at, i)
	}
	for j, r := range w.handler.HandleBatch(ctx, msgs) {
		i := at[j]
		var de *DeferError
		switch {
		case r.Err == nil:
			results[i] = result{outcome: decided, folder: r.Folder}
		case errors.As(r.Err, &de) && !msgs[j].LastTry:
			results[i] = result{outcome: deferred, err: r.Err}
		default:
			results[i] = result{outcome: failed, err: r.Err}
		}
	}
	moves := map[Folder][]uint32{}
	for i, r := range results {
		if r.outcome == decided {
			moves[r.folder] = append(moves[r.folder], batch[i].uid)
		}
	}
	return results, w.move(c, moves)
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
