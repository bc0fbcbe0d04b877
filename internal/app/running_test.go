package app_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/unlockd/unlockd/internal/app"
	"github.com/unlockd/unlockd/internal/mailtest"
	"github.com/unlockd/unlockd/internal/senderauth/senderauthtest"
	"github.com/unlockd/unlockd/internal/storetest"
)

// running is the whole program, started through app.New and Run on
// engine e against in-process peers, with org acme seeded (seed).
type running struct {
	*app.App
	IMAP   *mailtest.IMAPServer
	SMTP   *mailtest.SMTPServer
	Signer *senderauthtest.Signer
	Ctx    context.Context
	cancel context.CancelFunc
	done   chan error
}

// startApp starts the program; stop ends it, and the test's cleanup does
// when it was not called.
func startApp(t *testing.T, e storetest.Engine) *running {
	t.Helper()
	r := &running{IMAP: mailtest.StartIMAP(t, mailtest.IMAPOptions{}), SMTP: mailtest.StartSMTP(t),
		Signer: senderauthtest.NewSigner(t, "acme.example"), done: make(chan error, 1)}
	r.Ctx, r.cancel = context.WithCancel(context.Background())
	t.Cleanup(r.cancel)
	a, err := app.New(r.Ctx, testConfig(t, e, r.IMAP.Addr, r.SMTP.Addr), slog.New(slog.NewTextHandler(io.Discard, nil)),
		app.Options{LookupTXT: r.Signer.LookupTXT})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	r.App = a
	seed(t, a)
	go func() { r.done <- a.Run(r.Ctx) }()
	return r
}

// stop ends the program and checks that Run returns, without error.
func (r *running) stop(t *testing.T) {
	t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("Run after stop: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Run did not stop")
	}
}
