package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/intake"
	"github.com/unlockd/unlockd/internal/mailtest"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/storetest"
)

// backlog is how many requests wait in the mailbox when serve starts: four
// intake batches, so SIGTERM lands in the middle (intake decides the batch
// it has fetched ahead before it stops).
const backlog = 4 * intake.DefaultBatchSize

// TestSIGTERMMidBacklogLosesNothing runs the real binary against an IMAP
// server holding a backlog of verified requests, sends it SIGTERM in the
// middle, and starts it again: every request ends with one decision, one
// unlock and one reply, and the mailbox is empty.
func TestSIGTERMMidBacklogLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildUnlockd(t)
	for _, e := range storetest.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			imapSrv := mailtest.StartIMAP(t, mailtest.IMAPOptions{})
			smtpSrv := mailtest.StartSMTP(t)
			dsn := storetest.DSN(t, e)
			s := seedBacklog(t, e.Name, dsn)
			for i := range backlog {
				imapSrv.Append(t, "INBOX", []byte(fmt.Sprintf("From: it@acme.example\r\n"+
					"Authentication-Results: mx.unlockd.test; dmarc=pass header.from=acme.example\r\n"+
					"Subject: Unlock: user%d\r\nMessage-ID: <req-%d@acme.example>\r\n\r\nPlease.\r\n", i, i)))
			}
			cfg := writeFile(t, t.TempDir(), "unlockd.yaml", fmt.Sprintf(`database: {driver: %s, dsn: %q}
mailboxes:
  - name: support
    imap: {address: %q, tls: none, username: %q, password: %q, processed_folder: Processed, rejected_folder: Rejected}
smtp: {address: %q, tls: none, from: support@unlockd.example}
sender_auth: {mode: authentication-results, authserv_id: mx.unlockd.test}
http: {listen: "127.0.0.1:0"}
`, e.Name, dsn, imapSrv.Addr, mailtest.IMAPUser, mailtest.IMAPPassword, smtpSrv.Addr))

			first := startServe(t, bin, cfg)
			waitFor(t, "the first decisions", func() bool { return decisions(t, s) >= 30 })
			first.stop(t)
			stoppedAt := decisions(t, s)
			if stoppedAt >= backlog {
				t.Fatalf("the backlog was finished before SIGTERM arrived; make it larger")
			}
			t.Logf("stopped by SIGTERM after %d of %d decisions, with %d replies sent", stoppedAt, backlog, len(smtpSrv.Messages()))

			second := startServe(t, bin, cfg)
			waitFor(t, "every decision and reply", func() bool {
				return decisions(t, s) == backlog && len(smtpSrv.Messages()) >= backlog
			})
			time.Sleep(200 * time.Millisecond) // room for a wrong extra reply
			second.stop(t)

			replied := map[string]int{}
			for _, m := range smtpSrv.Messages() {
				replied[header(m.Data, "In-Reply-To")]++
			}
			for i := range backlog {
				if n := replied[fmt.Sprintf("<req-%d@acme.example>", i)]; n != 1 {
					t.Errorf("request %d got %d replies, want 1", i, n)
				}
			}
			if n := len(smtpSrv.Messages()); n != backlog {
				t.Errorf("%d replies for %d requests", n, backlog)
			}
			if n := unlocks(t, s); n != backlog {
				t.Errorf("%d unlock audit entries for %d requests", n, backlog)
			}
			if in, done := imapSrv.Count(t, "INBOX"), imapSrv.Count(t, "Processed"); in != 0 || done != backlog {
				t.Errorf("INBOX holds %d and Processed %d, want 0 and %d", in, done, backlog)
			}
		})
	}
}

// buildUnlockd builds the binary under test into the test's folder.
func buildUnlockd(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "unlockd")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// unlockdBinary returns the binary UNLOCKD_TEST_BINARY names, to measure
// another build against the same test, or else builds this one.
func unlockdBinary(t *testing.T) string {
	if bin := os.Getenv("UNLOCKD_TEST_BINARY"); bin != "" {
		return bin
	}
	return buildUnlockd(t)
}

// seedBacklog creates org acme with its contact and backlog users locked
// for failed logins, with no hourly limit.
func seedBacklog(t *testing.T, driver, dsn string) *store.Store {
	return seedUsers(t, driver, dsn, backlog)
}

// seedUsers creates org acme with its contact and n users user0..
// locked for failed logins, with no hourly limit.
func seedUsers(t *testing.T, driver, dsn string, n int) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ctx := context.Background()
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	p := domain.DefaultPolicy()
	p.MaxRequestsPerHour = 0
	if _, err := s.CreateOrg(ctx, domain.Org{Slug: "acme", Name: "Acme", Policy: p}); err != nil {
		t.Fatal(err)
	}
	users := make([]domain.User, n)
	for i := range users {
		users[i] = domain.User{Username: fmt.Sprintf("user%d", i),
			Lock: &domain.Lock{Reason: domain.LockFailedLogins, At: time.Now()}}
	}
	if _, err := s.Import(ctx, "acme", []domain.Contact{{Email: "it@acme.example"}}, users, "test", "cli"); err != nil {
		t.Fatal(err)
	}
	return s
}

// serveProcess is a running `unlockd serve`.
type serveProcess struct {
	cmd    *exec.Cmd
	stderr *lockedBuffer
	done   chan error
}

func startServe(t *testing.T, bin, cfg string) *serveProcess {
	t.Helper()
	return startCommand(t, exec.Command(bin, "serve", "--config", cfg))
}

// startCommand starts cmd, a serve command line, and kills it when the
// test ends.
func startCommand(t *testing.T, cmd *exec.Cmd) *serveProcess {
	t.Helper()
	p := &serveProcess{cmd: cmd, stderr: &lockedBuffer{}, done: make(chan error, 1)}
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() { p.cmd.Process.Kill() })
	return p
}

// stop sends SIGTERM and expects a clean exit.
func (p *serveProcess) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("serve after SIGTERM: %v\n%s", err, p.stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not stop within 30 s of SIGTERM\n%s", p.stderr.String())
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func decisions(t *testing.T, s *store.Store) int {
	t.Helper()
	n, err := s.CountDecisions(context.Background(), "support")
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// unlocks counts the unlock audit entries, a page at a time.
func unlocks(t *testing.T, s *store.Store) int {
	t.Helper()
	n := 0
	for f := (store.AuditFilter{Limit: store.MaxLimit}); ; {
		entries, err := s.ListAudit(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) == 0 {
			return n
		}
		for _, e := range entries {
			if e.Action == domain.ActionUnlock {
				n++
			}
		}
		f.BeforeID = entries[len(entries)-1].ID
	}
}

// header returns the first value of a header field in a raw message.
func header(raw []byte, name string) string {
	head, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	for _, line := range strings.Split(string(head), "\r\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(k, name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
