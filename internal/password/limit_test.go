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
	// A slot given back mid-wait is taken.
	go func() { time.Sleep(5 * time.Millisecond); a() }()
	c, err := l.Acquire(ctx)
	if err != nil {
		t.Fatalf("Acquire while a slot came free = %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := l.Acquire(cancelled); !errors.Is(err, context.Canceled) {
		t.Errorf("Acquire with a cancelled context = %v", err)
	}
	b()
	c()
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
