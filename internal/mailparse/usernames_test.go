package mailparse

import (
	"slices"
	"strings"
	"testing"
)

func TestFindUsernames(t *testing.T) {
	tests := []struct {
		name, subject, text string
		want                []string
	}{
		{"unlock list", "", "Unlock: a1, b2, c3", []string{"a1", "b2", "c3"}},
		{"unlock list spaces", "", "unlock: a1 b2 and c3", []string{"a1", "b2", "c3"}},
		{"unlock list no spaces", "", "UNLOCK:a1,b2", []string{"a1", "b2"}},
		{"unlock list semicolons", "", "Unlock: a1; b2", []string{"a1", "b2"}},
		{"unlock list ends at sentence", "", "Unlock: jsmith. Thanks a lot", []string{"jsmith"}},
		{"unlock list ends at stop word", "", "Unlock: jsmith please", []string{"jsmith"}},
		{"unlock list then keyword", "", "Unlock: user jsmith", []string{"jsmith"}},
		{"unlock single", "", "could you unlock jsmith tomorrow", []string{"jsmith"}},
		{"unlock stop word", "", "please unlock the account jsmith", []string{"jsmith"}},
		{"unlock request", "Unlock request", "", nil},
		{"username colon", "", "Username: jsmith", []string{"jsmith"}},
		{"username is", "", "my username is jsmith", []string{"jsmith"}},
		{"user name is", "", "My user name is jsmith.", []string{"jsmith"}},
		{"user id colon", "", "user id: u123", []string{"u123"}},
		{"user", "", "user jsmith cannot log in", []string{"jsmith"}},
		{"user colon", "", "user: jsmith", []string{"jsmith"}},
		{"user spaced colon", "", "User : jsmith", []string{"jsmith"}},
		{"account", "", "account jsmith", []string{"jsmith"}},
		{"account colon", "", "Account: jsmith", []string{"jsmith"}},
		{"account glued", "", "account:jsmith", []string{"jsmith"}},
		{"my account is locked", "", "my account is locked", nil},
		{"account has", "", "the account has been locked", nil},
		{"user was", "", "the user was locked", nil},
		{"user the", "", "please help the user the", nil},
		{"user name alone", "", "user name", nil},
		{"users plural", "", "users jsmith", nil},
		{"keyword inside word", "", "superuser jsmith, reaccount x", nil},
		{"quotes stripped", "", `user "jsmith"`, []string{"jsmith"}},
		{"smart quotes stripped", "", "account “jsmith”", []string{"jsmith"}},
		{"brackets stripped", "", "Unlock: (jsmith), [kdoe]", []string{"jsmith", "kdoe"}},
		{"angle stripped", "", "user <jsmith>!", []string{"jsmith"}},
		{"trailing punctuation", "", "user jsmith?!", []string{"jsmith"}},
		{"backticks", "", "user `jsmith`", []string{"jsmith"}},
		{"case kept", "", "user JSmith and user jsmith", []string{"JSmith", "jsmith"}},
		{"dedup", "Unlock: jsmith", "user jsmith", []string{"jsmith"}},
		{"subject first", "account s1", "account t1", []string{"s1", "t1"}},
		{"email form kept", "", "user jsmith@corp.example", []string{"jsmith@corp.example"}},
		{"unicode", "", "Username: jürgen", []string{"jürgen"}},
		{"punctuation only", "", "user --- ", nil},
		{"too long", "", "user " + strings.Repeat("x", 65), nil},
		{"nbsp separated", "", "Unlock:\u00a0jsmith", []string{"jsmith"}},
		{"per line", "", "Unlock: a1\nb2", []string{"a1"}},
		{"several forms", "", "Unlock: a1\nUsername: b2\nuser c3\naccount d4", []string{"a1", "b2", "c3", "d4"}},
		{"no keyword", "Help", "jsmith is locked", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := findUsernames(tt.subject, tt.text)
			if !slices.Equal(got, tt.want) {
				t.Errorf("findUsernames(%q, %q) = %q, want %q", tt.subject, tt.text, got, tt.want)
			}
		})
	}
}

func TestFindWords(t *testing.T) {
	got := findWords(4, "Hi, (jsmith) and “kdoe”!", "-- jsmith k.doe2 extra")
	want := []string{"Hi", "jsmith", "and", "kdoe"}
	if !slices.Equal(got, want) {
		t.Errorf("findWords = %q, want %q", got, want)
	}
}

func TestStripSubjectPrefixes(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Re: Unlock: jsmith", "Unlock: jsmith"},
		{"RE: FW: Fwd: AW: WG: x", "x"},
		{"Re[2]: x", "x"},
		{"Unlock: jsmith", "Unlock: jsmith"},
		{"Konto gesperrt: user x", "Konto gesperrt: user x"},
		{"  re:   ", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := stripSubjectPrefixes(tt.in); got != tt.want {
			t.Errorf("stripSubjectPrefixes(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
