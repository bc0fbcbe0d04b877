package outbox

import (
	"context"
	"log/slog"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/unlockd/unlockd/internal/claim"
)

// connState tracks failed SMTP connections: while the server cannot be
// reached the worker waits, with capped exponential backoff, instead of
// spending the attempts of the mail it could not even try.
type connState struct {
	failures int       // consecutive failed connections
	until    time.Time // no connection before this (monotonic clock)
	cause    string    // the error last logged
	since    time.Time // when the failures began
}

// wait returns how long the worker must still wait before connecting.
func (c *connState) wait() time.Duration {
	if c.failures == 0 {
		return 0
	}
	return max(time.Until(c.until), 0)
}

// connect opens a connection and reports the SMTP state as ok when that
// ends a run of failures.
func (w *Worker) connect(ctx context.Context) (*gomail.Client, error) {
	client, err := w.dialer.dial(ctx)
	if err != nil {
		return nil, err
	}
	if w.conn.failures > 0 {
		w.log.Info("smtp server reachable again", slog.Int("failed_connections", w.conn.failures),
			slog.Duration("after", time.Since(w.conn.since).Round(time.Millisecond)))
	}
	if w.conn.failures > 0 {
		w.report(StateOK, nil)
	}
	w.conn = connState{}
	return client, nil
}

// report tells OnState the SMTP state on a change, and every failure.
func (w *Worker) report(st State, cause error) {
	if st == w.state && cause == nil {
		return
	}
	w.state = st
	if w.cfg.OnState != nil {
		w.cfg.OnState(st, cause)
	}
}

// connFailed records a failed connection: the next one waits for the
// backoff. The error is logged when it starts a run of failures or differs
// from the last one logged, so an outage logs its cause once, not once per
// retry. A failure caused by ctx ending is no failure.
func (w *Worker) connFailed(ctx context.Context, err error) {
	if ctx.Err() != nil {
		return
	}
	if silent(err) {
		err = timeoutError{err}
	}
	c := &w.conn
	if c.failures == 0 {
		c.since = time.Now()
	}
	c.failures++
	wait := claim.Backoff(w.cfg.ConnMinBackoff, w.cfg.ConnMaxBackoff, c.failures)
	c.until = time.Now().Add(wait)
	if msg := err.Error(); msg != c.cause {
		c.cause = msg
		w.log.Warn("smtp connection failed; mail waits, no attempt counted", slog.Any("error", err),
			slog.Int("failed_connections", c.failures), slog.Duration("retry_in", wait.Round(time.Millisecond)))
	} else {
		w.log.Debug("smtp connection failed again", slog.Int("failed_connections", c.failures),
			slog.Duration("retry_in", wait.Round(time.Millisecond)))
	}
	if w.cfg.OnFailure != nil {
		w.cfg.OnFailure(err)
	}
	w.report(StateRetrying, err)
}
