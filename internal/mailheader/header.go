package mailheader

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Limits bound what Parse reads. A zero field takes its value from
// DefaultLimits.
type Limits struct {
	// Bytes bounds the header block, line endings included.
	Bytes int
	// Fields bounds the number of fields.
	Fields int
	// Lines bounds the physical lines of the whole header.
	Lines int
	// FieldLines bounds the physical lines of one field. Unfolding costs
	// go-msgauth time quadratic in a field's lines, so this keeps one field
	// folded into thousands of short lines cheap.
	FieldLines int
}

// DefaultLimits are generous for real mail: the largest headers seen in
// practice (long Received chains, ARC sets, Microsoft 365 stamps) stay well
// under a tenth of them.
var DefaultLimits = Limits{Bytes: 256 << 10, Fields: 1000, Lines: 5000, FieldLines: 200}

func (l Limits) orDefault() Limits {
	d := DefaultLimits
	if l.Bytes <= 0 {
		l.Bytes = d.Bytes
	}
	if l.Fields <= 0 {
		l.Fields = d.Fields
	}
	if l.Lines <= 0 {
		l.Lines = d.Lines
	}
	if l.FieldLines <= 0 {
		l.FieldLines = d.FieldLines
	}
	return l
}

// Field is one header field instance.
type Field struct {
	// Key is the field name as go-msgauth reads it: the text before the
	// first colon, trimmed; the whole trimmed field when it has no colon.
	Key string
	// Raw is the field as go-msgauth holds it for canonicalisation: each
	// physical line without its line ending, followed by CRLF.
	Raw string
	// Offset is where the field starts in the raw message.
	Offset int
	// Lines is the number of physical lines the field spans.
	Lines int
}

// Is reports whether the field is named name, compared as go-msgauth
// compares names (strings.EqualFold, so Unicode simple folding applies).
func (f Field) Is(name string) bool { return strings.EqualFold(f.Key, name) }

// Value returns the field's value: the text after the first colon,
// unfolded (line breaks removed, the white space after them kept) and
// trimmed. A field without a colon has an empty value.
func (f Field) Value() string {
	_, v, ok := strings.Cut(f.Raw, ":")
	if !ok {
		return ""
	}
	return strings.TrimSpace(strings.ReplaceAll(v, "\r\n", ""))
}

// Header is the header block of one message.
type Header struct {
	// Fields are the fields read, top to bottom. A field cut short by a
	// limit is not among them.
	Fields []Field
	// Size is the length in the raw message of what was read: when
	// Complete, the whole header block with the empty line that ends it, so
	// that the body starts at raw[Size:].
	Size int
	// Complete is true when the header ended with an empty line within the
	// limits.
	Complete bool
	// Exceeded names the limit that stopped reading, or is "".
	Exceeded string
}

// Parse reads the header block at the start of raw within lim.
func Parse(raw []byte, lim Limits) *Header {
	lim = lim.orDefault()
	h := &Header{}
	var (
		cur    strings.Builder // the field in hand
		start  int             // its offset
		lines  int             // its physical lines; 0 when none is in hand
		total  int             // physical lines read
		fields int             // fields started
	)
	flush := func() {
		if lines == 0 {
			return
		}
		raw := cur.String()
		key, _, _ := strings.Cut(raw, ":")
		h.Fields = append(h.Fields, Field{Key: strings.TrimSpace(key), Raw: raw, Offset: start, Lines: lines})
		cur.Reset()
		lines = 0
	}
	pos := 0
	for pos < len(raw) {
		end, next := len(raw), len(raw)
		if i := bytes.IndexByte(raw[pos:], '\n'); i >= 0 {
			end, next = pos+i, pos+i+1
		}
		line := raw[pos:end]
		if end < len(raw) {
			line = bytes.TrimSuffix(line, []byte("\r"))
			if len(line) == 0 {
				flush()
				h.Size, h.Complete = next, true
				return h
			}
		}
		continued := (len(h.Fields) > 0 || lines > 0) && (line[0] == ' ' || line[0] == '\t')
		if !continued {
			fields++
		}
		switch {
		case next > lim.Bytes:
			h.Exceeded = fmt.Sprintf("header longer than %d bytes", lim.Bytes)
		case total >= lim.Lines:
			h.Exceeded = fmt.Sprintf("header longer than %d lines", lim.Lines)
		case continued && lines >= lim.FieldLines:
			h.Exceeded = fmt.Sprintf("a header field folded into more than %d lines", lim.FieldLines)
		case fields > lim.Fields:
			h.Exceeded = fmt.Sprintf("more than %d header fields", lim.Fields)
		}
		if h.Exceeded != "" {
			if continued {
				lines = 0 // the field in hand was cut short: drop it
			}
			flush()
			h.Size = pos
			return h
		}
		if !continued {
			flush()
			start = pos
		}
		cur.Write(line)
		cur.WriteString("\r\n")
		lines++
		total++
		pos = next
	}
	flush()
	h.Size = pos
	return h
}

// Get returns the value of the topmost field named name, or "".
func (h *Header) Get(name string) string {
	for _, f := range h.Fields {
		if f.Is(name) {
			return f.Value()
		}
	}
	return ""
}

// Values returns the values of the fields named name, top to bottom.
func (h *Header) Values(name string) []string {
	var vs []string
	for _, f := range h.Fields {
		if f.Is(name) {
			vs = append(vs, f.Value())
		}
	}
	return vs
}

// Index returns the positions in Fields of the fields named name, top to
// bottom.
func (h *Header) Index(name string) []int {
	var is []int
	for i, f := range h.Fields {
		if f.Is(name) {
			is = append(is, i)
		}
	}
	return is
}

// Has reports whether a field named name is present.
func (h *Header) Has(name string) bool {
	for _, f := range h.Fields {
		if f.Is(name) {
			return true
		}
	}
	return false
}

// Signed returns the positions in Fields of the instances that a DKIM
// signature with the h= list names covers, as RFC 6376 §5.4.2 says and
// go-msgauth's headerPicker does: each name takes the bottom-most instance
// of that name not taken by an earlier occurrence of the same name; a name
// with no instance left (oversigning) takes nothing.
func (h *Header) Signed(names []string) []int {
	taken := make(map[string]int, len(names)) // instances taken, per name
	var out []int
	for _, n := range names {
		n = strings.ToLower(strings.TrimSpace(n))
		skip := taken[n]
		for i := len(h.Fields) - 1; i >= 0; i-- {
			if !h.Fields[i].Is(n) {
				continue
			}
			if skip == 0 {
				out = append(out, i)
				taken[n]++
				break
			}
			skip--
		}
	}
	return out
}

// ReadBlock reads the header block at the start of r, up to and including
// the empty line that ends it, as Parse would split it, but never more than
// one byte past lim's byte limit: enough for Parse to report the limit. r
// is left at the first byte of the body.
func ReadBlock(r *bufio.Reader, lim Limits) ([]byte, error) {
	lim = lim.orDefault()
	var out []byte
	lineStart := 0 // where the line being read began in out
	for {
		chunk, err := r.ReadSlice('\n')
		if room := lim.Bytes + 1 - len(out); len(chunk) > room {
			return append(out, chunk[:room]...), nil // past the limit: Parse says so
		}
		out = append(out, chunk...)
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue // the line goes on
		case errors.Is(err, io.EOF):
			return out, nil
		case err != nil:
			return out, err
		}
		if line := bytes.TrimSuffix(out[lineStart:len(out)-1], []byte("\r")); len(line) == 0 {
			return out, nil // the empty line that ends the header
		}
		lineStart = len(out)
	}
}
