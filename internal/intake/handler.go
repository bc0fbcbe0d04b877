package intake

import (
	"context"
	"slices"
)

// Handler decides batches of messages, each message exactly once, and says
// where each goes, in two steps so that one batch can be prepared while the
// one before it is decided: Prepare does what needs no shared state
// (parsing, sender authentication) and may run while an earlier batch's
// Decide does; Decide records the decisions, one batch at a time, in the
// order the batches were prepared. It must be idempotent: a message decided
// before a crash comes again after it, and must get the same folder
// without a second decision. A result's DeferError (such as a DNS failure
// during sender authentication) sets that message aside for a later try;
// any other error leaves it in the mailbox and ends the session.
type Handler interface {
	Prepare(ctx context.Context, batch []Message) Prepared
}

// Prepared is a batch made ready by Handler.Prepare.
type Prepared interface {
	Decide(ctx context.Context) []Result
}

// Result is what became of one message of a batch.
type Result struct {
	Folder Folder
	Err    error
}

// OneByOne adapts a function deciding one message at a time to Handler:
// everything happens in Decide, so the batch's bytes stay held until then
// (the watcher lets go of its own copy once Prepare returns).
type OneByOne func(ctx context.Context, m Message) (Folder, error)

// Prepare implements Handler.
func (f OneByOne) Prepare(_ context.Context, batch []Message) Prepared {
	return oneByOne{f, slices.Clone(batch)}
}

type oneByOne struct {
	f     OneByOne
	batch []Message
}

func (b oneByOne) Decide(ctx context.Context) []Result {
	out := make([]Result, len(b.batch))
	for i, m := range b.batch {
		out[i].Folder, out[i].Err = b.f(ctx, m)
	}
	return out
}

// Decided wraps a function returning results as a Prepared.
type Decided func(ctx context.Context) []Result

// Decide implements Prepared.
func (f Decided) Decide(ctx context.Context) []Result { return f(ctx) }

// DeferError is what a Handler returns for a failure that concerns one
// message only, such as a DKIM key lookup that timed out: the message is
// set aside and tried again later while the rest of the mailbox goes on.
// Any other error stops the batch and ends the session.
type DeferError struct{ Err error }

func (e *DeferError) Error() string { return e.Err.Error() }
func (e *DeferError) Unwrap() error { return e.Err }
