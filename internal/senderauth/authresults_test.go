package senderauth_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/unlockd/unlockd/internal/senderauth"
	"github.com/unlockd/unlockd/internal/senderauth/senderauthtest"
)

const ourID = "mx.corp.example"

func TestVerifyAuthResults(t *testing.T) {
	tests := []struct {
		name       string
		headers    []string // prepended, topmost first
		from       string
		authservID string // default ourID
		wantPass   bool
		wantReason string
	}{
		{name: "dmarc=pass from our MTA",
			headers:  []string{"Authentication-Results: mx.corp.example; spf=pass smtp.mailfrom=acme.example; dmarc=pass header.from=acme.example"},
			wantPass: true, wantReason: "Authentication-Results from mx.corp.example: spf=pass, dmarc=pass"},
		{name: "authserv-id compared case-insensitively, version accepted",
			headers:  []string{"Authentication-Results: MX.Corp.Example 1; dmarc=pass header.from=acme.example"},
			wantPass: true, wantReason: "dmarc=pass"},
		{name: "no header",
			wantReason: "no Authentication-Results from mx.corp.example"},
		{name: "other authserv-id ignored",
			headers:    []string{"Authentication-Results: mx.google.com; dkim=pass header.d=acme.example; dmarc=pass"},
			wantReason: "no Authentication-Results from mx.corp.example"},
		{name: "other authserv-id on top is not the topmost",
			headers: []string{
				"Authentication-Results: relay.corp.example; dmarc=fail",
				"Authentication-Results: mx.corp.example; dmarc=pass header.from=acme.example",
			},
			wantPass: true, wantReason: "dmarc=pass"},
		{name: "other authserv-id on top cannot override ours",
			headers: []string{
				"Authentication-Results: mx.google.com; dmarc=pass",
				"Authentication-Results: mx.corp.example; dmarc=fail header.from=acme.example",
			},
			wantReason: "Authentication-Results from mx.corp.example: dmarc=fail"},
		{name: "forged pass with our id below the real fail",
			headers: []string{
				"Authentication-Results: mx.corp.example; dkim=none; dmarc=fail header.from=acme.example",
				"Received: from attacker.example by mx.corp.example",
				"Authentication-Results: mx.corp.example; dkim=pass header.d=acme.example; dmarc=pass",
			},
			wantReason: "dmarc=fail"},
		{name: "unparsable topmost header does not fall through to a lower one",
			headers: []string{
				"Authentication-Results: mx.corp.example 2; dmarc=fail",
				"Authentication-Results: mx.corp.example; dmarc=pass",
			},
			wantReason: "unparsable"},
		{name: "comments stripped, including semicolons inside them",
			headers: []string{"Authentication-Results: mx.corp.example (Postfix; v3.8);\r\n" +
				"\tdkim=pass (2048-bit key; unprotected) header.d=acme.example header.s=sel header.b=Ab12;\r\n" +
				"\tdmarc=fail (p=none; dis=none) header.from=acme.example"},
			wantPass: true, wantReason: "dkim=pass header.d=acme.example"},
		{name: "comment hides a would-be pass",
			headers:    []string{"Authentication-Results: mx.corp.example; dmarc=fail (was dmarc=pass; really)"},
			wantReason: "dmarc=fail"},
		{name: "dkim=pass header.d aligned with a subdomain From",
			headers:  []string{"Authentication-Results: mx.corp.example; dkim=pass header.d=acme.example"},
			from:     "mail.acme.example",
			wantPass: true, wantReason: "dkim=pass header.d=acme.example"},
		{name: "dkim=pass header.d unrelated",
			headers:    []string{"Authentication-Results: mx.corp.example; dkim=pass header.d=other.example; dmarc=none"},
			wantReason: "dkim=pass header.d=other.example not aligned with acme.example"},
		{name: "dkim=pass header.d single label",
			headers:    []string{"Authentication-Results: mx.corp.example; dkim=pass header.d=example"},
			wantReason: "not aligned"},
		{name: "dkim=pass with header.i alone never aligns",
			headers:    []string{`Authentication-Results: mx.corp.example; dkim=pass header.i="it@acme.example"`},
			wantReason: "dkim=pass header.d=none not aligned"},
		{name: "dmarc=pass without header.from does not count",
			headers:    []string{"Authentication-Results: mx.corp.example; dmarc=pass"},
			wantReason: "dmarc=pass header.from=none is not acme.example"},
		{name: "a quoted ; ends nothing",
			headers:    []string{`Authentication-Results: mx.corp.example; dkim=fail header.b="x; dkim=pass header.d=acme.example"; dmarc=fail header.from=acme.example`},
			wantReason: "dkim=fail header.d=none, dmarc=fail"},
		{name: "a quoted ; inside the authserv-id position",
			headers:    []string{`Authentication-Results: "mx.corp.example; dmarc=pass header.from=acme.example"; dmarc=fail header.from=acme.example`},
			wantReason: "no Authentication-Results from mx.corp.example"},
		{name: "spaces around = are allowed",
			headers:  []string{"Authentication-Results: mx.corp.example; dmarc = pass header.from = acme.example"},
			wantPass: true, wantReason: "dmarc=pass"},
		{name: "dkim=fail aligned does not pass",
			headers:    []string{"Authentication-Results: mx.corp.example; dkim=fail header.d=acme.example"},
			wantReason: "dkim=fail header.d=acme.example"},
		{name: "dmarc=pass for another From domain",
			headers:    []string{"Authentication-Results: mx.corp.example; dmarc=pass header.from=other.example"},
			wantReason: "dmarc=pass header.from=other.example"},
		{name: "only none",
			headers:    []string{"Authentication-Results: mx.corp.example; none"},
			wantReason: "no dmarc or dkim result"},
		{name: "empty AuthservID never passes",
			headers:    []string{"Authentication-Results: mx.corp.example; dmarc=pass"},
			authservID: "-", wantReason: "no authserv-id configured"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from := tt.from
			if from == "" {
				from = "acme.example"
			}
			id := tt.authservID
			switch id {
			case "":
				id = ourID
			case "-":
				id = ""
			}
			v := &senderauth.Verifier{Mode: senderauth.ModeAuthResults, AuthservID: id,
				LookupTXT: failLookup(t)}
			raw := message(from, tt.headers...)
			for name, verify := range map[string]func(context.Context, []byte, string) (senderauth.Verdict, error){
				"Verify": v.Verify, "VerifyHeader": v.VerifyHeader,
			} {
				got, err := verify(context.Background(), raw, from)
				if err != nil {
					t.Fatalf("%s() error = %v", name, err)
				}
				if got.Pass != tt.wantPass || got.Method != senderauth.MethodAuthResults {
					t.Errorf("%s() = %+v, want Pass %v, Method %q", name, got, tt.wantPass, senderauth.MethodAuthResults)
				}
				if !strings.Contains(got.Reason, tt.wantReason) {
					t.Errorf("%s() Reason = %q, want it to contain %q", name, got.Reason, tt.wantReason)
				}
			}
		})
	}
}

