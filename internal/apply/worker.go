package apply

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/unlockd/unlockd/internal/claim"
	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/store"
)

// Queue is the part of the store the worker works from; *store.Store
// implements it.
type Queue interface {
	ClaimApplying(ctx context.Context, owner string, limit int, ttl time.Duration) ([]store.Applying, error)
	RenewApplyClaims(ctx context.Context, owner string, ids []int64, ttl time.Duration) ([]int64, error)
	ReleaseApplying(ctx context.Context, owner string, ids []int64) error
	CallingUnlock(ctx context.Context, owner string, id int64) error
	ApplyRetry(ctx context.Context, owner string, id int64, cause string, retryAt time.Time) error
	RecordApply(ctx context.Context, owner string, a store.Applying, ans store.Answer, render store.FollowUpRenderer) error
	NextApplyDue(ctx context.Context) (time.Time, bool, error)
}

// Defaults for the zero fields of Config.
const (
	DefaultPollInterval = 10 * time.Second
	DefaultBatchSize    = 50
	DefaultClaimTTL     = 5 * time.Second
	DefaultMinBackoff   = time.Second
	DefaultMaxBackoff   = 5 * time.Minute
	DefaultCallTimeout  = 30 * time.Second
)

// Config configures a Worker. Directories is required.
type Config struct {
	// Directories are the configured remote directories, by name.
	Directories map[string]domain.Directory
	// MaxAge is limits.directory_apply_max_age: how long an item is
	// retried while its directory cannot answer.
	MaxAge time.Duration
	// Render renders the replies RecordApply queues; nil queues none.
	Render store.FollowUpRenderer
	// Queued, when set, is called after an answer that may have queued
	// a reply: the app wakes the outbox. It must not block.
	Queued func()
	// Unlocked, when set, is told each unlock the directory applied and
	// whether a reviewer's approval asked for it (else an email request),
	// for metrics. It must not block.
	Unlocked func(approval bool)
	// OnAnswer, when set, is told each directory call's outcome (nil:
	// an answer, temporary or not, was had; otherwise the temporary
	// error), for metrics and readiness. It must not block.
	OnAnswer func(directory string, err error)

	PollInterval time.Duration
	BatchSize    int
	// ClaimTTL is how long a claim hides an item from other workers unless
	// renewed (claim.Hold).
	ClaimTTL time.Duration
	// MinBackoff and MaxBackoff bound the wait before retrying an item
	// whose directory could not answer (claim.Backoff).
	MinBackoff, MaxBackoff time.Duration
	// CallTimeout bounds one directory call, on top of the directory's
	// own timeout.
	CallTimeout time.Duration
	// Now is the clock; it must agree with the store's.
	Now func() time.Time
}

// Worker applies the unlocks of remote directories.
type Worker struct {
	cfg   Config
	q     Queue
	log   *slog.Logger
	wake  chan struct{}
	owner string
}

