package csvimport

import (
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/unlockd/unlockd/internal/domain"
)

var now = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

// MustUsers parses a users file that the test expects to be valid.
func MustUsers(tb testing.TB, in string) Users {
	tb.Helper()
	got, err := ParseUsers(strings.NewReader(in), "users.csv", "cli", now)
	if err != nil {
		tb.Fatalf("ParseUsers: %v", err)
	}
	return got
}

// MustContacts parses a contacts file that the test expects to be valid.
func MustContacts(tb testing.TB, in string) Contacts {
	tb.Helper()
	got, err := ParseContacts(strings.NewReader(in), "contacts.csv")
	if err != nil {
		tb.Fatalf("ParseContacts: %v", err)
	}
	return got
}

// MustRowErrors checks that err is an *Errors whose first problem is in
// file at line with a message containing msg, and that its text says so.
func MustRowErrors(tb testing.TB, err error, file string, line int, msg string) *Errors {
	tb.Helper()
	var errs *Errors
	if !errors.As(err, &errs) {
		tb.Fatalf("error = %v (%T), want *Errors", err, err)
	}
	if len(errs.Errs) == 0 {
		tb.Fatalf("*Errors is empty")
	}
	first := errs.Errs[0]
	if first.File != file || first.Line != line || !strings.Contains(first.Msg, msg) {
		tb.Errorf("first error = %+v, want %s line %d: …%s…", first, file, line, msg)
	}
	if prefix := fmt.Sprintf("%s line %d: ", file, line); !strings.HasPrefix(err.Error(), prefix) {
		tb.Errorf("error text %q does not start with %q", err.Error(), prefix)
	}
	return errs
}

const usersHeader = "username,display_name,email,status,lock_reason\n"

func TestParseUsersErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		line int
		msg  string
	}{
		{"empty file", "", 1, "the file is empty"},
		{"only blank lines", "\n\n", 1, "the file is empty"},
		{"unknown column", "username,display_name,email,phone\n", 1, `unknown column "phone"`},
		{"missing username column", "display_name,email\n", 1, `missing column "username"`},
		{"missing email column", "username,display_name\n", 1, `missing column "email"`},
		{"duplicate column", "username,display_name,email,Email\n", 1, `column "email" appears twice`},
		{"header not UTF-8", "username,display_name,email\xff\n", 1, "not valid UTF-8"},
		{"too few fields", usersHeader + "ann,Ann,,,\nbob,Bob\n", 3, "has 2 fields, want 5"},
		{"too many fields", usersHeader + "ann,Ann,,,,extra\n", 2, "has 6 fields, want 5"},
		{"username with space", usersHeader + "ok,A,,,\na b,A B,,,\n", 3, `username "a b" contains a character that is not allowed`},
		{"username with comma", usersHeader + "\"a,b\",A,,,\n", 2, "not allowed"},
		{"username leading space", usersHeader + " ann,Ann,,,\n", 2, `username " ann" has spaces before or after it`},
		{"username trailing tab", usersHeader + "ann\t,Ann,,,\n", 2, "spaces before or after"},
		{"username empty", usersHeader + ",Nobody,,,\n", 2, "username is empty"},
		{"username too long", usersHeader + strings.Repeat("a", 65) + ",A,,,\n", 2, "1 to 64 characters"},
		{"bad email", usersHeader + "ann,Ann,not-an-address,,\n", 2, `email "not-an-address" is not a valid email address`},
		{"email with display name", usersHeader + "ann,Ann,Ann <ann@acme.example>,,\n", 2, "bare address"},
		{"email without TLD", usersHeader + "ann,Ann,ann@localhost,,\n", 2, "no top-level domain"},
		{"bad status", usersHeader + "ann,Ann,,disabled,\n", 2, `status "disabled" must be active or locked`},
		{"status case", usersHeader + "ann,Ann,,Locked,admin\n", 2, "must be active or locked"},
		{"locked without reason", usersHeader + "ann,Ann,,locked,\n", 2, "status locked needs a lock_reason"},
		{"active with reason", usersHeader + "ann,Ann,,active,admin\n", 2, `lock_reason "admin" must be empty when the status is active`},
		{"empty status with reason", usersHeader + "ann,Ann,,,admin\n", 2, "must be empty when the status is active"},
		{"reason without status column", "username,display_name,email,lock_reason\nann,Ann,,admin\n", 2, "must be empty"},
		{"locked without reason column", "username,display_name,email,status\nann,Ann,,locked\n", 2, "needs a lock_reason"},
		{"lock_note when active", "username,display_name,email,status,lock_reason,lock_note\nann,Ann,,active,,left\n", 2,
			"lock_note must be empty when the status is active"},
		{"lock_note too long", "username,display_name,email,status,lock_reason,lock_note\nann,Ann,,locked,admin," + strings.Repeat("n", 1001) + "\n", 2,
			"lock_note is longer than 1000 bytes"},
		{"lock_note with control character", "username,display_name,email,status,lock_reason,lock_note\nann,Ann,,locked,admin,\"a\x07\"\n", 2,
			"lock_note \"a\\a\" contains a control character"},
		{"bad lock reason", usersHeader + "ann,Ann,,locked,forgot\n", 2, `lock reason "forgot" must be failed_logins or admin`},
		{"duplicate username", usersHeader + "ann,Ann,,,\nbob,Bob,,,\nann,Ann again,,,\n", 4, `username "ann" is also on line 2`},
		{"field too long", usersHeader + "ann," + strings.Repeat("x", 1025) + ",,,\n", 2, "display_name is 1025 bytes long; the limit is 1024"},
		{"name too long", usersHeader + "ann," + strings.Repeat("x", 201) + ",,,\n", 2, "display_name is longer than 200 bytes"},
		{"email too long", usersHeader + "ann,Ann," + strings.Repeat("a", 250) + "@acme.example,,\n", 2, "email is longer than 254 bytes"},
		{"field not UTF-8", usersHeader + "ann,Caf\xe9,,,\n", 2, "display_name is not valid UTF-8"},
		{"bare quote", usersHeader + "ann,Ann,,,\nbob,Bob \"the\" Builder,,,\n", 3, `a " in a field`},
		{"unclosed quote", usersHeader + "ann,\"Ann,,,\nbob,Bob,,,\n", 2, "not closed"},
		{"line break in name", usersHeader + "ann,\"Ann\nSmith\",,,\n", 2, "display_name \"Ann\\nSmith\" contains a control character"},
		{"line too long", usersHeader + "ann,Ann,,,\n" + strings.Repeat("x", 70_000) + "\n", 3, "longer than 65536 bytes"},
		{"blank lines counted", usersHeader + "\nann,Ann,,,\n\nb c,B,,,\n", 5, "not allowed"},
		{"BOM keeps line numbers", "\ufeff" + usersHeader + "ann,Ann,,,\nb c,B,,,\n", 3, "not allowed"},
		{"CRLF", strings.ReplaceAll(usersHeader+"ann,Ann,,,\nb c,B,,,\n", "\n", "\r\n"), 3, "not allowed"},
		{"BOM not at start", usersHeader + "\ufeffann,Ann,,,\n", 2, "not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseUsers(strings.NewReader(tt.in), "users.csv", "cli", now)
			MustRowErrors(t, err, "users.csv", tt.line, tt.msg)
			if got.Users != nil || got.Lines != nil {
				t.Errorf("got %d users and lines %v alongside the error, want none", len(got.Users), got.Lines)
			}
		})
	}
}

func TestParseContactsErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		line int
		msg  string
	}{
		{"empty file", "", 1, "the file is empty; want a header row: email[,name]"},
		{"missing email column", "name\nAnn\n", 1, `missing column "email"`},
		{"unknown column", "email,name,phone\n", 1, `unknown column "phone"; want email[,name]`},
		{"users header", "username,display_name,email\n", 1, `unknown column "username"`},
		{"empty email", "email,name\nit@acme.example,IT\n,Nobody\n", 3, "email is empty"},
		{"bad email", "email,name\nacme.example,IT\n", 2, `email "acme.example" is not a valid email address`},
		{"duplicate email, case", "email,name\nIT@Acme.example,IT\nops@acme.example,Ops\nit@acme.EXAMPLE,IT again\n", 4, "email it@acme.example is also on line 2"},
		{"duplicate email, IDN", "email\nops@bücher.example\nops@xn--bcher-kva.example\n", 3, "email ops@xn--bcher-kva.example is also on line 2"},
		{"duplicate email, spaces", "email\nit@acme.example\n it@acme.example \n", 3, "also on line 2"},
		{"wrong field count", "email,name\nit@acme.example\n", 2, "has 1 fields, want 2 (email,name)"},
		{"field too long", "email,name\nit@acme.example," + strings.Repeat("é", 513) + "\n", 2, "name is 1026 bytes long"},
		{"name too long", "email,name\nit@acme.example," + strings.Repeat("é", 101) + "\n", 2, "name is longer than 200 bytes"},
		{"name not UTF-8", "email,name\nit@acme.example,\xc3\n", 2, "name is not valid UTF-8"},
		{"name with control character", "email,name\nit@acme.example,\"IT\x07\"\n", 2, "contains a control character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseContacts(strings.NewReader(tt.in), "contacts.csv")
			MustRowErrors(t, err, "contacts.csv", tt.line, tt.msg)
			if got.Contacts != nil || got.Lines != nil {
				t.Errorf("got %d contacts and lines %v alongside the error, want none", len(got.Contacts), got.Lines)
			}
		})
	}
}

