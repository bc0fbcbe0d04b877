package intake_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/intake"
	"github.com/unlockd/unlockd/internal/senderauth"
	"github.com/unlockd/unlockd/internal/senderauth/senderauthtest"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/storetest"
)

// TestGenuineMailUnlocks: the coverage rules leave real signed mail alone.
// Each request is signed the way common signers sign, and unlocks its user
// on both engines.
func TestGenuineMailUnlocks(t *testing.T) {
	signer := senderauthtest.NewSigner(t, "acme.example")
	relaxed := dkim.SignOptions{HeaderCanonicalization: dkim.CanonicalizationRelaxed, BodyCanonicalization: dkim.CanonicalizationRelaxed}
	simple := dkim.SignOptions{HeaderCanonicalization: dkim.CanonicalizationSimple, BodyCanonicalization: dkim.CanonicalizationSimple}
	oversigned := relaxed
	oversigned.HeaderKeys = []string{"From", "From", "Subject", "Subject", "To", "Date", "Message-ID", "Content-Type", "Content-Type",
		"Content-Transfer-Encoding", "Content-Transfer-Encoding", "MIME-Version"}
	gmail := relaxed // Gmail's list: no Content-Transfer-Encoding, which its multipart tops lack
	gmail.HeaderKeys = []string{"mime-version", "references", "in-reply-to", "from", "date", "message-id", "subject", "to", "content-type"}
	longSubject := mime.BEncoding.Encode("UTF-8", "Bitte entsperren Sie das Konto – es ist dringend, danke! Unlock: bob")

	tests := []struct {
		name    string
		opts    dkim.SignOptions
		subject string
		header  string // MIME fields
		body    string
		user    string
	}{
		{"relaxed, text in the subject", relaxed, "Unlock: bob", "", "Thanks.\r\n", "bob"},
		// Subjects that merely mention replies and offices are no autoresponder's.
		{"a reply", relaxed, "Re: Unlock: bob", "", "Thanks.\r\n", "bob"},
		{"an office", relaxed, "Office account locked: bob", "", "Thanks.\r\n", "bob"},
		{"asks for a reply", relaxed, "Please reply: unlock bob", "", "Thanks.\r\n", "bob"},
		{"simple, text in the body", simple, "locked out", "", "Please unlock user bob.\r\n", "bob"},
		{"oversigned From and MIME fields", oversigned, "locked out", "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n",
			"Username: bob\r\n", "bob"},
		{"HTML only", relaxed, "locked out", "MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n",
			"<html><body><p>Please <b>unlock</b>: bob</p></body></html>\r\n", "bob"},
		{"quoted-printable", relaxed, "Konto gesperrt", "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n",
			"Gr=FC=DFe, bitte user j=FCrgen entsperren.\r\n", "jürgen"},
		{"base64", relaxed, "locked out", "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n",
			base64.StdEncoding.EncodeToString([]byte("Please unlock: bob\r\n")) + "\r\n", "bob"},
		{"8-bit", relaxed, "Konto für Jürgen", "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n",
			"Bitte Konto entsperren: user jürgen\r\n", "jürgen"},
		{"long encoded subject, folded", relaxed, strings.ReplaceAll(longSubject, "?= =?", "?=\r\n =?"), "", "Danke.\r\n", "bob"},
		{"Gmail multipart/alternative", gmail, "Re: locked out", "MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"b1\"\r\n",
			"--b1\r\nContent-Type: text/plain; charset=\"UTF-8\"\r\n\r\nunlock: bob\r\n\r\n--b1\r\nContent-Type: text/html; charset=\"UTF-8\"\r\n\r\n<div>unlock: bob</div>\r\n--b1--\r\n", "bob"},
	}
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		mustAcmeWithBob(t, st)
		if _, err := st.CreateUser(ctx, "acme", domain.User{Username: "jürgen",
			Lock: &domain.Lock{Reason: domain.LockFailedLogins, At: time.Now()}}, "test", "cli"); err != nil {
			t.Fatal(err)
		}
		p := &intake.Pipeline{Store: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
			Verifier: &senderauth.Verifier{Mode: senderauth.ModeDKIM, LookupTXT: signer.LookupTXT}}
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				raw := fmt.Sprintf("From: IT Desk <it@acme.example>\r\nTo: support@example.com\r\nSubject: %s\r\n"+
					"Date: Mon, 30 Nov 2026 10:00:00 +0000\r\nMessage-ID: <g%d@acme.example>\r\n%s\r\n%s", tt.subject, i, tt.header, tt.body)
				if _, err := p.Handle(ctx, intake.Message{Mailbox: "support", UIDValidity: 1, UID: uint32(i + 1),
					Raw: signer.SignWith([]byte(raw), tt.opts)}); err != nil {
					t.Fatal(err)
				}
				if u, err := st.User(ctx, "acme", tt.user); err != nil || u.Lock != nil {
					reqs, _ := st.ListRequests(ctx, store.RequestFilter{State: domain.ItemPending})
					t.Fatalf("%s still locked (%v); queued: %+v", tt.user, err, reqs)
				}
				relock(t, st, tt.user)
			})
		}
	})
}

// relock locks user again after failed logins, for the next request.
func relock(t *testing.T, st *store.Store, user string) {
	t.Helper()
	for range domain.DefaultPolicy().MaxFailedLogins {
		if _, _, _, err := st.RecordFailedLogin(context.Background(), "acme", user, "test"); err != nil {
			t.Fatal(err)
		}
	}
}
