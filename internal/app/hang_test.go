package app_test

import (
	"bytes"
	"context"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/app"
	"github.com/unlockd/unlockd/internal/config"
	"github.com/unlockd/unlockd/internal/intake"
	"github.com/unlockd/unlockd/internal/mailtest"
	"github.com/unlockd/unlockd/internal/outbox"
	"github.com/unlockd/unlockd/internal/senderauth/senderauthtest"
	"github.com/unlockd/unlockd/internal/storetest"
)

// watchReadiness polls /readyz until cond holds for the report, failing
// after within; it fails at once if the mailbox is ever on standby, which
// only another instance holding the lease may cause.
func watchReadiness(t *testing.T, a *app.App, within time.Duration, what string, cond func(readiness) bool) readiness {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		_, r := ready(t, a)
		if st := r.Mailboxes["support"].State; st == "standby" {
			t.Fatalf("mailbox on standby with no other instance: %+v", r)
		}
		if cond(r) {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz never showed %s within %v: %+v", what, within, r)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// metric returns the value of the sample named by series in /metrics.
func metric(t *testing.T, a *app.App, series string) float64 {
	t.Helper()
	_, body := get(t, a, "/metrics")
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("/metrics has no %s", series)
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func retryingWith(substr string) func(readiness) bool {
	return func(r readiness) bool {
		c := r.Mailboxes["support"]
		return c.State == "retrying" && strings.Contains(c.Error, substr)
	}
}

func connected(r readiness) bool { return r.Mailboxes["support"].State == "connected" }

// TestIMAPServerThatNeverGreets: the mailbox's server accepts connections
// and says nothing. Readiness says retrying with that cause (never
// standby: this instance holds the lease), the instance stays ready, and
// the timeouts are counted.
func TestIMAPServerThatNeverGreets(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			silent := mailtest.StartTCP(t, mailtest.Silent)
			cfg := testConfig(t, e, silent.Addr, mailtest.StartSMTP(t).Addr)
			cfg.Mailboxes[0].IMAP.Timeout = config.Duration(300 * time.Millisecond)
			ctx := context.Background()
			logs := &syncBuffer{}
			a, err := app.New(ctx, cfg, slog.New(slog.NewTextHandler(logs, nil)), app.Options{})
			if err != nil {
				t.Fatal(err)
			}
			start(t, ctx, a)
			began := time.Now()
			r := watchReadiness(t, a, 5*time.Second, "retrying on the greeting", retryingWith("greeting"))
			t.Logf("retrying %v after start: %s", time.Since(began).Round(time.Millisecond), r.Mailboxes["support"].Error)
			if code, _ := ready(t, a); code != 200 {
				t.Errorf("/readyz = %d; a mailbox retrying leaves the instance ready", code)
			}
			watchReadiness(t, a, 5*time.Second, "a third attempt", func(readiness) bool { return silent.Connections() >= 3 })
			if n := strings.Count(logs.String(), "level=WARN msg=\"imap session ended; reconnecting\""); n != 1 {
				t.Errorf("the same cause was logged %d times over %d attempts, want once:\n%s", n, silent.Connections(), logs)
			}
			if n := metric(t, a, `unlockd_peer_failures_total{kind="timeout",peer="imap"}`); n < 1 {
				t.Errorf("%v IMAP timeouts counted", n)
			}
			if n := metric(t, a, `unlockd_mailbox_connected{mailbox="support"}`); n != 0 {
				t.Errorf("unlockd_mailbox_connected = %v, want 0", n)
			}
		})
	}
}

// TestIMAPServerStallingMidFetch: the link goes silent in the middle of
// the batch fetch. Readiness says retrying, naming the FETCH; the watcher
// reconnects and every request is decided and answered once.
func TestIMAPServerStallingMidFetch(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			imapSrv := mailtest.StartIMAP(t, mailtest.IMAPOptions{})
			smtpSrv := mailtest.StartSMTP(t)
			signer := senderauthtest.NewSigner(t, "acme.example")
			for i := range 5 {
				imapSrv.Append(t, "INBOX", signer.Sign([]byte("From: it@acme.example\r\nSubject: Unlock: jsmith\r\n"+
					"Message-ID: <stall-"+strconv.Itoa(i)+"@acme.example>\r\n\r\nPlease.\r\n")))
			}
			proxy := mailtest.StartProxy(t, imapSrv.Addr)
			proxy.StallNext(2)
			cfg := testConfig(t, e, proxy.Addr, smtpSrv.Addr)
			cfg.Mailboxes[0].IMAP.Timeout = config.Duration(500 * time.Millisecond)
			ctx := context.Background()
			a := newApp(t, ctx, cfg, app.Options{LookupTXT: signer.LookupTXT})
			seed(t, a)
			start(t, ctx, a)
			began := time.Now()
			r := watchReadiness(t, a, 5*time.Second, "retrying on the FETCH", retryingWith("FETCH"))
			t.Logf("retrying %v after start: %s", time.Since(began).Round(time.Millisecond), r.Mailboxes["support"].Error)
			smtpSrv.WaitMessages(t, 5, 10*time.Second)
			t.Logf("all 5 answered %v after start", time.Since(began).Round(time.Millisecond))
			watchReadiness(t, a, 5*time.Second, "connected again", connected)
			time.Sleep(200 * time.Millisecond) // room for a wrong extra reply
			if n := len(smtpSrv.Messages()); n != 5 {
				t.Errorf("%d replies for 5 requests", n)
			}
			if n, err := a.Store.CountDecisions(ctx, "support"); err != nil || n != 5 {
				t.Errorf("decisions = %d, %v; want 5", n, err)
			}
		})
	}
}

