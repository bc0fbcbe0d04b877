package intake_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"flag"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/intake"
	"github.com/unlockd/unlockd/internal/senderauth"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/storetest"
)

// The hostile corpus is signed with a fixed Ed25519 key, so that the files
// under testdata/hostile verify for real against the record hostileTXT
// serves. `go test -run TestHostileCorpus -update-hostile` writes them anew.
var updateHostile = flag.Bool("update-hostile", false, "rewrite testdata/hostile/*.eml")

var hostileKey = ed25519.NewKeyFromSeed(func() []byte { s := sha256.Sum256([]byte("unlockd hostile corpus")); return s[:] }())

const hostileSelector = "hostile"

// hostileTXT serves the corpus key for acme.example.
func hostileTXT(_ context.Context, name string) ([]string, error) {
	if strings.EqualFold(strings.TrimSuffix(name, "."), hostileSelector+"._domainkey.acme.example") {
		return []string{"v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(hostileKey.Public().(ed25519.PublicKey))}, nil
	}
	return nil, &dnsNotFound{}
}

type dnsNotFound struct{}

func (dnsNotFound) Error() string   { return "no such host" }
func (dnsNotFound) Timeout() bool   { return false }
func (dnsNotFound) Temporary() bool { return false }

// hostileSign signs raw for acme.example over the given fields.
func hostileSign(tb testing.TB, raw string, keys ...string) []byte {
	tb.Helper()
	var out bytes.Buffer
	err := dkim.Sign(&out, strings.NewReader(raw), &dkim.SignOptions{Domain: "acme.example", Selector: hostileSelector,
		Signer: hostileKey, HeaderCanonicalization: dkim.CanonicalizationRelaxed,
		BodyCanonicalization: dkim.CanonicalizationRelaxed, HeaderKeys: keys})
	if err != nil {
		tb.Fatal(err)
	}
	return out.Bytes()
}

// genuine is mail the contact really sent, about something else.
func genuine(id, extraHeader, body string) string {
	return "From: IT Desk <it@acme.example>\r\nTo: support@example.com\r\nSubject: Lunch on Friday?\r\n" +
		"Date: Mon, 30 Nov 2026 10:00:00 +0000\r\nMessage-ID: <" + id + "@acme.example>\r\n" + extraHeader +
		"\r\n" + body
}

var allFields = []string{"From", "To", "Subject", "Date", "Message-ID", "Content-Type", "Content-Transfer-Encoding"}

// hostileCase is one attack: the message as delivered, and what the
// decision must say.
type hostileCase struct {
	file string
	// mode is the sender_auth mode under attack.
	mode senderauth.Mode
	make func(tb testing.TB) []byte
	// why is part of the recorded authentication reason.
	why string
}

var hostileCases = []hostileCase{
	{"subject_prepended.eml", senderauth.ModeDKIM, func(tb testing.TB) []byte {
		return append([]byte("Subject: Unlock: bob\r\n"), hostileSign(tb, genuine("h1", "", "See you there.\r\n"), allFields...)...)
	}, "duplicated header field Subject"},
	{"subject_outside_h.eml", senderauth.ModeDKIM, func(tb testing.TB) []byte {
		return bytes.Replace(hostileSign(tb, genuine("h2", "", "See you there.\r\n"), "From", "To", "Date", "Message-ID"),
			[]byte("Subject: Lunch on Friday?"), []byte("Subject: Unlock: bob"), 1)
	}, `"bob" was found only in the Subject`},
	{"subject_long_s_prepended.eml", senderauth.ModeDKIM, func(tb testing.TB) []byte {
		// go-msgauth compares names with strings.EqualFold: "ſubject" is a
		// Subject to it, so it must be one to the reader too.
		return append([]byte("\u017fubject: Unlock: bob\r\n"), hostileSign(tb, genuine("h3", "", "See you there.\r\n"), allFields...)...)
	}, "duplicated header field Subject"},
	{"content_type_prepended.eml", senderauth.ModeDKIM, func(tb testing.TB) []byte {
		signed := hostileSign(tb, genuine("h4", "Content-Type: text/plain; charset=us-ascii\r\n", "user bob\r\n"), allFields...)
		return append([]byte("Content-Type: text/html\r\n"), signed...)
	}, "duplicated header field Content-Type"},
	{"transfer_encoding_added.eml", senderauth.ModeDKIM, func(tb testing.TB) []byte {
		// Read as plain text the signed body names nobody; read as
		// quoted-printable, as the added unsigned field says, it asks for
		// bob.
		signed := hostileSign(tb, genuine("h5", "", "Our new account=3A bob=2E\r\n"), "From", "To", "Subject", "Date", "Message-ID", "Content-Type")
		return append([]byte("Content-Transfer-Encoding: quoted-printable\r\n"), signed...)
	}, `"bob" was found only in the body`},
	{"from_duplicated.eml", senderauth.ModeDKIM, func(tb testing.TB) []byte {
		signed := hostileSign(tb, genuine("h6", "", "user bob\r\n"), allFields...)
		return append([]byte("From: it@acme.example\r\n"), signed...)
	}, "duplicated header field From"},
	{"sender_duplicated.eml", senderauth.ModeDKIM, func(tb testing.TB) []byte {
		signed := hostileSign(tb, genuine("h7", "Sender: it@acme.example\r\n", "user bob\r\n"), append(allFields, "Sender")...)
		return append([]byte("Sender: it@acme.example\r\n"), signed...)
	}, "duplicated header field Sender"},
	{"date_duplicated.eml", senderauth.ModeDKIM, func(tb testing.TB) []byte {
		signed := hostileSign(tb, genuine("h8", "", "user bob\r\n"), allFields...)
		return append([]byte("Date: Tue, 1 Dec 2026 09:00:00 +0000\r\n"), signed...)
	}, "duplicated header field Date"},
	{"header_folded_past_limit.eml", senderauth.ModeDKIM, func(tb testing.TB) []byte {
		// The fields above the limit are read; the rest is not, and the
		// message cannot count as authenticated.
		signed := hostileSign(tb, strings.Replace(genuine("h9", "", "user bob\r\n"), "Lunch on Friday?", "Unlock: bob", 1), allFields...)
		return bytes.Replace(signed, []byte("\r\n\r\n"), []byte("\r\nX-Filler: a\r\n"+strings.Repeat(" b\r\n", 600)+"\r\n"), 1)
	}, "folded into more than 200 lines"},
	{"ar_quoted_semicolon.eml", senderauth.ModeAuthResults, func(tb testing.TB) []byte {
		return []byte("Authentication-Results: mx.corp.example; dkim=fail header.b=\"x; dkim=pass header.d=acme.example\"\r\n" +
			strings.Replace(genuine("h10", "", "user bob\r\n"), "Lunch on Friday?", "Unlock: bob", 1))
	}, "dkim=fail header.d=none"},
	{"ar_header_i_only.eml", senderauth.ModeAuthResults, func(tb testing.TB) []byte {
		return []byte("Authentication-Results: mx.corp.example; dkim=pass header.d=mailer.example header.i=it@acme.example\r\n" +
			strings.Replace(genuine("h11", "", "user bob\r\n"), "Lunch on Friday?", "Unlock: bob", 1))
	}, "not aligned"},
	{"ar_subject_prepended.eml", senderauth.ModeAuthResults, func(tb testing.TB) []byte {
		// Our MTA verified the genuine signature and said so; the Subject
		// above it was added before it arrived.
		signed := hostileSign(tb, genuine("h12", "", "See you there.\r\n"), allFields...)
		return append([]byte("Authentication-Results: mx.corp.example; dkim=pass header.d=acme.example header.s=hostile; dmarc=pass header.from=acme.example\r\n"+
			"Subject: Unlock: bob\r\n"), signed...)
	}, "duplicated header field Subject"},
	{"ar_subject_outside_h.eml", senderauth.ModeAuthResults, func(tb testing.TB) []byte {
		signed := bytes.Replace(hostileSign(tb, genuine("h13", "", "See you there.\r\n"), "From", "To", "Date", "Message-ID"),
			[]byte("Subject: Lunch on Friday?"), []byte("Subject: Unlock: bob"), 1)
		return append([]byte("Authentication-Results: mx.corp.example; dkim=pass header.d=acme.example header.s=hostile; dmarc=pass header.from=acme.example\r\n"), signed...)
	}, `"bob" was found only in the Subject`},
}

func hostilePath(file string) string { return filepath.Join("testdata", "hostile", file) }

// TestHostileCorpus: every attack is decided, queued as unverified with
// its reason, and unlocks nobody, on both engines.
func TestHostileCorpus(t *testing.T) {
	if *updateHostile {
		for _, c := range hostileCases {
			if err := os.WriteFile(hostilePath(c.file), c.make(t), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		mustAcmeWithBob(t, st)
		for i, c := range hostileCases {
			t.Run(c.file, func(t *testing.T) {
				raw, err := os.ReadFile(hostilePath(c.file))
				if err != nil {
					t.Fatalf("%v (run with -update-hostile to write it)", err)
				}
				// The files were signed when they were written: judge them on
				// a clock of that day, so that signature age does not decide.
				signedAt := signingTime(t, raw)
				p := &intake.Pipeline{Store: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
					Verifier: &senderauth.Verifier{Mode: c.mode, AuthservID: "mx.corp.example", LookupTXT: hostileTXT,
						Now: func() time.Time { return signedAt.Add(time.Minute) }}}
				if _, err := p.Handle(ctx, intake.Message{Mailbox: "support", UIDValidity: 1, UID: uint32(i + 1), Raw: raw}); err != nil {
					t.Fatal(err)
				}
				if u, _ := st.User(ctx, "acme", "bob"); u.Lock == nil {
					t.Fatal("bob was unlocked")
				}
				reqs, err := st.ListRequests(ctx, store.RequestFilter{State: domain.ItemPending})
				if err != nil {
					t.Fatal(err)
				}
				var found bool
				for _, r := range reqs {
					if r.Username != "bob" || !bytes.Contains(raw, []byte("Message-ID: <"+r.MessageID+">")) {
						continue
					}
					found = true
					if r.Authenticated || r.Reason != domain.QueueUnverifiedSender || !strings.Contains(r.AuthReason, c.why) {
						t.Errorf("request = %+v; want queued as unverified, the reason containing %q", r, c.why)
					}
				}
				if !found {
					t.Errorf("no queued request for bob from this message (requests %+v)", reqs)
				}
			})
		}
	})
}

// signingTime returns the t= of the first DKIM signature in raw, or now
// for a message without a signature.
func signingTime(t *testing.T, raw []byte) time.Time {
	t.Helper()
	if !bytes.Contains(raw, []byte("DKIM-Signature:")) {
		return time.Now()
	}
	m := regexp.MustCompile(`(?s)DKIM-Signature:.*?[;\s]t=([0-9]+);`).FindSubmatch(raw)
	if m == nil {
		t.Fatal("a signed corpus file without t=")
	}
	n, err := strconv.ParseInt(string(m[1]), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return time.Unix(n, 0)
}

// mustAcmeWithBob makes org acme with contact it@acme.example and bob
// locked after failed logins; the org sets no hourly limits.
func mustAcmeWithBob(t *testing.T, st *store.Store) {
	t.Helper()
	ctx := context.Background()
	p := domain.DefaultPolicy()
	p.MaxUnverifiedPerHour, p.MaxRequestsPerHour = 0, 0 // the hourly limits are under test on their own
	if _, err := st.CreateOrg(ctx, domain.Org{Slug: "acme", Name: "Acme", Policy: p}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.AddContact(ctx, "acme", domain.Contact{Email: "it@acme.example"}, "test", "cli"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateUser(ctx, "acme", domain.User{Username: "bob",
		Lock: &domain.Lock{Reason: domain.LockFailedLogins, At: time.Now()}}, "test", "cli"); err != nil {
		t.Fatal(err)
	}
}
