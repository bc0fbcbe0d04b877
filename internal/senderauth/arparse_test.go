package senderauth

import (
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestParseAuthResults(t *testing.T) {
	tests := []struct {
		in      string
		id      string
		results []arResult
		err     string
	}{
		{in: "mx.example; dkim=pass header.d=acme.example header.s=s1; dmarc=pass header.from=acme.example",
			id: "mx.example", results: []arResult{
				{method: "dkim", value: "pass", props: map[string]string{"header.d": "acme.example", "header.s": "s1"}},
				{method: "dmarc", value: "pass", props: map[string]string{"header.from": "acme.example"}}}},
		{in: `mx.example 1; dkim=fail header.b="a;b=c dkim=pass"`, id: "mx.example", results: []arResult{
			{method: "dkim", value: "fail", props: map[string]string{"header.b": "a;b=c dkim=pass"}}}},
		{in: `mx.example (c; d) ; spf = pass (ip; x) smtp.mailfrom = "a\"b@acme.example"`, id: "mx.example", results: []arResult{
			{method: "spf", value: "pass", props: map[string]string{"smtp.mailfrom": `a"b@acme.example`}}}},
		{in: "mx.example; none", id: "mx.example"},
		{in: "mx.example; DKIM/1=PASS header.d=acme.example", id: "mx.example", results: []arResult{
			{method: "dkim", value: "pass", props: map[string]string{"header.d": "acme.example"}}}},
		{in: "mx.example 2; dmarc=pass", err: "unsupported version"},
		{in: `mx.example; dkim=pass header.b="unterminated`, err: "unterminated"},
		{in: "mx.example; dkim", err: "malformed result"},
		{in: "mx.example; dkim=pass header.d=a header.d=b", err: "repeated"},
		{in: "mx.example; dkim=pass stray", err: "malformed property"},
		{in: "", err: "malformed authserv-id"},
	}
	for _, tt := range tests {
		got, err := parseAuthResults(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("parseAuthResults(%q) error = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got.id != tt.id || !reflect.DeepEqual(got.results, tt.results) {
			t.Errorf("parseAuthResults(%q) = %+v, %v; want %s %+v", tt.in, got, err, tt.id, tt.results)
		}
	}
}

// format writes a parsed header back, quoting every value.
func (h arHeader) format() string {
	var b strings.Builder
	b.WriteString(quote(h.id))
	for _, r := range h.results {
		b.WriteString("; " + r.method + "=" + quote(r.value))
		for _, k := range slices.Sorted(maps.Keys(r.props)) {
			b.WriteString(" " + k + "=" + quote(r.props[k]))
		}
	}
	return b.String()
}

// quote writes s as an RFC 5322 quoted string.
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// FuzzAuthResults: the parser never panics, and whatever it reads it reads
// again the same once written back with every value quoted.
func FuzzAuthResults(f *testing.F) {
	for _, s := range []string{
		"mx.example; dkim=pass header.d=acme.example header.s=s1; dmarc=pass header.from=acme.example",
		`mx.example 1; dkim=fail header.b="a;b=c dkim=pass"`,
		`mx.example (c; d) ; spf = pass (ip; x) smtp.mailfrom = "a\"b@acme.example"`,
		"mx.example; none",
		`"quoted id"; dkim=pass`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := parseAuthResults(s)
		if err != nil {
			return
		}
		for _, r := range h.results {
			if strings.ContainsAny(r.method+r.value, "\"\\") || !validText(r.method, r.value, h.id) {
				return // not writable back as a token; nothing to compare
			}
		}
		again, err := parseAuthResults(h.format())
		if err != nil {
			t.Fatalf("re-parse of %q: %v", h.format(), err)
		}
		if again.id != h.id || !reflect.DeepEqual(again.results, h.results) {
			t.Fatalf("round trip differs:\n%+v\n%+v", h, again)
		}
	})
}

// validText reports whether every string is free of the bytes that the
// written-back form cannot carry (line breaks, comment parentheses).
func validText(ss ...string) bool {
	for _, s := range ss {
		if strings.ContainsAny(s, "\r\n\t ()") {
			return false
		}
	}
	return true
}
