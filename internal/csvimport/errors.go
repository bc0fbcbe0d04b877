package csvimport

import (
	"fmt"
	"strings"
)

// MaxErrors is the number of row errors collected before parsing stops.
const MaxErrors = 20

// RowError is one problem in an import file, at a line as an editor numbers
// it: the header is line 1.
type RowError struct {
	File string
	Line int
	Msg  string
}

// Error returns "FILE line N: MSG".
func (e RowError) Error() string {
	return fmt.Sprintf("%s line %d: %s", e.File, e.Line, e.Msg)
}

// Errors is every problem found in a file, up to MaxErrors, in line order.
type Errors struct {
	Errs []RowError
	// Truncated is true when parsing stopped at MaxErrors and the file may
	// hold more problems.
	Truncated bool
}

// Error returns one problem per line, so that a user can fix a file in one
// go.
func (e *Errors) Error() string {
	var b strings.Builder
	for i, re := range e.Errs {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(re.Error())
	}
	if e.Truncated && len(e.Errs) > 0 {
		fmt.Fprintf(&b, "\n%s: stopped after %d errors; fix these and try again", e.Errs[0].File, len(e.Errs))
	}
	return b.String()
}

// collector gathers the row errors of one file.
type collector struct {
	file  string
	max   int
	errs  []RowError
	trunc bool
}

// addf records a problem at line; once max problems are recorded, further
// ones only mark the list truncated.
func (c *collector) addf(line int, format string, args ...any) {
	if len(c.errs) >= c.max {
		c.trunc = true
		return
	}
	c.errs = append(c.errs, RowError{File: c.file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

// full reports whether no more problems can be recorded.
func (c *collector) full() bool { return len(c.errs) >= c.max }

// err returns the collected problems as *Errors, or nil when there are none.
func (c *collector) err() error {
	if len(c.errs) == 0 {
		return nil
	}
	return &Errors{Errs: c.errs, Truncated: c.trunc}
}