// New returns a worker for q; defaults fill the zero fields of cfg.
func New(cfg Config, q Queue, log *slog.Logger) *Worker {
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	if cfg.ClaimTTL <= 0 {
		cfg.ClaimTTL = DefaultClaimTTL
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = DefaultMinBackoff
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(DefaultMaxBackoff, cfg.MinBackoff)
	}
	if cfg.CallTimeout <= 0 {
		cfg.CallTimeout = DefaultCallTimeout
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = 24 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	host, _ := os.Hostname()
	return &Worker{cfg: cfg, q: q, log: log, wake: make(chan struct{}, 1),
		owner: fmt.Sprintf("%s/%d/%s", host, os.Getpid(), rand.Text()[:8])}
}

// Wake asks a running worker for a pass now, e.g. after a decision
// recorded applying items. It never blocks.
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run applies until ctx ends, then returns nil. An item whose call is
// under way when ctx ends is finished and recorded first; claimed items
// not yet tried are released.
func (w *Worker) Run(ctx context.Context) error {
	timer := time.NewTimer(0)
	defer timer.Stop()
	failing := ""
	for {
		n, err := w.ApplyOnce(ctx)
		if ctx.Err() != nil {
			return nil
		}
		switch {
		case err != nil && err.Error() != failing:
			failing = err.Error()
			w.log.Error("directory apply pass failed", slog.Any("error", err))
		case err == nil && failing != "":
			failing = ""
			w.log.Info("directory apply passes work again")
		}
		if err == nil && n == w.cfg.BatchSize {
			continue
		}
		timer.Reset(w.untilDue(ctx))
		select {
		case <-ctx.Done():
			return nil
		case <-w.wake:
		case <-timer.C:
		}
	}
}

// untilDue is how long to sleep before the next pass: until the earliest
// applying item falls due, at most PollInterval.
func (w *Worker) untilDue(ctx context.Context) time.Duration {
	due, ok, err := w.q.NextApplyDue(ctx)
	if err != nil || !ok {
		return w.cfg.PollInterval
	}
	return min(max(due.Sub(w.cfg.Now()), 10*time.Millisecond), w.cfg.PollInterval)
}

// ApplyOnce claims one batch of due applying items and calls each one's
// directory once, recording every answer as soon as it is known. After a
// temporary failure of a directory, its other items of the batch wait
// for their next try without a call. It returns how many items it
// claimed.
func (w *Worker) ApplyOnce(ctx context.Context) (int, error) {
	rec := context.WithoutCancel(ctx) // answers are recorded even as ctx ends
	batch, err := w.q.ClaimApplying(ctx, w.owner, w.cfg.BatchSize, w.cfg.ClaimTTL)
	if err != nil {
		return 0, fmt.Errorf("apply: claim: %w", err)
	}
	if len(batch) == 0 {
		return 0, nil
	}
	ids := make([]int64, len(batch))
	for i, a := range batch {
		ids[i] = a.ID
	}
	renew := func(ctx context.Context, ids []int64, ttl time.Duration) ([]int64, error) {
		return w.q.RenewApplyClaims(ctx, w.owner, ids, ttl)
	}
	held := claim.Hold(ids, w.cfg.ClaimTTL, renew, w.log.With("worker", "apply"), "unlocks")
	defer held.Stop()
	down := map[string]error{} // directories that failed temporarily in this pass
	for i, a := range batch {
		if ctx.Err() != nil {
			w.release(rec, held, batch[i:])
			break
		}
		switch held.Check(a.ID) {
		case claim.Lost:
			continue
		case claim.Stale:
			return len(batch), fmt.Errorf("apply: claims not renewed for %v; %d unlocks left to other workers", w.cfg.ClaimTTL/2, len(batch)-i)
		}
		if cause, ok := down[a.Directory]; ok {
			w.retry(rec, a, cause)
			held.Done(a.ID)
			continue
		}
		if err := w.apply(ctx, rec, a); err != nil {
			down[a.Directory] = err
		}
		held.Done(a.ID)
	}
	return len(batch), nil
}

// release hands claimed items that were not tried back to the queue.
func (w *Worker) release(ctx context.Context, held *claim.Set, items []store.Applying) {
	ids := make([]int64, 0, len(items))
	for _, a := range items {
		if held.Done(a.ID) {
			ids = append(ids, a.ID)
		}
	}
	if err := w.q.ReleaseApplying(ctx, w.owner, ids); err != nil {
		w.log.Warn("apply: release untried unlocks; they are due again when their claims run out", slog.Int("unlocks", len(ids)), slog.Any("error", err))
	}
}

// apply calls a's directory and records the answer. It returns the
// temporary error when the directory could not answer.
func (w *Worker) apply(ctx, rec context.Context, a store.Applying) error {
	dir, ok := w.cfg.Directories[a.Directory]
	if !ok {
		w.record(rec, a, nil, fmt.Errorf("directory %q is not configured (directories[].name)", a.Directory))
		return nil
	}
	err := w.call(ctx, rec, dir, a)
	if w.cfg.OnAnswer != nil {
		var temp error
		if domain.IsTemporary(err) {
			temp = err
		}
		w.cfg.OnAnswer(a.Directory, temp)
	}
	if domain.IsTemporary(err) {
		w.retry(rec, a, err)
		return err
	}
	w.record(rec, a, dir, err)
	return nil
}

// call makes the conditional unlock of a, after noting that a call
// begins. An approved item whose lock is not known is looked up first: the
// reviewer approved lifting the lock the user has now.
func (w *Worker) call(ctx, rec context.Context, dir domain.Directory, a store.Applying) error {
	if err := w.q.CallingUnlock(rec, w.owner, a.ID); err != nil {
		return domain.Temporary("apply: note the call: %w", err)
	}
	cctx, cancel := context.WithTimeout(ctx, w.cfg.CallTimeout)
	defer cancel()
	was := a.Lock
	if was.Reason == "" {
		users, err := dir.Lookup(cctx, a.Org, []string{a.Username})
		if err != nil {
			return w.temporaryOnTimeout(cctx, err)
		}
		u, ok := users[a.Username]
		switch {
		case !ok:
			return fmt.Errorf("directory %s has no account %q in org %s", a.Directory, a.Username, a.Org.Slug)
		case u.Lock == nil:
			return fmt.Errorf("directory %s: %w", a.Directory, domain.ErrNotLocked)
		}
		was = *u.Lock
	}
	return w.temporaryOnTimeout(cctx, dir.Unlock(cctx, a.Org, a.Username, was))
}

// temporaryOnTimeout marks an error caused by the call's deadline as
// temporary: the directory did not answer in time.
func (w *Worker) temporaryOnTimeout(ctx context.Context, err error) error {
	if err != nil && !domain.IsTemporary(err) && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return domain.Temporary("directory did not answer within %v: %w", w.cfg.CallTimeout, err)
	}
	return err
}

