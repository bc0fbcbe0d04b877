package totp

import (
	"encoding/base32"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestRFC6238Vectors checks the SHA-1 test vectors of RFC 6238 appendix B
// (eight digits there; the last six are this package's codes).
func TestRFC6238Vectors(t *testing.T) {
	secret := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString([]byte("12345678901234567890"))
	for _, tt := range []struct {
		unix int64
		want string
	}{
		{59, "94287082"}, {1111111109, "07081804"}, {1111111111, "14050471"},
		{1234567890, "89005924"}, {2000000000, "69279037"}, {20000000000, "65353130"},
	} {
		got, err := Code(secret, Step(time.Unix(tt.unix, 0)))
		if err != nil || got != tt.want[2:] {
			t.Errorf("Code at %d = %q, %v; want %q", tt.unix, got, err, tt.want[2:])
		}
	}
}

func TestMatch(t *testing.T) {
	secret := NewSecret()
	now := time.Date(2026, 11, 23, 9, 30, 10, 0, time.UTC)
	step := Step(now)
	code := func(s int64) string { c, _ := Code(secret, s); return c }
	wrong := "000000"
	for i := 1; wrong == code(step-1) || wrong == code(step) || wrong == code(step+1); i++ {
		wrong = fmt.Sprintf("%06d", i)
	}
	for _, tt := range []struct {
		name  string
		code  string
		after int64
		ok    bool
		step  int64
	}{
		{"now", code(step), 0, true, step},
		{"previous step", code(step - 1), 0, true, step - 1},
		{"next step", code(step + 1), 0, true, step + 1},
		{"two steps old", code(step - 2), 0, false, 0},
		{"already used", code(step), step, false, 0},
		{"older than the last used", code(step - 1), step, false, 0},
		{"newer than the last used", code(step + 1), step, true, step + 1},
		{"wrong", wrong, 0, false, 0},
		{"short", code(step)[:5], 0, false, 0},
	} {
		got, ok := Match(secret, tt.code, now, tt.after)
		if ok != tt.ok || (ok && got != tt.step) {
			t.Errorf("%s: Match = %d, %v; want %d, %v", tt.name, got, ok, tt.step, tt.ok)
		}
	}
	if _, ok := Match("not base32!", "123456", now, 0); ok {
		t.Error("a malformed secret matched")
	}
}

func TestURI(t *testing.T) {
	uri := URI("unlockd", "ann@acme.example", "JBSWY3DPEHPK3PXP")
	for _, want := range []string{"otpauth://totp/unlockd:ann@acme.example?", "secret=JBSWY3DPEHPK3PXP", "issuer=unlockd", "digits=6", "period=30"} {
		if !strings.Contains(uri, want) {
			t.Errorf("URI %q lacks %q", uri, want)
		}
	}
	if len(NewSecret()) != 32 {
		t.Errorf("secret %q is not 160 bits of base32", NewSecret())
	}
}

func TestRecoveryCodes(t *testing.T) {
	codes := NewRecoveryCodes(RecoveryCodes)
	seen := map[string]bool{}
	for _, c := range codes {
		h := RecoveryHash(c)
		if h == "" || seen[h] {
			t.Fatalf("code %q: hash %q empty or repeated", c, h)
		}
		seen[h] = true
		for _, typed := range []string{strings.ToUpper(c), strings.ReplaceAll(c, "-", ""), strings.ReplaceAll(c, "-", " ")} {
			if RecoveryHash(typed) != h {
				t.Errorf("%q typed as %q hashes differently", c, typed)
			}
		}
	}
	for _, bad := range []string{"", "123456", codes[0] + "a", codes[0][:18], "0000-0000-0000-0000", "ab!d-efgh-ijkl-mnop"} {
		if RecoveryHash(bad) != "" {
			t.Errorf("RecoveryHash(%q) is not empty", bad)
		}
	}
}
