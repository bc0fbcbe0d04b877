package password

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	ctx := context.Background()
	l := NewLimiter(2, 20*time.Millisecond)
	a, err := l.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := l.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := l.Acquire(ctx); !errors.Is(err, ErrBusy) {
		t.Fatalf("third Acquire = %v, want ErrBusy", err)
	}
	if waited := time.Since(start); waited < 20*time.Millisecond {
		t.Errorf("gave up after %s, want the 20ms wait", waited)
	}
	if err := l.Verify(ctx, "pw", Dummy(Params{Time: 1, Memory: 64, Threads: 1})); !errors.Is(err, ErrBusy) {
		t.Errorf("Verify with no free slot = %v, want ErrBusy", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := l.Acquire(cancelled); !errors.Is(err, context.Canceled) {
		t.Errorf("Acquire with a cancelled context = %v", err)
	}
	a()
	b()
	h, err := l.Hash(ctx, "pw", Params{Time: 1, Memory: 64, Threads: 1})
	if err != nil || l.Verify(ctx, "pw", h) != nil {
		t.Errorf("Hash and Verify in free slots: %v", err)
	}
	// A nil limiter does not limit.
	var none *Limiter
	if err := none.Verify(ctx, "pw", h); err != nil {
		t.Errorf("nil limiter Verify = %v", err)
	}
	if err := Verify("pw", Dummy(Default)); !errors.Is(err, ErrMismatch) {
		t.Errorf("a dummy hash matched, or is malformed: %v", err)
	}
}

// TestLimiterHandsOverASlotMidWait: a slot given back while another caller
// waits is taken by it. The wait is long, so that a slow release (it runs
// a garbage collection) on a loaded machine cannot turn it into ErrBusy.
func TestLimiterHandsOverASlotMidWait(t *testing.T) {
	l := NewLimiter(1, time.Minute)
	held, err := l.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	go func() { time.Sleep(5 * time.Millisecond); held() }()
	start := time.Now()
	next, err := l.Acquire(context.Background())
	if err != nil {
		t.Fatalf("Acquire while a slot came free = %v", err)
	}
	next()
	if waited := time.Since(start); waited < 5*time.Millisecond {
		t.Errorf("took the slot after %s, before it was given back", waited)
	}
}
