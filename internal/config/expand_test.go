package config

import (
	"strings"
	"testing"
)

// envOf returns a getenv function backed by m.
func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

func TestExpand(t *testing.T) {
	env := envOf(map[string]string{
		"HOST":  "imap.example.com",
		"EMPTY": "",
		"REF":   "${HOST}",
	})
	tests := []struct {
		in, want, wantErr string
	}{
		{in: "plain", want: "plain"},
		{in: "${HOST}:993", want: "imap.example.com:993"},
		{in: "${HOST:-fallback}", want: "imap.example.com"},
		{in: "${MISSING:-fallback}", want: "fallback"},
		{in: "${MISSING:-}", want: ""},
		{in: "${EMPTY:-fallback}", want: "fallback"},
		{in: "${EMPTY}", want: ""},
		{in: "${MISSING:-a:-b}", want: "a:-b"},
		{in: "a${HOST}b${HOST}c", want: "aimap.example.comb" + "imap.example.comc"},
		{in: "${REF}", want: "${HOST}"}, // substituted text is not expanded again
		{in: "pa$$word", want: "pa$$word"},
		{in: "$HOST", want: "$HOST"},
		{in: "$${HOST}", want: "${HOST}"},
		{in: "${MISSING}", wantErr: "environment variable MISSING is not set"},
		{in: "${A1}${B2}", wantErr: "environment variables A1, B2 are not set"},
		{in: "${HOST", wantErr: "unterminated"},
		{in: "${}", wantErr: "invalid environment variable name"},
		{in: "${1X}", wantErr: "invalid environment variable name"},
		{in: "${A B}", wantErr: "invalid environment variable name"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := expand(tt.in, env)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("expand(%q) error = %v, want one containing %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("expand(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}
