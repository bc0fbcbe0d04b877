package senderauth

import (
	"context"
	"fmt"
	"testing"
	"time"
)

func TestAligned(t *testing.T) {
	tests := []struct {
		d, from string
		want    bool
	}{
		{"acme.example", "acme.example", true},
		{"ACME.example.", "acme.example", true},
		{"acme.example", "mail.acme.example", true},
		{"acme.example", "a.b.acme.example", true},
		{"mail.acme.example", "acme.example", false},
		{"acme.example", "notacme.example", false},
		{"example", "acme.example", false},
		{"example", "example", false},
		{".example", "acme.example", false},
		{"", "acme.example", false},
		{"acme.example", "", false},
	}
	for _, tt := range tests {
		if got := aligned(tt.d, tt.from); got != tt.want {
			t.Errorf("aligned(%q, %q) = %v, want %v", tt.d, tt.from, got, tt.want)
		}
	}
}

func TestStripComments(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a (b) c", "a   c"},
		{"a (b (nested; x) c) d", "a   d"},
		{`a "q (not a comment)" b`, `a "q (not a comment)" b`},
		{`a (esc \) still) b`, "a   b"},
		{"a (unterminated", "a  "},
		{"a ) b", "a ) b"},
	}
	for _, tt := range tests {
		if got := stripComments(tt.in); got != tt.want {
			t.Errorf("stripComments(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestTXTCacheBounded(t *testing.T) {
	calls := 0
	c := newTXTCache(func(_ context.Context, name string) ([]string, error) {
		calls++
		return []string{name}, nil
	}, nil, time.Minute, 100)
	for i := range 1000 {
		if _, err := c.lookup(context.Background(), fmt.Sprintf("k%d", i)); err != nil {
			t.Fatal(err)
		}
		if len(c.entries) > 100 {
			t.Fatalf("cache holds %d entries, max 100", len(c.entries))
		}
	}
	if _, err := c.lookup(context.Background(), "K999."); err != nil || calls != 1000 {
		t.Errorf("lookup of a fresh entry: calls = %d, err = %v; want a cache hit", calls, err)
	}
}
