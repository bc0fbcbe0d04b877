package password

import (
	"errors"
	"strings"
	"testing"

	"github.com/unlockd/unlockd/internal/domain"
)

// fast keeps the tests quick; production uses Default.
var fast = Params{Time: 1, Memory: 1024, Threads: 1}

func TestHashVerify(t *testing.T) {
	h, err := Hash("correct horse battery", fast)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=1024,t=1,p=1$") {
		t.Errorf("hash %q is not PHC argon2id", h)
	}
	if err := Verify("correct horse battery", h); err != nil {
		t.Errorf("Verify(right) = %v", err)
	}
	if err := Verify("correct horse batterY", h); !errors.Is(err, ErrMismatch) {
		t.Errorf("Verify(wrong) = %v, want ErrMismatch", err)
	}
	h2, _ := Hash("correct horse battery", fast)
	if h2 == h {
		t.Error("two hashes of one password are equal: salt not random")
	}
}

func TestVerifyMalformed(t *testing.T) {
	for _, h := range []string{"", "plain", "$2a$10$abc", "$argon2id$v=19$m=x$a$b", "$argon2id$v=18$m=1,t=1,p=1$AAAA$AAAA", "$argon2id$v=19$m=1024,t=1,p=1$!!$AAAA"} {
		if err := Verify("pw", h); err == nil || errors.Is(err, ErrMismatch) {
			t.Errorf("Verify(%q) = %v, want a format error", h, err)
		}
	}
}

func TestGenerate(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		pw := Generate()
		if len(pw) != GeneratedLength {
			t.Fatalf("length %d", len(pw))
		}
		if !strings.ContainsAny(pw, upper) || !strings.ContainsAny(pw, lower) || !strings.ContainsAny(pw, digits) {
			t.Fatalf("%q does not mix upper, lower and digits", pw)
		}
		if strings.ContainsAny(pw, "Il0O1") {
			t.Fatalf("%q has a look-alike character", pw)
		}
		if seen[pw] {
			t.Fatalf("%q generated twice", pw)
		}
		seen[pw] = true
	}
}

// TestGeneratedPasswordsPassTheRules: a generated password is always one
// domain.CheckPassword accepts.
func TestGeneratedPasswordsPassTheRules(t *testing.T) {
	for range 2000 {
		if pw := Generate(); domain.CheckPassword(pw, "user", "user@example.com") != nil {
			t.Fatalf("generated %q fails the rules: %v", pw, domain.CheckPassword(pw))
		}
	}
}

func TestNewToken(t *testing.T) {
	tok, hash := NewToken()
	if !strings.HasPrefix(tok, TokenPrefix) || len(tok) != len(TokenPrefix)+52 {
		t.Errorf("token %q has the wrong form", tok)
	}
	if HashToken(tok) != hash || len(hash) != 64 {
		t.Errorf("hash %q does not match the token", hash)
	}
	tok2, _ := NewToken()
	if tok2 == tok {
		t.Error("two tokens are equal")
	}
}
