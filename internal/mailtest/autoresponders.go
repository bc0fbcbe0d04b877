package mailtest

import (
	"os"
	"strings"
	"testing"
)

// Autoresponder is one row of mailparse's testdata/autoresponders.txt: a
// sign that marks mail as automatic, and how a real autoresponder writes
// it.
type Autoresponder struct {
	// Kind is "header" (Line is a header field line) or "subject" (Line
	// is a Subject value).
	Kind string
	// Sign is the header field or the subject prefix or suffix.
	Sign string
	Line string
}

// Autoresponders reads the rows of the file at path, failing tb on a row
// that is not kind, sign and line separated by tabs.
func Autoresponders(tb testing.TB, path string) []Autoresponder {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	var rows []Autoresponder
	for i, line := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 3 || (f[0] != "header" && f[0] != "subject") {
			tb.Fatalf("%s:%d: want header|subject, the sign and the line, separated by tabs", path, i+1)
		}
		rows = append(rows, Autoresponder{Kind: f[0], Sign: f[1], Line: f[2]})
	}
	return rows
}
