package intake

import "context"

// Handler decides a batch of messages, each exactly once, and says where
// each goes. It must be idempotent: a message decided before a crash comes
// again after it, and must get the same folder without a second decision.
// A result's DeferError (such as a DNS failure during sender
// authentication) sets that message aside for a later try; any other error
// leaves it in the mailbox and ends the session.
type Handler interface {
	HandleBatch(ctx context.Context, batch []Message) []Result
}

// Result is what became of one message of a batch.
type Result struct {
	Folder Folder
	Err    error
}

// OneByOne adapts a function deciding one message at a time to Handler.
type OneByOne func(ctx context.Context, m Message) (Folder, error)

// HandleBatch implements Handler.
func (f OneByOne) HandleBatch(ctx context.Context, batch []Message) []Result {
	out := make([]Result, len(batch))
	for i, m := range batch {
		out[i].Folder, out[i].Err = f(ctx, m)
	}
	return out
}

// DeferError is what a Handler returns for a failure that concerns one
// message only, such as a DKIM key lookup that timed out: the message is
// set aside and tried again later while the rest of the mailbox goes on.
// Any other error stops the batch and ends the session.
type DeferError struct{ Err error }

func (e *DeferError) Error() string { return e.Err.Error() }
func (e *DeferError) Unwrap() error { return e.Err }
