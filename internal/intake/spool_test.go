package intake_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/unlockd/unlockd/internal/mailtest"
)

// largeRequest is a signed request for user i carrying an attachment of
// about size bytes.
func (f *fixture) largeRequest(i, size int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: it@acme.example\r\nTo: support@example.com\r\nSubject: Unlock: user%d\r\nMessage-ID: <big%d@acme.example>\r\n"+
		"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nScreenshot attached.\r\n"+
		"--b\r\nContent-Type: image/png\r\nContent-Disposition: attachment; filename=\"shot.png\"\r\nContent-Transfer-Encoding: base64\r\n\r\n", i, i)
	line := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0x89, 'P', 'N'}, 19)) + "\r\n"
	for b.Len() < size {
		b.WriteString(line)
	}
	b.WriteString("--b--\r\n")
	return f.signer.Sign(b.Bytes())
}

// TestLargeMailIsStreamed: requests carrying attachments over the spool
// size are fetched one at a time into temporary files, verified and parsed
// from there, and decided like any other (small ones beside them too); the
// files are gone afterwards. An oversized one is decided from its header.
func TestLargeMailIsStreamed(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	f := newFixture(t, sqliteStore(t), 6)
	srv := mailtest.StartIMAP(t, mailtest.IMAPOptions{})
	srv.Append(t, "INBOX", f.signed(0))
	for i := 1; i <= 3; i++ {
		srv.Append(t, "INBOX", f.largeRequest(i, 3<<19)) // over SpoolBytes
	}
	srv.Append(t, "INBOX", f.signed(4))
	srv.Append(t, "INBOX", f.largeRequest(5, 3<<20)) // over MaxMessageBytes
	c := cfg(srv)
	c.SpoolBytes, c.FetchBudget, c.MaxMessageBytes = 1<<20, 4<<20, 2<<20
	start(t, c, f.pipe, f.st)
	waitFor(t, func() bool { return f.decisions(t) == 6 })
	if n := f.unlocked(t); n != 5 {
		t.Errorf("%d users unlocked, want 5 (the oversized request counts as unauthenticated)", n)
	}
	waitFor(t, func() bool {
		left, _ := filepath.Glob(filepath.Join(tmp, "unlockd-mail-*"))
		return len(left) == 0
	})
}