// TestSMTPServerHangingAfterData: the SMTP server takes the reply and
// never answers. Readiness says smtp retrying with the timeout until the
// retry gets through; the reply arrives once.
func TestSMTPServerHangingAfterData(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			imapSrv := mailtest.StartIMAP(t, mailtest.IMAPOptions{})
			smtpSrv := mailtest.StartSMTP(t)
			smtpSrv.FailNext(1, mailtest.SMTPHangData)
			cfg := testConfig(t, e, imapSrv.Addr, smtpSrv.Addr)
			cfg.SMTP.Timeout = config.Duration(300 * time.Millisecond)
			cfg.SenderAuth.Mode = config.SenderAuthOff
			ctx := context.Background()
			a := newApp(t, ctx, cfg, app.Options{Outbox: func(c *outbox.Config) { c.MinBackoff, c.MaxBackoff = time.Second, time.Second }})
			seed(t, a)
			start(t, ctx, a)
			began := time.Now()
			imapSrv.Append(t, "INBOX", []byte("From: it@acme.example\r\nSubject: Unlock: jsmith\r\nMessage-ID: <hang@acme.example>\r\n\r\n.\r\n"))
			r := watchReadiness(t, a, 5*time.Second, "smtp retrying", func(r readiness) bool {
				return r.SMTP.State == "retrying" && strings.Contains(r.SMTP.Error, "timeout")
			})
			t.Logf("smtp retrying %v after the request: %s", time.Since(began).Round(time.Millisecond), r.SMTP.Error)
			smtpSrv.WaitMessages(t, 1, 10*time.Second)
			t.Logf("answered %v after the request", time.Since(began).Round(time.Millisecond))
			watchReadiness(t, a, 3*time.Second, "smtp ok", func(r readiness) bool { return r.SMTP.State == "ok" })
			if n := metric(t, a, `unlockd_peer_failures_total{kind="timeout",peer="smtp"}`); n != 1 {
				t.Errorf("%v SMTP timeouts counted, want 1", n)
			}
			time.Sleep(200 * time.Millisecond)
			if n := len(smtpSrv.Messages()); n != 1 {
				t.Errorf("%d replies recorded, want 1", n)
			}
		})
	}
}

// TestSilentDNSServer: the configured resolver reads queries and answers
// none. The DKIM-signed request is set aside while the mailbox stays
// connected, readiness says DNS is retrying with the cause, and once the
// resolver answers the request is tried again, unlocked and answered.
func TestSilentDNSServer(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			imapSrv := mailtest.StartIMAP(t, mailtest.IMAPOptions{})
			smtpSrv := mailtest.StartSMTP(t)
			signer := senderauthtest.NewSigner(t, "acme.example")
			dns := mailtest.StartDNS(t, map[string]string{signer.RecordName(): signer.Record()})
			dns.Silence(true)
			cfg := testConfig(t, e, imapSrv.Addr, smtpSrv.Addr)
			cfg.SenderAuth.DNSResolver, cfg.SenderAuth.DNSTimeout = dns.Addr, config.Duration(300*time.Millisecond)
			ctx := context.Background()
			a := newApp(t, ctx, cfg, app.Options{Intake: func(c *intake.Config) { c.DeferBackoff = 200 * time.Millisecond }})
			seed(t, a)
			start(t, ctx, a)
			began := time.Now()
			imapSrv.Append(t, "INBOX", signer.Sign([]byte("From: it@acme.example\r\nSubject: Unlock: jsmith\r\n"+
				"Message-ID: <dns@acme.example>\r\n\r\nPlease.\r\n")))
			r := watchReadiness(t, a, 5*time.Second, "DNS retrying", func(r readiness) bool {
				return r.DNS.State == "retrying" && strings.Contains(r.DNS.Error, "timeout")
			})
			t.Logf("DNS retrying %v after the request: %s", time.Since(began).Round(time.Millisecond), r.DNS.Error)
			if !connected(r) {
				t.Errorf("mailbox %+v while one sender's DNS is silent, want it connected", r.Mailboxes["support"])
			}
			if n := metric(t, a, `unlockd_peer_failures_total{kind="timeout",peer="dns"}`); n < 1 {
				t.Errorf("%v DNS timeouts counted", n)
			}
			dns.Silence(false)
			back := time.Now()
			msgs := smtpSrv.WaitMessages(t, 1, 10*time.Second)
			t.Logf("answered %v after DNS came back", time.Since(back).Round(time.Millisecond))
			if !strings.Contains(string(msgs[0].Data), "jsmith: unlocked") {
				t.Errorf("reply is not the unlock:\n%s", msgs[0].Data)
			}
			watchReadiness(t, a, 5*time.Second, "DNS ok again", func(r readiness) bool { return r.DNS.State == "ok" && connected(r) })
		})
	}
}

// syncBuffer is a bytes.Buffer safe for a logger and a test at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
