package mailheader

import (
	"bufio"
	"io"
	"slices"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name     string
		raw      string
		keys     []string
		values   []string
		complete bool
		body     string
	}{
		{name: "CRLF", raw: "From: a@b\r\nSubject: hi\r\n\r\nbody\r\n",
			keys: []string{"From", "Subject"}, values: []string{"a@b", "hi"}, complete: true, body: "body\r\n"},
		{name: "bare LF", raw: "From: a@b\nSubject: hi\n\nbody",
			keys: []string{"From", "Subject"}, values: []string{"a@b", "hi"}, complete: true, body: "body"},
		{name: "folded value keeps the white space after the break", raw: "Subject: Unlock:\r\n\tbob,\r\n  carol\r\n\r\n",
			keys: []string{"Subject"}, values: []string{"Unlock:\tbob,  carol"}, complete: true},
		{name: "a first line starting with a space is a field of its own", raw: " Subject: x\r\nFrom: a\r\n\r\n",
			keys: []string{"Subject", "From"}, values: []string{"x", "a"}, complete: true},
		{name: "key trimmed, space before the colon", raw: "Subject \t: x\r\n\r\n",
			keys: []string{"Subject"}, values: []string{"x"}, complete: true},
		{name: "a colon on a continuation line ends the key", raw: "Subject\r\n : Unlock: bob\r\n\r\n",
			keys: []string{"Subject"}, values: []string{"Unlock: bob"}, complete: true},
		{name: "no colon at all", raw: "garbage line\r\nFrom: a\r\n\r\n",
			keys: []string{"garbage line", "From"}, values: []string{"", "a"}, complete: true},
		{name: "only one CR is dropped", raw: "A: 1\r\r\n\r\n",
			keys: []string{"A"}, values: []string{"1"}, complete: true},
		{name: "a line holding only CR is not the end", raw: "A: 1\r\n\r\r\nB: 2\r\n\r\n",
			keys: []string{"A", "", "B"}, values: []string{"1", "", "2"}, complete: true},
		{name: "no empty line: incomplete", raw: "From: a\r\nSubject: b",
			keys: []string{"From", "Subject"}, values: []string{"a", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := Parse([]byte(tt.raw), Limits{})
			var keys, values []string
			for _, f := range h.Fields {
				keys = append(keys, f.Key)
				values = append(values, f.Value())
			}
			if !slices.Equal(keys, tt.keys) || !slices.Equal(values, tt.values) {
				t.Errorf("fields = %q %q, want %q %q", keys, values, tt.keys, tt.values)
			}
			if h.Complete != tt.complete || h.Exceeded != "" {
				t.Errorf("Complete = %v, Exceeded = %q; want %v", h.Complete, h.Exceeded, tt.complete)
			}
			if tt.complete && tt.raw[h.Size:] != tt.body {
				t.Errorf("body = %q, want %q", tt.raw[h.Size:], tt.body)
			}
		})
	}
}

func TestFieldIsFoldsLikeDKIM(t *testing.T) {
	// strings.EqualFold folds U+017F LATIN SMALL LETTER LONG S to "s", and
	// so does go-msgauth when it picks signed fields: "ſubject" is a
	// Subject for every reader.
	h := Parse([]byte("\u017fubject: Unlock: bob\r\nSubject: hello\r\n\r\n"), Limits{})
	if got := h.Index("subject"); !slices.Equal(got, []int{0, 1}) {
		t.Errorf("Index(subject) = %v, want [0 1]", got)
	}
}

func TestSigned(t *testing.T) {
	h := Parse([]byte("Subject: forged\r\nFrom: a\r\nSubject: real\r\nTo: x\r\n\r\n"), Limits{})
	tests := []struct {
		names []string
		want  []int
	}{
		{[]string{"from", "subject"}, []int{1, 2}},                                  // bottom-most Subject
		{[]string{"From", "Subject", "Subject"}, []int{1, 2, 0}},                    // the second takes the next one up
		{[]string{"from", "from", "subject", "subject", "subject"}, []int{1, 2, 0}}, // oversigned
		{[]string{" To ", "cc"}, []int{3}},
	}
	for _, tt := range tests {
		if got := h.Signed(tt.names); !slices.Equal(got, tt.want) {
			t.Errorf("Signed(%q) = %v, want %v", tt.names, got, tt.want)
		}
	}
}

func TestLimits(t *testing.T) {
	lim := Limits{Bytes: 1000, Fields: 5, Lines: 18, FieldLines: 4}
	tests := []struct {
		name     string
		raw      string
		exceeded string
		keys     int
	}{
		{"bytes", "From: a\r\nSubject: " + strings.Repeat("x", 1000) + "\r\n\r\n", "longer than 1000 bytes", 1},
		{"fields", strings.Repeat("A: 1\r\n", 6) + "\r\n", "more than 5 header fields", 5},
		{"lines of one field", "From: a\r\nSubject: x\r\n" + strings.Repeat(" x\r\n", 4) + "\r\n", "more than 4 lines", 1},
		{"lines", strings.Repeat("A: 1\r\n y\r\n z\r\n w\r\n", 5) + "\r\n", "longer than 18 lines", 4},
		{"at the limits", strings.Repeat("A: 1\r\n y\r\n z\r\n w\r\n", 4) + "B: 1\r\n y\r\n\r\n", "", 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := Parse([]byte(tt.raw), lim)
			if tt.exceeded == "" && (h.Exceeded != "" || !h.Complete) {
				t.Fatalf("Exceeded = %q, Complete %v; want within limits", h.Exceeded, h.Complete)
			}
			if !strings.Contains(h.Exceeded, tt.exceeded) || (tt.exceeded != "" && h.Complete) {
				t.Errorf("Exceeded = %q, Complete %v; want %q", h.Exceeded, h.Complete, tt.exceeded)
			}
			if len(h.Fields) != tt.keys {
				t.Errorf("read %d fields, want %d", len(h.Fields), tt.keys)
			}
		})
	}
}

// TestReadBlock: reading a header from a stream stops where Parse says the
// header ends, and leaves the reader at the body.
func TestReadBlock(t *testing.T) {
	for _, raw := range []string{
		"From: a\r\nSubject: b\r\n\r\nbody\r\n",
		"From: a\nSubject: b\n\nbody",
		"From: a\r\nX: " + strings.Repeat("y", 10000) + "\r\n\r\nbody", // a line longer than the buffer
		"From: a\r\n\r\r\nB: 1\r\n\r\nbody",
		"From: a\r\nno end",
	} {
		br := bufio.NewReaderSize(strings.NewReader(raw), 16)
		block, err := ReadBlock(br, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		h := Parse([]byte(raw), Limits{})
		rest, _ := io.ReadAll(br)
		if !h.Complete {
			if string(block) != raw {
				t.Errorf("%q: read %q, want all of it", raw, block)
			}
			continue
		}
		if string(block) != raw[:h.Size] || string(rest) != raw[h.Size:] {
			t.Errorf("%q: block %q, rest %q; want the split at %d", raw, block, rest, h.Size)
		}
	}
	br := bufio.NewReader(strings.NewReader(strings.Repeat("X: 1\r\n", 100000) + "\r\nbody"))
	block, err := ReadBlock(br, Limits{Bytes: 1000})
	if err != nil || len(block) != 1001 || Parse(block, Limits{Bytes: 1000}).Exceeded == "" {
		t.Errorf("past the limit: %d bytes read, %v; want 1001 and the limit reported", len(block), err)
	}
}
