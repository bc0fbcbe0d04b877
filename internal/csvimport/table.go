package csvimport

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Limits on one import file.
const (
	// MaxRows is the number of data rows (not counting the header) a file
	// may hold.
	MaxRows = 1_000_000
	// MaxFieldBytes is the length of the longest field, in bytes.
	MaxFieldBytes = 1024
)

// maxLineBytes bounds one physical line, so that a file that is not CSV at
// all (or a field far beyond MaxFieldBytes) is refused without first being
// read whole into memory. It is well above the longest valid line: five
// fields of MaxFieldBytes, every byte a doubled quote.
const maxLineBytes = 64 << 10

// limits are the bounds a parse applies; tests lower them.
type limits struct {
	rows, fieldBytes, lineBytes, errors int
}

var defaultLimits = limits{rows: MaxRows, fieldBytes: MaxFieldBytes, lineBytes: maxLineBytes, errors: MaxErrors}

// column is one column a file may have.
type column struct {
	name     string
	required bool
}

// table reads the data rows of one CSV file whose header names some of a
// known set of columns, checking what every row has in common: field count,
// UTF-8 and field length.
type table struct {
	cr     *csv.Reader
	lim    limits
	errs   *collector
	header []string       // lower-cased column names, in file order
	index  map[string]int // known column name -> field index
	rows   int            // data rows read so far
	done   bool
	ioErr  error // a read failure, which ends the parse
}

// newTable reads the header of r. It returns false when the header is
// unusable; the reason is in errs or, for a read failure, in t.ioErr.
func newTable(r io.Reader, cols []column, lim limits, errs *collector) (*table, bool) {
	t := &table{lim: lim, errs: errs, index: make(map[string]int, len(cols))}
	t.cr = csv.NewReader(&lineLimiter{r: skipBOM(r), max: lim.lineBytes})
	t.cr.FieldsPerRecord = -1 // checked here, to name the columns
	t.cr.ReuseRecord = true
	want := wantHeader(cols)

	rec, err := t.cr.Read()
	if err == io.EOF {
		errs.addf(1, "the file is empty; want a header row: %s", want)
		return t, false
	}
	if err != nil {
		t.readError(err)
		return t, false
	}
	line, _ := t.cr.FieldPos(0)
	t.header = make([]string, len(rec))
	for i, f := range rec {
		if !utf8.ValidString(f) {
			errs.addf(line, "the header is not valid UTF-8; save the file as UTF-8 CSV")
			return t, false
		}
		name := strings.ToLower(strings.TrimSpace(f))
		t.header[i] = name
		if prev, dup := t.index[name]; dup {
			errs.addf(line, "column %q appears twice (columns %d and %d)", name, prev+1, i+1)
			continue
		}
		if !known(cols, name) {
			errs.addf(line, "unknown column %.64q; want %s", name, want)
			continue
		}
		t.index[name] = i
	}
	for _, c := range cols {
		if _, ok := t.index[c.name]; c.required && !ok {
			errs.addf(line, "missing column %q; want %s", c.name, want)
		}
	}
	return t, len(errs.errs) == 0
}

// col returns the index of column name, or -1 when the file lacks it.
func (t *table) col(name string) int {
	if i, ok := t.index[name]; ok {
		return i
	}
	return -1
}

// next returns the next data row and its line, skipping blank rows and
// recording rows that fail the common checks. It returns false at the end of
// the file, after a problem that ends the parse, or once errs is full. The
// returned slice is reused by the following call.
func (t *table) next() ([]string, int, bool) {
	for !t.done {
		if t.errs.full() {
			// Say whether anything is left that might hold more problems.
			if _, err := t.cr.Read(); err != io.EOF {
				t.errs.trunc = true
			}
			t.done = true
			break
		}
		rec, err := t.cr.Read()
		if err == io.EOF {
			t.done = true
			break
		}
		if err != nil {
			t.readError(err)
			continue
		}
		line, _ := t.cr.FieldPos(0)
		if blank(rec) {
			continue
		}
		if t.rows++; t.rows > t.lim.rows {
			t.errs.addf(line, "more than %d rows; split the file", t.lim.rows)
			t.done = true
			break
		}
		if len(rec) != len(t.header) {
			t.errs.addf(line, "has %d fields, want %d (%s)", len(rec), len(t.header), strings.Join(t.header, ","))
			continue
		}
		if t.checkFields(rec, line) {
			return rec, line, true
		}
	}
	return nil, 0, false
}