func TestParseUsers(t *testing.T) {
	got := MustUsers(t, "\ufeffusername,display_name,email,status,lock_reason\r\n"+
		"JSmith, John Smith ,J.Smith@Acme.Example,,\r\n"+
		"jsmith,\"Smith, Jane\",,active,\r\n"+
		"ann,Ann,ann@bücher.example,locked,admin\r\n"+
		"bob,Bob,,locked,failed_logins\r\n"+
		"\r\n,,,,\r\n  \r\n")
	want := []domain.User{
		{Username: "JSmith", DisplayName: "John Smith", Email: "j.smith@acme.example"},
		{Username: "jsmith", DisplayName: "Smith, Jane"},
		{Username: "ann", DisplayName: "Ann", Email: "ann@xn--bcher-kva.example",
			Lock: &domain.Lock{Reason: domain.LockAdmin, At: now, By: "cli", Note: "imported"}},
		{Username: "bob", DisplayName: "Bob",
			Lock: &domain.Lock{Reason: domain.LockFailedLogins, At: now, By: "cli", Note: "imported"}},
	}
	if !reflect.DeepEqual(got.Users, want) {
		t.Errorf("users =\n%+v\nwant\n%+v", got.Users, want)
	}
	wantLines := map[string]int{"JSmith": 2, "jsmith": 3, "ann": 4, "bob": 5}
	if !reflect.DeepEqual(got.Lines, wantLines) {
		t.Errorf("lines = %v, want %v", got.Lines, wantLines)
	}
	if got.Users[2].Status(now) != domain.StatusLocked || got.Users[0].Status(now) != domain.StatusActive {
		t.Errorf("statuses wrong: %v, %v", got.Users[2].Status(now), got.Users[0].Status(now))
	}
}

func TestParseUsersHeader(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []domain.User
	}{
		{"header only", "username,display_name,email\n", nil},
		{"no optional columns", "username,display_name,email\nann,Ann,ann@acme.example\n",
			[]domain.User{{Username: "ann", DisplayName: "Ann", Email: "ann@acme.example"}}},
		{"order and case from the header", " Email ,LOCK_REASON,Username,status,Display_Name\nann@acme.example,admin,ann,locked,Ann\n",
			[]domain.User{{Username: "ann", DisplayName: "Ann", Email: "ann@acme.example",
				Lock: &domain.Lock{Reason: domain.LockAdmin, At: now, By: "cli", Note: "imported"}}}},
		{"status without lock_reason column", "username,display_name,email,status\nann,Ann,,active\nbob,Bob,,\n",
			[]domain.User{{Username: "ann", DisplayName: "Ann"}, {Username: "bob", DisplayName: "Bob"}}},
		{"lock_note", "username,display_name,email,status,lock_reason,lock_note\nann,Ann,,locked,admin,\" left the company\nin May \"\nbob,Bob,,locked,failed_logins,\n",
			[]domain.User{{Username: "ann", DisplayName: "Ann", Lock: &domain.Lock{Reason: domain.LockAdmin, At: now, By: "cli", Note: "left the company\nin May"}},
				{Username: "bob", DisplayName: "Bob", Lock: &domain.Lock{Reason: domain.LockFailedLogins, At: now, By: "cli", Note: "imported"}}}},
		{"quoted header", "\"username\",\"display_name\",\"email\"\nann,,\n", []domain.User{{Username: "ann"}}},
		{"name at the limit", "username,display_name,email\nann," + strings.Repeat("x", domain.MaxNameBytes) + ",\n",
			[]domain.User{{Username: "ann", DisplayName: strings.Repeat("x", domain.MaxNameBytes)}}},
		{"no final newline", "username,display_name,email\nann,Ann,", []domain.User{{Username: "ann", DisplayName: "Ann"}}},
		{"unicode username", "username,display_name,email\nJürgen,Jürgen,\n", []domain.User{{Username: "Jürgen", DisplayName: "Jürgen"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := MustUsers(t, tt.in)
			if !reflect.DeepEqual(got.Users, tt.want) {
				t.Errorf("users = %+v, want %+v", got.Users, tt.want)
			}
			if len(got.Lines) != len(tt.want) {
				t.Errorf("lines = %v, want %d entries", got.Lines, len(tt.want))
			}
		})
	}
}

