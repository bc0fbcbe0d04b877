package outbox

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/unlockd/unlockd/internal/claim"
	"github.com/unlockd/unlockd/internal/store"
)

// send delivers one mail over client. It returns the client to use next
// (nil when the connection was lost), the server's response to a delivered
// mail, and the failure, if any; a failure marked notTried means the
// connection was gone before the mail was tried.
func (w *Worker) send(ctx context.Context, client *gomail.Client, m store.OutboxMail) (*gomail.Client, string, *failure) {
	msg, err := message(m.Mail, w.cfg.SMTP.From, w.cfg.LoopID, w.cfg.Now())
	if err != nil {
		return client, "", &failure{err: err, permanent: true}
	}
	err = client.Send(msg)
	if err != nil && isConnCheck(err) {
		// The server hung up on an idle connection before this message:
		// it was not tried, so try it once on a fresh one.
		client.Close()
		if client, err = w.connect(ctx); err != nil {
			return nil, "", &failure{err: err, notTried: true}
		}
		err = client.Send(msg)
	}
	if err != nil && !msg.IsDelivered() {
		f := classify(err)
		if f.connLost {
			client.Close()
			client = nil
		}
		return client, "", &f
	}
	if err != nil {
		// Accepted, but the reset after it failed: the mail is sent; the
		// connection is not to be trusted.
		client.Close()
		client = nil
	}
	return client, msg.ServerResponse(), nil
}

// Tries and pause for recording a sent mail before the batch gives up.
const (
	recordTries = 3
	recordPause = 300 * time.Millisecond
)

// recordSent marks mail id sent the moment its transaction ended, so that
// after a crash at most the mail in flight goes twice. Its claim is renewed
// while the store is retried; when the store stays unreachable the mark is
// kept in memory, the batch stops, and the next pass records it before it
// claims anything.
func (w *Worker) recordSent(ctx context.Context, held *claim.Set, id int64, response string) error {
	var err error
	for try := range recordTries {
		if try > 0 {
			time.Sleep(recordPause)
		}
		if err = w.q.MailSent(ctx, id, response); err == nil {
			held.Done(id)
			return nil
		}
	}
	held.Done(id)
	w.unrecorded[id] = response
	return fmt.Errorf("outbox: record mail %d sent (kept to record later): %w", id, err)
}

// recordUnrecorded records the sent marks an earlier pass could not.
func (w *Worker) recordUnrecorded(ctx context.Context) error {
	for id, response := range w.unrecorded {
		if err := w.q.MailSent(ctx, id, response); err != nil {
			return fmt.Errorf("outbox: record mail %d sent: %w", id, err)
		}
		delete(w.unrecorded, id)
	}
	return nil
}

// failed records a failed attempt: dead when permanent or out of
// attempts, otherwise due again after a backoff.
func (w *Worker) failed(ctx context.Context, m store.OutboxMail, f failure) {
	if w.cfg.OnFailure != nil {
		w.cfg.OnFailure(f.err)
	}
	attempt := m.Attempts + 1
	dead := f.permanent || attempt >= w.cfg.SMTP.MaxAttempts
	now := w.cfg.Now()
	retryAt := now
	if !dead {
		retryAt = now.Add(w.backoff(attempt))
	}
	reason := f.err.Error()
	if err := w.q.MailFailed(ctx, m.ID, reason, retryAt, dead); err != nil {
		w.log.Error("outbox: record failed mail", slog.Int64("mail_id", m.ID), slog.Any("error", err))
		return
	}
	lvl := slog.LevelWarn
	if dead {
		lvl = slog.LevelError
	}
	w.log.Log(ctx, lvl, "mail delivery failed", slog.Int64("mail_id", m.ID), slog.Int("attempt", attempt),
		slog.Bool("dead", dead), slog.Time("retry_at", retryAt), slog.Any("error", f.err))
}

// backoff returns the wait after the attempt-th failed attempt: MinBackoff
// doubled per attempt, capped at MaxBackoff, less a random part of up to
// half so that many mails failing together spread out.
func (w *Worker) backoff(attempt int) time.Duration {
	return claim.Backoff(w.cfg.MinBackoff, w.cfg.MaxBackoff, attempt)
}