// failLookup is a LookupTXT that must not be called.
func failLookup(tb testing.TB) func(context.Context, string) ([]string, error) {
	return func(_ context.Context, name string) ([]string, error) {
		tb.Errorf("unexpected DNS lookup of %s", name)
		return nil, errNXDomain
	}
}

func TestVerifyAny(t *testing.T) {
	signers(t)
	arPass := "Authentication-Results: mx.corp.example; dmarc=pass header.from=acme.example"
	arFail := "Authentication-Results: mx.corp.example; dmarc=fail"
	tests := []struct {
		name       string
		raw        []byte
		dns        func() *fakeDNS
		wantPass   bool
		wantMethod string
		wantReason []string
		wantTemp   bool
		wantCalls  int64
	}{
		{name: "Authentication-Results alone", raw: message("acme.example", arPass),
			wantPass: true, wantMethod: senderauth.MethodAuthResults, wantReason: []string{"dmarc=pass"}},
		{name: "Authentication-Results passes without a DNS query, even when DNS is down",
			raw: rsaAcme.Sign(message("acme.example", arPass)),
			dns: func() *fakeDNS {
				d := newDNS()
				d.errs[rsaAcme.RecordName()] = errTemporary
				return d
			},
			wantPass: true, wantMethod: senderauth.MethodAuthResults, wantReason: []string{"dmarc=pass"}},
		{name: "DKIM alone", raw: rsaAcme.Sign(message("acme.example")),
			wantPass: true, wantMethod: senderauth.MethodDKIM, wantReason: []string{"dkim=pass d=acme.example"}, wantCalls: 1},
		{name: "DKIM passes where Authentication-Results fails", raw: rsaAcme.Sign(message("acme.example", arFail)),
			wantPass: true, wantMethod: senderauth.MethodDKIM, wantReason: []string{"dkim=pass"}, wantCalls: 1},
		{name: "neither: both reasons", raw: rsaOther.Sign(message("acme.example", arFail)),
			wantMethod: "", wantReason: []string{"dmarc=fail", "d=other.example not aligned"}},
		{name: "Authentication-Results fails and DNS is down: temporary",
			raw: rsaAcme.Sign(message("acme.example", arFail)),
			dns: func() *fakeDNS {
				d := newDNS()
				d.errs[rsaAcme.RecordName()] = errTemporary
				return d
			},
			wantTemp: true, wantCalls: 1},
	}
	for _, mode := range []senderauth.Mode{senderauth.ModeAny, ""} {
		for _, tt := range tests {
			t.Run(string(mode)+"/"+tt.name, func(t *testing.T) {
				dns := newDNS(rsaAcme, rsaOther)
				if tt.dns != nil {
					dns = tt.dns()
				}
				v := &senderauth.Verifier{Mode: mode, AuthservID: ourID, LookupTXT: dns.lookup}
				got, err := v.Verify(context.Background(), tt.raw, "acme.example")
				if tt.wantTemp {
					if !senderauth.IsTemporary(err) {
						t.Fatalf("Verify() = %+v, %v; want a temporary error", got, err)
					}
				} else if err != nil {
					t.Fatalf("Verify() error = %v", err)
				}
				if !tt.wantTemp && (got.Pass != tt.wantPass || got.Method != tt.wantMethod) {
					t.Errorf("Verify() = %+v, want Pass %v Method %q", got, tt.wantPass, tt.wantMethod)
				}
				for _, r := range tt.wantReason {
					if !strings.Contains(got.Reason, r) {
						t.Errorf("Reason = %q, want it to contain %q", got.Reason, r)
					}
				}
				if n := dns.calls.Load(); n != tt.wantCalls {
					t.Errorf("LookupTXT called %d times, want %d", n, tt.wantCalls)
				}
			})
		}
	}
}

