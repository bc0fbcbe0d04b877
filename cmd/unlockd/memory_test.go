package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/mailtest"
	"github.com/unlockd/unlockd/internal/senderauth/senderauthtest"
	"github.com/unlockd/unlockd/internal/store"
)

// TestMemoryBudgetAgainstDovecot drains, with a separate `unlockd serve`
// (UNLOCKD_TEST_BINARY picks another binary, to compare), 100 signed
// requests carrying 6 MiB screenshots and 20 carrying 12 MiB ones from a
// real Dovecot into SQLite, and checks the process's peak resident memory
// (VmHWM) stays within 150 MB while every message is decided and every
// request under max_message_bytes unlocks. It needs Debian's dovecot-imapd
// and root; without them it is skipped, unless CI is set.
func TestMemoryBudgetAgainstDovecot(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and moves about 900 MB of mail")
	}
	dv, err := mailtest.StartDovecot()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	t.Cleanup(func() { dv.Close() })
	const small, large = 100, 20
	dsn := filepath.Join(t.TempDir(), "unlockd.db")
	st := seedUsers(t, store.SQLite, dsn, small+large)
	signer := senderauthtest.NewSigner(t, "acme.example")
	dns := mailtest.StartDNS(t, map[string]string{signer.RecordName(): signer.Record()})
	for i := range small + large {
		size := 6 << 20
		if i >= small {
			size = 12 << 20
		}
		req := screenshotRequest(signer, fmt.Sprintf("shot-%d@acme.example", i), fmt.Sprintf("user%d", i), size)
		if err := dv.Deliver(req); err != nil {
			t.Fatal(err)
		}
	}
	smtp := mailtest.StartSMTP(t)
	httpAddr := freeAddr(t)
	cfg := writeFile(t, t.TempDir(), "unlockd.yaml", fmt.Sprintf(`database: {driver: sqlite, dsn: %q}
mailboxes:
  - name: support
    imap: {address: %q, tls: none, username: %q, password: %q, processed_folder: Processed, rejected_folder: Rejected}
smtp: {address: %q, tls: none, from: support@unlockd.example}
sender_auth: {mode: dkim, dns_resolver: %q}
http: {listen: %q}
`, dsn, dv.Addr, dv.User, dv.Password, smtp.Addr, dns.Addr, httpAddr))
	bin := unlockdBinary(t)
	began := time.Now()
	p := startServe(t, bin, cfg)
	for dv.Count("INBOX") > 0 || dv.Count("Processed")+dv.Count("Rejected") < small+large {
		if time.Since(began) > 5*time.Minute {
			t.Fatalf("not drained within 5 minutes: %d left\n%s", dv.Count("INBOX"), p.stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	took := time.Since(began)
	peak := vmHWM(t, p.cmd.Process.Pid)
	p.stop(t)
	t.Logf("drained %d requests of 6 MiB and %d of 12 MiB in %v; serve's peak RSS (VmHWM) %d MB", small, large,
		took.Round(10*time.Millisecond), peak>>20)
	if peak > 150<<20 {
		t.Errorf("peak RSS %d MB, want at most 150 MB", peak>>20)
	}
	ctx := context.Background()
	if n, err := st.CountDecisions(ctx, "support"); err != nil || n != small+large {
		t.Errorf("%d decisions, %v; want %d", n, err, small+large)
	}
	active, err := st.ListUsers(ctx, "acme", store.UserFilter{Status: domain.StatusActive, Limit: store.MaxLimit})
	if err != nil || len(active) != small {
		t.Errorf("%d users unlocked, %v; want the %d whose requests were downloaded whole", len(active), err, small)
	}
}

// screenshotRequest is a request signed by s, with Message-ID id, for
// user, carrying a base64 PNG attachment that makes it about size bytes.
func screenshotRequest(s *senderauthtest.Signer, id, user string, size int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: it@acme.example\r\nTo: support@unlockd.example\r\nSubject: Unlock: %s\r\n"+
		"Message-ID: <%s>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"+
		"--b\r\nContent-Type: text/plain\r\n\r\nScreenshot of the error attached.\r\n"+
		"--b\r\nContent-Type: image/png\r\nContent-Disposition: attachment; filename=\"error.png\"\r\n"+
		"Content-Transfer-Encoding: base64\r\n\r\n", user, id)
	line := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0x89, 'P', 'N', 'G'}, 15)[:57]) + "\r\n"
	for b.Len() < size {
		b.WriteString(line)
	}
	b.WriteString("--b--\r\n")
	return s.Sign(b.Bytes())
}
