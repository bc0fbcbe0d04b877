package domain

import (
	"errors"
	"fmt"
	"testing"
)

func TestApplyOutcome(t *testing.T) {
	refused := errors.New("insufficient access")
	for _, c := range []struct {
		name   string
		err    error
		state  ItemState
		reason QueueReason
	}{
		{"lifted", nil, ItemApplied, ""},
		{"already unlocked", fmt.Errorf("ldap: %w", ErrNotLocked), ItemNotLocked, ""},
		{"an admin lock set in between", fmt.Errorf("ldap: %w", ErrLockChanged), ItemPending, QueueLockChanged},
		{"refused", refused, ItemPending, QueueDirectoryError},
	} {
		state, reason, note := ApplyOutcome(c.err)
		if state != c.state || reason != c.reason {
			t.Errorf("%s: got %s/%s, want %s/%s", c.name, state, reason, c.state, c.reason)
		}
		if c.err != nil && note == "" {
			t.Errorf("%s: no note says why", c.name)
		}
	}
}

func TestTemporaryIsSeenThroughWrapping(t *testing.T) {
	err := fmt.Errorf("directory corp: %w", Temporary("dial %s: %w", "ldap.example:636", errors.New("connection refused")))
	if !IsTemporary(err) {
		t.Fatalf("%v: not seen as temporary", err)
	}
	if IsTemporary(ErrLockChanged) || IsTemporary(errors.New("bad filter")) {
		t.Fatal("a permanent error counted as temporary")
	}
	if _, _, note := ApplyOutcome(err); note == "" {
		t.Fatal("a temporary error has no note")
	}
}

func TestApplyingIsAnItemState(t *testing.T) {
	if st, err := ParseItemState("applying"); err != nil || st != ItemApplying {
		t.Fatalf("ParseItemState(applying) = %q, %v", st, err)
	}
}