func TestParseContacts(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		want  []domain.Contact
		lines map[string]int
	}{
		{"email only", "email\nIT@Acme.Example\n\n",
			[]domain.Contact{{Email: "it@acme.example"}}, map[string]int{"it@acme.example": 2}},
		{"BOM, order from header", "\ufeffName , EMAIL\r\n IT desk ,it@acme.example\r\nOps,ops@bücher.example\r\n,\r\n",
			[]domain.Contact{{Email: "it@acme.example", Name: "IT desk"}, {Email: "ops@xn--bcher-kva.example", Name: "Ops"}},
			map[string]int{"it@acme.example": 2, "ops@xn--bcher-kva.example": 3}},
		{"header only", "email,name\n", nil, map[string]int{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := MustContacts(t, tt.in)
			if !reflect.DeepEqual(got.Contacts, tt.want) {
				t.Errorf("contacts = %+v, want %+v", got.Contacts, tt.want)
			}
			if !reflect.DeepEqual(got.Lines, tt.lines) {
				t.Errorf("lines = %v, want %v", got.Lines, tt.lines)
			}
		})
	}
}

func TestOneBadRowReturnsNothing(t *testing.T) {
	var b strings.Builder
	b.WriteString(usersHeader)
	for i := range 100 {
		fmt.Fprintf(&b, "user%d,User %d,user%d@acme.example,,\n", i, i, i)
	}
	b.WriteString("bad user,Bad,,,\n")
	got, err := ParseUsers(strings.NewReader(b.String()), "users.csv", "cli", now)
	errs := MustRowErrors(t, err, "users.csv", 102, "not allowed")
	if len(errs.Errs) != 1 || errs.Truncated {
		t.Errorf("errors = %+v, want exactly one", errs)
	}
	if len(got.Users) != 0 || got.Users != nil || got.Lines != nil {
		t.Errorf("got %d users alongside the error, want none", len(got.Users))
	}
}

func TestErrorsCollected(t *testing.T) {
	in := usersHeader +
		"a b,A,,,\n" + // 2: username
		"ok,OK,,,\n" + // 3
		"ml,\"Multi\nline\",,,\n" + // 4 and 5: display_name
		" c,C,nope,locked,\n" + // 6: username, email, lock_reason
		"ok,OK again,,,\n" // 7: duplicate
	_, err := ParseUsers(strings.NewReader(in), "users.csv", "cli", now)
	errs := MustRowErrors(t, err, "users.csv", 2, "not allowed")
	var lines []int
	for _, e := range errs.Errs {
		lines = append(lines, e.Line)
	}
	if want := []int{2, 4, 6, 6, 6, 7}; !reflect.DeepEqual(lines, want) {
		t.Errorf("error lines = %v, want %v:\n%v", lines, want, err)
	}
	text := err.Error()
	if n := strings.Count(text, "\n") + 1; n != len(lines) {
		t.Errorf("error text has %d lines, want %d:\n%s", n, len(lines), text)
	}
	if !strings.Contains(text, "users.csv line 7: username \"ok\" is also on line 3") {
		t.Errorf("error text lacks the duplicate:\n%s", text)
	}
}

func TestReadError(t *testing.T) {
	boom := errors.New("boom")
	r := io.MultiReader(strings.NewReader(usersHeader+"ann,Ann,,,\n"), iotest.ErrReader(boom))
	got, err := ParseUsers(r, "users.csv", "cli", now)
	if !errors.Is(err, boom) || !strings.HasPrefix(err.Error(), "csvimport: read users.csv: ") {
		t.Errorf("error = %v, want the read error wrapped", err)
	}
	var errs *Errors
	if errors.As(err, &errs) {
		t.Errorf("a read error is not a row error: %v", err)
	}
	if got.Users != nil {
		t.Errorf("got %d users alongside the error", len(got.Users))
	}
}

func TestWantHeader(t *testing.T) {
	tests := []struct {
		cols []column
		want string
	}{
		{userColumns, "username,display_name,email[,status,lock_reason,lock_note]"},
		{contactColumns, "email[,name]"},
		{[]column{{"a", true}}, "a"},
	}
	for _, tt := range tests {
		if got := wantHeader(tt.cols); got != tt.want {
			t.Errorf("wantHeader = %q, want %q", got, tt.want)
		}
	}
}