// retry records a temporary failure: the item is due again after its
// backoff, or, past MaxAge, goes to staff.
func (w *Worker) retry(ctx context.Context, a store.Applying, cause error) {
	if age := w.cfg.Now().Sub(a.Since); age >= w.cfg.MaxAge {
		w.record(ctx, a, nil, fmt.Errorf("directory %s could not be reached for %v (limits.directory_apply_max_age): %w",
			a.Directory, age.Round(time.Second), cause))
		return
	}
	retryAt := w.cfg.Now().Add(claim.Backoff(w.cfg.MinBackoff, w.cfg.MaxBackoff, a.Tries+1))
	if err := w.q.ApplyRetry(ctx, w.owner, a.ID, cause.Error(), retryAt); err != nil && !errors.Is(err, store.ErrClaimLost) {
		w.log.Warn("apply: record a retry; the item is due again when its claim runs out", slog.Int64("item_id", a.ID), slog.Any("error", err))
	}
	if a.Tries == 0 {
		w.log.Warn("directory could not answer; the unlock is retried", slog.String("directory", a.Directory),
			slog.Int64("item_id", a.ID), slog.Time("retry_at", retryAt), slog.Any("error", cause))
	}
}

// record stores the answer err for a (domain.ApplyOutcome). A "not locked"
// after an earlier call whose answer was never recorded counts as
// applied: that call lifted the lock the lookup found (a different lock
// would have been ErrLockChanged). An approval counts a user unlocked
// meanwhile as applied too, as domain.Item.Resolve does.
func (w *Worker) record(ctx context.Context, a store.Applying, dir domain.Directory, err error) {
	state, reason, note := domain.ApplyOutcome(err)
	if state == domain.ItemNotLocked && (a.Calls > 0 || a.For == store.ApplyForApproval) {
		state, note = domain.ItemApplied, ""
	}
	if state == domain.ItemPending && reason == domain.QueueDirectoryError && dir != nil {
		note = fmt.Sprintf("directory %s: %s", dir.Name(), note)
	}
	ans := store.Answer{State: state, Reason: reason, Note: note}
	if err := w.q.RecordApply(ctx, w.owner, a, ans, w.cfg.Render); err != nil {
		if !errors.Is(err, store.ErrClaimLost) {
			w.log.Error("apply: record the directory's answer; the item is tried again", slog.Int64("item_id", a.ID), slog.Any("error", err))
		}
		return
	}
	w.log.Info("directory answered", slog.String("directory", a.Directory), slog.String("org", a.Org.Slug),
		slog.Int64("item_id", a.ID), slog.String("state", string(state)), slog.String("reason", string(reason)))
	if w.cfg.Unlocked != nil && state == domain.ItemApplied {
		w.cfg.Unlocked(a.For == store.ApplyForApproval)
	}
	if w.cfg.Queued != nil {
		w.cfg.Queued()
	}
}