// checkFields records fields that are too long or not UTF-8 and reports
// whether all are fine.
func (t *table) checkFields(rec []string, line int) bool {
	ok := true
	for i, f := range rec {
		switch {
		case len(f) > t.lim.fieldBytes:
			t.errs.addf(line, "%s is %d bytes long; the limit is %d", t.header[i], len(f), t.lim.fieldBytes)
			ok = false
		case !utf8.ValidString(f):
			t.errs.addf(line, "%s is not valid UTF-8; save the file as UTF-8 CSV", t.header[i])
			ok = false
		}
	}
	return ok
}

// readError records err from the CSV reader: a syntax error against its
// line (reading may go on), anything else as the end of the parse.
func (t *table) readError(err error) {
	var long *lineTooLongError
	var pe *csv.ParseError
	switch {
	case errors.As(err, &long):
		t.errs.addf(long.line, "line is longer than %d bytes; fields are limited to %d bytes", t.lim.lineBytes, t.lim.fieldBytes)
		t.done = true
	case errors.As(err, &pe):
		msg := pe.Err.Error()
		switch pe.Err {
		case csv.ErrBareQuote:
			msg = `a " in a field that does not start with one; quote the field and double the " inside it`
		case csv.ErrQuote:
			msg = `a quoted field is not closed, or has text after its closing "`
		}
		if pe.Line != pe.StartLine {
			msg = fmt.Sprintf("%s (in the row starting here, detected on line %d)", msg, pe.Line)
		}
		t.errs.addf(pe.StartLine, "%s", msg)
	default:
		t.ioErr = fmt.Errorf("csvimport: read %s: %w", t.errs.file, err)
		t.done = true
	}
}

// blank reports whether every field of rec is empty or spaces, as in the
// ",,," rows spreadsheets leave at the end of an export.
func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

func known(cols []column, name string) bool {
	for _, c := range cols {
		if c.name == name {
			return true
		}
	}
	return false
}

// wantHeader describes cols as in SPEC §6: "a,b[,c,d]".
func wantHeader(cols []column) string {
	var b strings.Builder
	opt := false
	for i, c := range cols {
		if !c.required && !opt {
			b.WriteByte('[')
			opt = true
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(c.name)
	}
	if opt {
		b.WriteByte(']')
	}
	return b.String()
}

// skipBOM returns r without a leading UTF-8 byte order mark.
func skipBOM(r io.Reader) io.Reader {
	br := bufio.NewReader(r)
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, []byte("\xef\xbb\xbf")) {
		_, _ = br.Discard(3)
	}
	return br
}

// lineLimiter fails a read once one physical line exceeds max bytes.
type lineLimiter struct {
	r    io.Reader
	max  int
	line int // 0-based number of the current line
	run  int // bytes of the current line read so far
	err  error
}

// lineTooLongError is the lineLimiter's failure, at a 1-based line.
type lineTooLongError struct{ line int }

func (e *lineTooLongError) Error() string {
	return fmt.Sprintf("csvimport: line %d is too long", e.line)
}

func (l *lineLimiter) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	n, err := l.r.Read(p)
	for i := 0; i < n; {
		j := bytes.IndexByte(p[i:n], '\n')
		if j < 0 {
			l.run += n - i
			break
		}
		l.run += j
		if l.run > l.max {
			break
		}
		l.line++
		l.run = 0
		i += j + 1
	}
	if l.run > l.max {
		l.err = &lineTooLongError{line: l.line + 1}
		return 0, l.err
	}
	return n, err
}