func TestVerifyHeader(t *testing.T) {
	signers(t)
	signed := rsaAcme.Sign(message("acme.example"))
	header, _, _ := bytes.Cut(signed, []byte("\r\n\r\n"))
	withAR := rsaAcme.Sign(message("acme.example", "Authentication-Results: mx.corp.example; dkim=pass header.d=acme.example"))
	headerAR, _, _ := bytes.Cut(withAR, []byte("\r\n\r\n"))

	tests := []struct {
		name       string
		mode       senderauth.Mode
		header     []byte
		wantPass   bool
		wantMethod string
		wantReason string
	}{
		{"dkim mode cannot check a header", senderauth.ModeDKIM, header, false, senderauth.MethodDKIM, "DKIM not checked: message body not downloaded"},
		{"any mode without Authentication-Results", senderauth.ModeAny, header, false, "", "not downloaded"},
		{"any mode with Authentication-Results", senderauth.ModeAny, headerAR, true, senderauth.MethodAuthResults, "dkim=pass header.d=acme.example"},
		{"header with its blank line", senderauth.ModeAuthResults, append(headerAR, "\r\n\r\n"...), true, senderauth.MethodAuthResults, "dkim=pass"},
		{"off", senderauth.ModeOff, header, true, senderauth.MethodOff, "off"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := &senderauth.Verifier{Mode: tt.mode, AuthservID: ourID, LookupTXT: failLookup(t),
				Logger: slog.New(slog.DiscardHandler)}
			got, err := v.VerifyHeader(context.Background(), tt.header, "acme.example")
			if err != nil {
				t.Fatalf("VerifyHeader() error = %v", err)
			}
			if got.Pass != tt.wantPass || got.Method != tt.wantMethod || !strings.Contains(got.Reason, tt.wantReason) {
				t.Errorf("VerifyHeader() = %+v, want Pass %v Method %q Reason containing %q",
					got, tt.wantPass, tt.wantMethod, tt.wantReason)
			}
		})
	}
}

