package domain

import (
	"strings"
	"testing"
)

func TestCheckTokenName(t *testing.T) {
	for _, tt := range []struct{ name, want, err string }{
		{"helpdesk", "helpdesk", ""},
		{"  acme app ", "acme app", ""},
		{"app-2", "app-2", ""},
		{"2fa-bot", "2fa-bot", ""},
		{"", "", "name must not be empty"},
		{"   ", "", "name must not be empty"},
		{"12", "", `name "12" must not be all digits`},
		{" 0042 ", "", `name "0042" must not be all digits`},
		{strings.Repeat("n", MaxNameBytes+1), "", "name is longer than 200 bytes"},
		{"tab\tname", "", "contains a control character"},
	} {
		got, err := CheckTokenName(tt.name)
		wantErr(t, tt.name, err, CodeInvalid, tt.err)
		if err == nil && got != tt.want {
			t.Errorf("CheckTokenName(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
	if got, err := CheckNote("  on leave \n"); err != nil || got != "on leave" {
		t.Errorf("CheckNote = %q, %v", got, err)
	}
	if _, err := CheckNote(strings.Repeat("n", MaxNoteBytes+1)); err == nil {
		t.Error("CheckNote accepted a note past MaxNoteBytes")
	}
}
