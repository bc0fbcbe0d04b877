package domain

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCheckPassword(t *testing.T) {
	const (
		user  = "jonathan.smith"
		email = "Jon.Smith@Acme.example"
	)
	tests := []struct {
		pw   string
		rule string // a word of the message; empty: accepted
	}{
		{"", "empty"},
		{strings.Repeat("x7", 513), "longer than 1024 bytes"},
		{"correct horse\x00battery", "control characters"},
		{"correct horse\nbattery", "control characters"},
		{"correct horse \xffbattery", "UTF-8"},
		{"short", "shorter than 12"},
		{"            ", "shorter than 12"},
		{"   abcdefghij   ", "shorter than 12"},
		{"  Zq8!rT2v   ", "shorter than 12"},
		{"correct horse\tbattery", "control characters"},
		{"aaaaaaaaaaaa", "repeated"},
		{"AAAAaaaaAAAA", "repeated"},
		{"ééééééééééééé", "repeated"},
		{"abcabcabcabc", "repeated"},
		{"abababababababa", "repeated"},
		{"Tr0ub4dor&3Tr0ub4dor&3", "repeated"},
		{"123123123123", "repeated"},
		{"123456789012", "run of keyboard"},
		{"098765432109", "run of keyboard"},
		{"abcdefghijkl", "run of keyboard"},
		{"ZYXWVUTSRQPO", "run of keyboard"},
		{"qwertyuiopas", "run of keyboard"},
		{"qwertyuiop12", "run of keyboard"},
		{"!!asdfghjkl!!", "run of keyboard"},
		{"1qaz2wsx3edc", "run of keyboard"},
		{user, "username"},
		{"Jonathan.Smith", "username"},
		{"jonathan.smith2024!", "username"},
		{"jon.smith@acme.example", "username"},
		{"  Jon.Smith@Acme.example  ", "username"},
		{"jon.smith123456", "username"},
		{"password1234", "common"},
		{"password123456", "common"},
		{"Password1234!", "common"},
		{"P@ssw0rd1234", "common"},
		{"p4$$w0rd2025", "common"},
		{"123456password", "common"},
		{"iloveyou2024", "common"},
		{"Sunshine2024!", "common"},
		{"letmein123456", "common"},
		{"administrator", "common"},
		{"correct horse battery staple", "common"},
		{"CorrectHorseBatteryStaple", "common"},
		{"123456789abc", "common"},
		{"1q2w3e4r5t6y", "common"},
		{"contraseña2024", "common"},
		{"correct horse battery", ""},
		{"a long enough password", ""},
		{"  Zq8!rT2vWm4#  ", ""},
		{"8305kl927461", ""},
		{"ümlaut-paßwörter", ""},
		{"Jonathan Smith's cat", ""},
		{strings.Repeat("x7", 511) + "yz", ""},
	}
	for _, tt := range tests {
		err := CheckPassword(tt.pw, user, email)
		if tt.rule == "" {
			if err != nil {
				t.Errorf("CheckPassword(%q) = %v, want nil", tt.pw, err)
			}
			continue
		}
		var e *Error
		if !errors.As(err, &e) || e.Code != CodeWeakPassword || !strings.Contains(e.Message, tt.rule) {
			t.Errorf("CheckPassword(%q) = %v, want a %s error naming %q", tt.pw, err, CodeWeakPassword, tt.rule)
		}
	}
}

// TestCheckPasswordIdentitiesOptional: without identities, only the other
// rules apply; empty identities match nothing.
func TestCheckPasswordIdentitiesOptional(t *testing.T) {
	if err := CheckPassword("jonathan.smith"); err != nil {
		t.Errorf("no identities: %v", err)
	}
	if err := CheckPassword("jonathan.smith", "", "  "); err != nil {
		t.Errorf("empty identities: %v", err)
	}
}

// TestCommonPasswordsList: the embedded list loads, holds no blank or
// duplicate entry, and every entry is refused.
func TestCommonPasswordsList(t *testing.T) {
	set := commonPasswords()
	if len(set) < 300 {
		t.Fatalf("common passwords list has %d entries", len(set))
	}
	for pw := range set {
		decorated := pw
		for utf8.RuneCountInString(decorated) < MinPasswordLength {
			decorated += "1"
		}
		if err := CheckPassword(decorated + "!"); err == nil {
			t.Errorf("%q (from list entry %q) accepted", decorated+"!", pw)
		}
	}
}

// FuzzCheckPassword: CheckPassword never panics, and what it accepts
// meets the length and size bounds and is not a single repeated character.
func FuzzCheckPassword(f *testing.F) {
	for _, s := range []string{"", "password1234", "correct horse battery", "aaaaaaaaaaaa", "p@ssw0rd!", "\xff\xfe", "ümlaut-paßwörter"} {
		f.Add(s, "user@example.com")
	}
	f.Fuzz(func(t *testing.T, pw, identity string) {
		err := CheckPassword(pw, identity)
		if err != nil {
			if ErrorCode(err) != CodeWeakPassword {
				t.Fatalf("CheckPassword(%q) = %v: not a weak-password error", pw, err)
			}
			return
		}
		trimmed := strings.TrimSpace(pw)
		if utf8.RuneCountInString(trimmed) < MinPasswordLength || len(pw) > MaxPasswordBytes || !utf8.ValidString(pw) {
			t.Fatalf("CheckPassword(%q) accepted a password outside the bounds", pw)
		}
		if r := []rune(strings.ToLower(trimmed)); strings.Count(string(r), string(r[0])) == len(r) {
			t.Fatalf("CheckPassword(%q) accepted a repeated character", pw)
		}
		if strings.EqualFold(trimmed, strings.TrimSpace(identity)) {
			t.Fatalf("CheckPassword(%q, %q) accepted the identity", pw, identity)
		}
	})
}