func TestVerifyOff(t *testing.T) {
	var logs bytes.Buffer
	v := &senderauth.Verifier{Mode: senderauth.ModeOff, LookupTXT: failLookup(t),
		Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	for range 2 {
		got, err := v.Verify(context.Background(), message("forged.example"), "forged.example")
		if err != nil || !got.Pass || got.Method != senderauth.MethodOff {
			t.Fatalf("Verify() = %+v, %v; want a pass by method off", got, err)
		}
	}
	if n := strings.Count(logs.String(), "level=WARN"); n != 2 {
		t.Errorf("logged %d warnings, want one per call:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "from_domain=forged.example") {
		t.Errorf("warning lacks from_domain:\n%s", logs.String())
	}
}

func TestVerifyUnknownMode(t *testing.T) {
	v := &senderauth.Verifier{Mode: "spf"}
	_, err := v.Verify(context.Background(), message("acme.example"), "acme.example")
	if err == nil || senderauth.IsTemporary(err) {
		t.Fatalf("Verify() error = %v, want a permanent error", err)
	}
	if senderauth.Mode("spf").Valid() || !senderauth.ModeAny.Valid() || !senderauth.Mode("").Valid() {
		t.Error("Mode.Valid() is wrong")
	}
}

func TestSenderauthtestLookupTXT(t *testing.T) {
	signers(t)
	lookup := senderauthtest.LookupTXT(rsaAcme, edAcme)
	if txt, err := lookup(context.Background(), "ED._domainkey.acme.example."); err != nil || len(txt) != 1 || txt[0] != edAcme.Record() {
		t.Errorf("lookup(ed) = %q, %v", txt, err)
	}
	if _, err := lookup(context.Background(), "nope._domainkey.acme.example"); err == nil {
		t.Error("lookup(unknown) succeeded")
	}
}

// testdata/authresults-opendmarc.eml carries the headers Postfix with
// OpenDKIM and OpenDMARC writes: the topmost one, with comments, decides.
func TestVerifyAuthResultsGolden(t *testing.T) {
	raw, err := os.ReadFile("testdata/authresults-opendmarc.eml")
	if err != nil {
		t.Fatal(err)
	}
	v := &senderauth.Verifier{Mode: senderauth.ModeAuthResults, AuthservID: ourID}
	got, err := v.Verify(context.Background(), raw, "acme.example")
	want := senderauth.Verdict{Pass: true, Method: senderauth.MethodAuthResults, Whole: true,
		Reason: "Authentication-Results from mx.corp.example: dmarc=pass"}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Verify() = %+v, %v; want %+v", got, err, want)
	}
}
