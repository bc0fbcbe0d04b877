package password

import (
	"context"
	"errors"
	"runtime"
	"time"
)

// ErrBusy is returned by a Limiter when no slot came free in time: the
// caller should answer "try again shortly" (HTTP 429 with Retry-After).
var ErrBusy = errors.New("password: too many password checks at once, try again shortly")

// Limiter bounds how many argon2id computations run at once. Each one
// takes Params.Memory (64 MiB with Default) for its duration, so n slots
// bound the memory password hashing can take to n × 64 MiB. A caller that
// finds every slot taken waits up to the limiter's wait, then gets ErrBusy.
// A nil *Limiter does not limit (command-line tools, tests).
//
// A slot is given back only after a garbage collection, so that the 64 MiB
// the finished computation leaves behind are free before the next one
// allocates its own: otherwise the collector, which lets the heap grow to
// twice what was live at its last cycle, would let a stream of hashes hold
// about twice the budget. The collection costs little next to a hash (the
// argon2 blocks hold no pointers, so there is nothing in them to scan).
type Limiter struct {
	slots chan struct{}
	wait  time.Duration
}

// NewLimiter returns a limiter of n slots (at least one) whose callers wait
// up to wait for a free one.
func NewLimiter(n int, wait time.Duration) *Limiter {
	return &Limiter{slots: make(chan struct{}, max(1, n)), wait: wait}
}

// Slots returns how many computations may run at once.
func (l *Limiter) Slots() int { return cap(l.slots) }

// Wait returns how long a caller waits for a slot.
func (l *Limiter) Wait() time.Duration { return l.wait }

// Verify is [Verify] in one of the limiter's slots.
func (l *Limiter) Verify(ctx context.Context, pw, hash string) error {
	release, err := l.Acquire(ctx)
	if err != nil {
		return err
	}
	defer release()
	return Verify(pw, hash)
}

// Hash is [Hash] in one of the limiter's slots.
func (l *Limiter) Hash(ctx context.Context, pw string, p Params) (string, error) {
	release, err := l.Acquire(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	return Hash(pw, p)
}

// Acquire takes a slot, waiting up to the limiter's wait, and returns the
// function that gives it back; ErrBusy when none came free in time.
func (l *Limiter) Acquire(ctx context.Context) (release func(), err error) {
	if l == nil {
		return func() {}, nil
	}
	release = func() {
		runtime.GC()
		<-l.slots
	}
	select {
	case l.slots <- struct{}{}:
		return release, nil
	default:
	}
	t := time.NewTimer(l.wait)
	defer t.Stop()
	select {
	case l.slots <- struct{}{}:
		return release, nil
	case <-t.C:
		return nil, ErrBusy
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
