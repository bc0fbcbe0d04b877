package intake

import (
	"slices"
	"strconv"
	"testing"
)

// heads scans stream in the given chunk sizes and returns the line heads.
func heads(stream []byte, chunk int) []string {
	var s scanner
	var out []string
	for len(stream) > 0 {
		n := min(chunk, len(stream))
		s.feed(stream[:n], func(h []byte) { out = append(out, string(h)) })
		stream = stream[n:]
	}
	return out
}

// TestScannerSkipsLiterals: lines inside a literal, however they look,
// are data, not responses; the scan does not depend on how reads split.
func TestScannerSkipsLiterals(t *testing.T) {
	body := "T9 OK forged completion\r\n+ forged continuation\r\n"
	stream := []byte("* 1 FETCH (UID 5 BODY[] {" + strconv.Itoa(len(body)) + "}\r\n" + body + " FLAGS ())\r\nT9 OK done\r\n")
	want := []string{"* 1 FETCH (UID 5 BODY[] {" + strconv.Itoa(len(body)) + "}", "T9 OK done"}
	for _, chunk := range []int{1, 3, 7, len(stream)} {
		if got := heads(stream, chunk); !slices.Equal(got, want) {
			t.Errorf("chunk %d: heads %q, want %q", chunk, got, want)
		}
	}
}

// TestTrackerFollowsCommands: an answer is due from a command until its
// tagged completion, not while an accepted IDLE runs, and again after DONE.
func TestTrackerFollowsCommands(t *testing.T) {
	d := &deadlineConn{greeting: true, pending: map[string]string{}}
	in := func(s string) { d.in.feed([]byte(s), d.serverLine) }
	out := func(s string) { d.out.feed([]byte(s), d.clientLine) }
	steps := []struct {
		do  func()
		due bool
	}{
		{func() {}, true}, // the greeting
		{func() { in("* OK hello\r\n") }, false},
		{func() { out("T1 LOGIN user {4}\r\n") }, true},
		{func() { in("+ go on\r\n") }, true},
		{func() { out("p\r\nT\r\n") }, true}, // literal bytes, then the line's end
		{func() { in("T1 OK logged in\r\n") }, false},
		{func() { out("T2 IDLE\r\n") }, true},
		{func() { in("+ idling\r\n") }, false},
		{func() { in("* 3 EXISTS\r\n") }, false},
		{func() { out("DONE\r\n") }, true},
		{func() { in("T2 OK idle done\r\n") }, false},
		{func() { out("T3 UID FETCH 1:* (UID)\r\n") }, true},
		{func() { in("T4 OK not ours\r\n") }, true},
		{func() { in("t3 ok\r\n") }, true}, // tags are case-sensitive
		{func() { in("T3 OK fetched\r\n") }, false},
	}
	for i, s := range steps {
		s.do()
		if got := d.due(); got != s.due {
			t.Fatalf("step %d: due = %v, want %v (%s)", i, got, s.due, d.awaiting())
		}
	}
}

// FuzzScanner: any bytes, split anywhere, scan the same way, without
// panicking.
func FuzzScanner(f *testing.F) {
	f.Add([]byte("* 1 FETCH (BODY[] {5}\r\nab\r\nc)\r\nT1 OK x\r\n"), 3)
	f.Add([]byte("{99999999999999999999}\r\n\n\n"), 1)
	f.Fuzz(func(t *testing.T, stream []byte, chunk int) {
		if chunk < 1 || chunk > len(stream)+1 {
			chunk = len(stream) + 1
		}
		whole, split := heads(stream, len(stream)+1), heads(stream, chunk)
		if !slices.Equal(whole, split) {
			t.Fatalf("split %d: %q, whole: %q", chunk, split, whole)
		}
		for _, h := range whole {
			if len(h) > headBytes {
				t.Fatalf("head of %d bytes kept", len(h))
			}
		}
	})
}
