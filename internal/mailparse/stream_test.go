package mailparse

import (
	"bytes"
	"io"
	"reflect"
	"runtime"
	"testing"
	"testing/iotest"
)

// TestParseReaderMatchesParse: reading from a stream gives the facts that
// reading the bytes gives, for every corpus file, also when the stream
// hands over one byte at a time.
func TestParseReaderMatchesParse(t *testing.T) {
	for _, r := range corpus {
		raw := MustReadFile(t, r.file)
		want, wantErr := Parse(raw)
		for _, stream := range []io.Reader{bytes.NewReader(raw), iotest.OneByteReader(bytes.NewReader(raw))} {
			got, err := ParseReader(stream, Options{})
			if (err != nil) != (wantErr != nil) {
				t.Fatalf("%s: ParseReader error %v, Parse error %v", r.file, err, wantErr)
			}
			if err == nil && !sameFacts(got, want) {
				t.Errorf("%s: ParseReader = %+v\nParse = %+v", r.file, got, want)
			}
		}
	}
}

// sameFacts compares two parses, apart from the header's internal layout.
func sameFacts(a, b *Message) bool {
	a2, b2 := *a, *b
	a2.Header, b2.Header = nil, nil
	return reflect.DeepEqual(a2, b2) && reflect.DeepEqual(a.Header.Fields, b.Header.Fields)
}

// TestParseReaderAllocatesForTextOnly: a 20 MiB message whose bulk is a
// base64 attachment is parsed from a stream with allocations in proportion
// to its header and text, not to the attachment, which is skipped undecoded.
func TestParseReaderAllocatesForTextOnly(t *testing.T) {
	raw := bigMessage(20 << 20)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	m, err := ParseReader(bytes.NewReader(raw), Options{})
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Usernames) != 2 {
		t.Errorf("Usernames = %+v, want bigone and bigtwo", m.Usernames)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 2<<20 {
		t.Errorf("parsing a 20 MiB message from a stream allocated %d KiB, want under 2 MiB", alloc>>10)
	} else {
		t.Logf("allocated %d KiB", alloc>>10)
	}
}
