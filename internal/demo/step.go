package demo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/store"
)

// stepTimeout bounds one sample, from delivery to its last mail captured.
const stepTimeout = 15 * time.Second

// pollEvery is how often the store is asked whether a sample is decided.
const pollEvery = 20 * time.Millisecond

// tally counts the mail captured.
type tally struct{ replies, notices int }

func (t *tally) add(o tally) { t.replies, t.notices = t.replies+o.replies, t.notices+o.notices }

func (t *tally) count(c captured) {
	if c.inReplyTo != "" {
		t.replies++
	} else {
		t.notices++
	}
}

// deliver puts sample n into the mailbox, waits for its decision and
// prints it, then waits for and prints every mail the decision queued.
func (d *demo) deliver(ctx context.Context, n int, s sample) (tally, error) {
	dl, err := s.build(d.signer, time.Now())
	if err != nil {
		return tally{}, err
	}
	d.p.request(n, len(samples), dl)
	if err := d.imap.deliver(dl.raw); err != nil {
		return tally{}, err
	}
	deadline := time.After(stepTimeout)
	verdict, err := d.decided(ctx, dl.messageID, deadline)
	if err != nil {
		return tally{}, fmt.Errorf("demo: sample %d (%s): %w", n, dl.subject, err)
	}
	items, err := d.applied(ctx, dl.messageID, deadline)
	if err != nil {
		return tally{}, fmt.Errorf("demo: sample %d (%s): %w", n, dl.subject, err)
	}
	d.p.decision(verdict, items)
	expect, err := d.queuedMail(ctx, dl.messageID, items)
	if err != nil {
		return tally{}, err
	}
	if len(expect) == 0 {
		d.p.noMail()
	}
	t, err := d.captured(ctx, expect, deadline)
	if err != nil {
		return t, fmt.Errorf("demo: sample %d (%s): %w", n, dl.subject, err)
	}
	return t, nil
}

// decided waits until the message with messageID has a decision and
// returns its verdict.
func (d *demo) decided(ctx context.Context, messageID string, deadline <-chan time.Time) (domain.Verdict, error) {
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for {
		v, err := d.app.Store.DecidedVerdict(ctx, mailboxName, messageID)
		if err == nil {
			return v, nil
		}
		if !errors.Is(err, domain.ErrNotFound) {
			return "", err
		}
		select {
		case <-tick.C:
		case <-deadline:
			return "", fmt.Errorf("no decision within %s", stepTimeout)
		case <-d.stopped:
			return "", d.halted(ctx)
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
}

// items returns the request items recorded for the message.
func (d *demo) items(ctx context.Context, messageID string) ([]store.Request, error) {
	all, err := d.app.Store.ListRequests(ctx, store.RequestFilter{Limit: store.MaxLimit})
	if err != nil {
		return nil, fmt.Errorf("demo: requests: %w", err)
	}
	var out []store.Request
	for _, r := range all {
		if r.MessageID == messageID {
			out = append(out, r)
		}
	}
	return out, nil
}

// applied returns the message's items once none is applying: a remote
// directory's unlock is carried out after the decision, and the reply is
// written with its answer.
func (d *demo) applied(ctx context.Context, messageID string, deadline <-chan time.Time) ([]store.Request, error) {
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for {
		items, err := d.items(ctx, messageID)
		if err != nil || !slices.ContainsFunc(items, func(r store.Request) bool { return r.State == domain.ItemApplying }) {
			return items, err
		}
		select {
		case <-tick.C:
		case <-deadline:
			return nil, fmt.Errorf("the directory did not apply the unlock within %s", stepTimeout)
		case <-d.stopped:
			return nil, d.halted(ctx)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// queuedMail returns the Message-IDs of the mail the decision queued: its
// reply, threaded under the message, and notifications about its items.
// The decision and its mail commit together, so all of it is there.
func (d *demo) queuedMail(ctx context.Context, messageID string, items []store.Request) (map[string]bool, error) {
	rows, err := d.app.Store.Outbox(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("demo: outbox: %w", err)
	}
	out := map[string]bool{}
	for _, m := range rows {
		ofItems := len(items) > 0 && m.DecisionID == items[0].DecisionID
		if ofItems || strings.Trim(m.InReplyTo, "<>") == messageID {
			out[m.MessageID] = true
		}
	}
	return out, nil
}

// captured prints mail as the sink receives it until every message in
// expect has arrived.
func (d *demo) captured(ctx context.Context, expect map[string]bool, deadline <-chan time.Time) (tally, error) {
	var t tally
	for len(expect) > 0 {
		select {
		case c := <-d.sink.mail:
			d.p.mail(c)
			t.count(c)
			delete(expect, c.messageID)
		case <-deadline:
			return t, fmt.Errorf("%d mail not delivered within %s", len(expect), stepTimeout)
		case <-d.stopped:
			return t, d.halted(ctx)
		case <-ctx.Done():
			return t, ctx.Err()
		}
	}
	return t, nil
}
