package address

import (
	"strings"
	"testing"

	"github.com/unlockd/unlockd/internal/domain"
)

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"IT@Acme.Example", "it@acme.example"},
		{"ops@bücher.example", "ops@xn--bcher-kva.example"},
		{"ops@BÜCHER.example", "ops@xn--bcher-kva.example"},
		{"ops@xn--bcher-kva.example", "ops@xn--bcher-kva.example"},
		{" it@acme.example ", "it@acme.example"},
		// Only ASCII letters fold: the Kelvin sign is not "k", nor a dotted
		// capital I an "i", so a look-alike never equals a contact.
		{"\u212aim@acme.example", "\u212aim@acme.example"},
		{"\u0130T@acme.example", "\u0130t@acme.example"},
		{"ÄNN@acme.example", "Änn@acme.example"},
	}
	for _, tt := range tests {
		got, err := Normalize(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("Normalize(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "it", "it@", "@acme.example", "Ann <ann@acme.example>", "a@b@", "it@localhost", "a@b..example"} {
		if got, err := Normalize(bad); err == nil {
			t.Errorf("Normalize(%q) = %q, want an error", bad, got)
		}
	}
}

func TestDomain(t *testing.T) {
	if got := Domain("it@mail.acme.example"); got != "mail.acme.example" {
		t.Errorf("Domain = %q", got)
	}
}

func TestCheck(t *testing.T) {
	for _, tt := range []struct {
		in, want, err string
	}{
		{"IT@Acme.Example", "it@acme.example", ""},
		{"  it@acme.example ", "it@acme.example", ""},
		{"ops@bücher.example", "ops@xn--bcher-kva.example", ""},
		{"not-an-address", "", `email "not-an-address" is not a valid email address`},
		{"Ann <ann@acme.example>", "", "must be a bare address"},
		{"ann@localhost", "", "has no top-level domain"},
		{strings.Repeat("a", 250) + "@acme.example", "", "email is longer than 254 bytes"},
	} {
		got, err := Check("email", tt.in)
		switch {
		case tt.err == "" && (err != nil || got != tt.want):
			t.Errorf("Check(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		case tt.err != "" && (domain.ErrorCode(err) != domain.CodeInvalid || !strings.Contains(domain.ErrorMessage(err), tt.err)):
			t.Errorf("Check(%q) = %q, %v; want an invalid error with %q", tt.in, got, err, tt.err)
		}
	}
}
