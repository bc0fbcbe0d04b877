package intake

import (
	"context"
	"log/slog"
	"regexp"
	"time"
)

// failureRun is a run of consecutive failures of one watcher: it is logged
// when it starts and whenever its cause changes, not on every retry, and
// its end is logged once with how long it lasted.
type failureRun struct {
	count int
	since time.Time
	cause string // the last cause logged, digits masked
}

// digits masks what changes between retries with the same cause: ports,
// durations, UIDs.
var digits = regexp.MustCompile(`[0-9]+`)

// failed records a failure, logs it as above and reports StateRetrying
// with the cause.
func (w *Watcher) failed(msg string, err error, retryIn time.Duration) {
	f := &w.failures
	if f.count == 0 {
		f.since = time.Now()
	}
	f.count++
	lvl := slog.LevelDebug
	if cause := digits.ReplaceAllString(err.Error(), "#"); cause != f.cause {
		f.cause, lvl = cause, slog.LevelWarn
	}
	w.log.Log(context.Background(), lvl, msg, slog.Any("error", err), slog.Int("failures", f.count), slog.Duration("retry_in", retryIn.Round(time.Millisecond)))
	w.setState(StateRetrying, err)
}

// setState reports st, and the end of a run of failures when st is
// StateConnected.
func (w *Watcher) setState(st State, cause error) {
	if st == StateConnected && w.failures.count > 0 {
		w.log.Info("imap mailbox reachable again", slog.Int("failures", w.failures.count),
			slog.Duration("after", time.Since(w.failures.since).Round(time.Millisecond)))
		w.failures = failureRun{}
	}
	if w.OnState != nil {
		w.OnState(st, cause)
	}
}
