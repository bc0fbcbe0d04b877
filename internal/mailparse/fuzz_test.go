package mailparse

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/unlockd/unlockd/internal/domain"
)

// addCorpusSeeds adds every testdata message to f.
func addCorpusSeeds(f *testing.F, add func(raw []byte)) {
	f.Helper()
	files, err := filepath.Glob("testdata/*.eml")
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		raw, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		add(raw)
	}
}

// checkNames fails unless names are distinct valid usernames.
func checkNames(t *testing.T, what string, names []string, limit int) {
	t.Helper()
	if limit > 0 && len(names) > limit {
		t.Errorf("%d %s, want at most %d", len(names), what, limit)
	}
	seen := map[string]bool{}
	for _, n := range names {
		if err := domain.ValidateUsername(n); err != nil {
			t.Errorf("%s %q: %v", what, n, err)
		}
		if seen[n] {
			t.Errorf("%s %q twice", what, n)
		}
		seen[n] = true
	}
}

func FuzzParse(f *testing.F) {
	addCorpusSeeds(f, func(raw []byte) { f.Add(raw) })
	f.Fuzz(func(t *testing.T, raw []byte) {
		for _, parse := range []func([]byte) (*Message, error){Parse, ParseHeader} {
			m, err := parse(raw)
			if err != nil {
				if m != nil {
					t.Errorf("error %v with a Message", err)
				}
				continue
			}
			if m.Key == "" {
				t.Errorf("empty Key")
			}
			if m.From == "" && m.SenderProblem == "" {
				t.Errorf("empty From without a SenderProblem")
			}
			checkNames(t, "username", texts(m.Usernames), 0)
			checkNames(t, "word", texts(m.Words), MaxWords)
		}
	})
}

func FuzzUsernames(f *testing.F) {
	for _, tt := range []struct{ subject, text string }{
		{"Unlock: a, b, c", ""},
		{"Re: Unlock request", "my username is jsmith\n> user old\n-- \nuser admin"},
		{"", "Unlock:a,b;c and d. user: x account \"y\" user name is z"},
		{"account", "user"},
	} {
		f.Add(tt.subject, tt.text)
	}
	addCorpusSeeds(f, func(raw []byte) {
		if m, err := Parse(raw); err == nil {
			f.Add(m.Subject, m.Text)
		}
	})
	f.Fuzz(func(t *testing.T, subject, text string) {
		names := findUsernames(stripSubjectPrefixes(subject), cleanText(text))
		checkNames(t, "username", names, 0)
		checkNames(t, "username", findUsernames(subject, htmlToText(text)), 0)
		checkNames(t, "word", findWords(MaxWords, subject, text), MaxWords)
	})
}
