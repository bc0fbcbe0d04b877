package csvimport

import (
	"fmt"
	"io"
	"strings"
	"testing"
)

func TestErrorLimit(t *testing.T) {
	tests := []struct {
		name      string
		bad       int
		truncated bool
	}{
		{"below the limit", MaxErrors - 1, false},
		{"at the limit", MaxErrors, false},
		{"beyond the limit", MaxErrors + 5, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			b.WriteString("email\n")
			for i := range tt.bad {
				fmt.Fprintf(&b, "bad%d\n", i)
			}
			_, err := ParseContacts(strings.NewReader(b.String()), "contacts.csv")
			errs := MustRowErrors(t, err, "contacts.csv", 2, "not a valid email address")
			if want := min(tt.bad, MaxErrors); len(errs.Errs) != want {
				t.Errorf("%d errors, want %d", len(errs.Errs), want)
			}
			if last := errs.Errs[len(errs.Errs)-1]; last.Line != len(errs.Errs)+1 {
				t.Errorf("last error at line %d, want %d", last.Line, len(errs.Errs)+1)
			}
			if errs.Truncated != tt.truncated {
				t.Errorf("Truncated = %v, want %v", errs.Truncated, tt.truncated)
			}
			if got := strings.Contains(err.Error(), "stopped after 20 errors"); got != tt.truncated {
				t.Errorf("error text mentions stopping = %v, want %v:\n%v", got, tt.truncated, err)
			}
		})
	}
}

func TestRowLimit(t *testing.T) {
	lim := defaultLimits
	lim.rows = 3
	tests := []struct {
		rows int
		ok   bool
	}{{3, true}, {4, false}}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.rows), func(t *testing.T) {
			var b strings.Builder
			b.WriteString("username,display_name,email\n")
			for i := range tt.rows {
				fmt.Fprintf(&b, "u%d,,\n\n", i) // blank lines do not count as rows
			}
			got, err := parseUsers(strings.NewReader(b.String()), "users.csv", "cli", now, lim)
			if tt.ok {
				if err != nil || len(got.Users) != tt.rows {
					t.Fatalf("got %d users, %v; want %d", len(got.Users), err, tt.rows)
				}
				return
			}
			MustRowErrors(t, err, "users.csv", 8, "more than 3 rows")
			if got.Users != nil {
				t.Errorf("got %d users alongside the error", len(got.Users))
			}
		})
	}
}

func TestMaxRows(t *testing.T) {
	if testing.Short() {
		t.Skip("reads a million rows")
	}
	// A reader that writes rows on demand keeps the test's memory small.
	r := &rowsReader{header: "username,display_name,email\n", n: MaxRows + 1}
	got, err := ParseUsers(r, "users.csv", "cli", now)
	MustRowErrors(t, err, "users.csv", MaxRows+2, "more than 1000000 rows")
	if got.Users != nil {
		t.Errorf("got %d users alongside the error", len(got.Users))
	}
}

// rowsReader yields a header and then n distinct user rows.
type rowsReader struct {
	header string
	n, i   int
	buf    []byte
}

func (r *rowsReader) Read(p []byte) (int, error) {
	for len(r.buf) < len(p) && r.i < r.n {
		if r.header != "" {
			r.buf, r.header = append(r.buf, r.header...), ""
		}
		r.buf = fmt.Appendf(r.buf, "u%d,,\n", r.i)
		r.i++
	}
	if len(r.buf) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

func BenchmarkParseUsers10k(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(usersHeader)
	for i := range 10_000 {
		switch i % 10 {
		case 0:
			fmt.Fprintf(&sb, "user%d,\"Smith, User %d\",User%d@Acme.Example,locked,failed_logins\n", i, i, i)
		case 1:
			fmt.Fprintf(&sb, "user%d,User %d,,active,\n", i, i)
		default:
			fmt.Fprintf(&sb, "user%d,User %d,user%d@acme.example,,\n", i, i, i)
		}
	}
	in := sb.String()
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		got, err := ParseUsers(strings.NewReader(in), "users.csv", "cli", now)
		if err != nil || len(got.Users) != 10_000 {
			b.Fatalf("got %d users, %v", len(got.Users), err)
		}
	}
}
