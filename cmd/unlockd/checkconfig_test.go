package main

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/ldaptest"
	"github.com/unlockd/unlockd/internal/mailtest"
	"github.com/unlockd/unlockd/internal/storetest"
)

// connectRig is a set of in-process peers for check-config --connect: an
// IMAP server speaking implicit TLS with a test CA's certificate, an SMTP
// sink that wants AUTH, and a DNS server.
type connectRig struct {
	imap *mailtest.IMAPServer
	// oauth accepts only XOAUTH2 and OAUTHBEARER with oauthToken.
	oauth *mailtest.IMAPServer
	smtp  *mailtest.SMTPServer
	dns   *mailtest.DNSServer
	ca    *mailtest.TestCA
}

func newConnectRig(t *testing.T) *connectRig {
	ca := mailtest.NewTestCA(t)
	r := &connectRig{ca: ca,
		imap:  mailtest.StartIMAP(t, mailtest.IMAPOptions{TLS: ca.Server, ImplicitTLS: true}),
		oauth: mailtest.StartIMAP(t, mailtest.IMAPOptions{TLS: ca.Server, ImplicitTLS: true, OAuthToken: oauthToken}),
		smtp:  mailtest.StartSMTP(t),
		dns:   mailtest.StartDNS(t, map[string]string{"_dmarc.unlockd.example": "v=DMARC1; p=reject"}),
	}
	r.smtp.RequireAuth()
	return r
}

// The secrets of every configuration below; none may ever be printed.
const (
	metricsSecret = "metrics-token-0123456789"
	wrongIMAP     = "wrong-imap-password-4711"
	wrongSMTP     = "wrong-smtp-password-0815"
	wrongOAuth    = "wrong-oauth-token-2342"
	oauthToken    = "right-oauth-token-1234"
)

// config writes a configuration for the rig, with change applied to its
// settings, and returns its path.
func (r *connectRig) config(t *testing.T, dsn, driver string, change func(m map[string]string)) string {
	t.Helper()
	m := map[string]string{
		"imap_address": r.imap.Addr, "imap_auth": "password: " + mailtest.IMAPPassword, "ca_file": r.ca.CAFile,
		"smtp_address": r.smtp.Addr, "smtp_password": mailtest.SMTPPassword, "dns": r.dns.Addr,
	}
	if change != nil {
		change(m)
	}
	caFile := ""
	if m["ca_file"] != "" {
		caFile = "ca_file: " + m["ca_file"]
	}
	return writeFile(t, t.TempDir(), "unlockd.yaml", fmt.Sprintf(`database:
  driver: %s
  dsn: %q
mailboxes:
  - name: support
    imap:
      address: %s
      tls: implicit
      %s
      username: %s
      %s
      processed_folder: unlockd/processed
      rejected_folder: unlockd/rejected
smtp:
  address: %s
  tls: none
  username: %s
  password: %s
  from: Support <support@unlockd.example>
sender_auth:
  mode: dkim
  dns_resolver: %s
http:
  metrics_token: %s
`, driver, dsn, m["imap_address"], caFile, mailtest.IMAPUser, m["imap_auth"], m["smtp_address"], mailtest.SMTPUser,
		m["smtp_password"], m["dns"], metricsSecret))
}

// checkLine finds the line of the check named name.
func checkLine(t *testing.T, out, name string) string {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 1 && strings.HasPrefix(strings.Join(f[1:], " "), name) {
			return l
		}
	}
	t.Fatalf("no line for %q in:\n%s", name, out)
	return ""
}

// wantNoSecret fails when any secret of the rig's configurations shows.
func wantNoSecret(t *testing.T, r result) {
	t.Helper()
	for _, secret := range []string{mailtest.IMAPPassword, mailtest.SMTPPassword, metricsSecret, wrongIMAP, wrongSMTP, wrongOAuth} {
		if strings.Contains(r.stdout+r.stderr, secret) {
			t.Errorf("the output shows the secret %q:\n%s%s", secret, r.stdout, r.stderr)
		}
	}
}

var checkVerdict = regexp.MustCompile(`(?m)^(ok|warn|FAIL|skip) `)

// TestCheckConfigConnect: every check passes against working peers and a
// real store; a wrong password, an unknown CA, a closed port and a wrong
// token each fail the check they belong to, named, with exit 1, and no
// secret is ever printed.
func TestCheckConfigConnect(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			rig := newConnectRig(t)
			dsn := storetest.DSN(t, e)
			cfg := rig.config(t, dsn, e.Name, nil)
			runCLI(t, "", "migrate", "--config", cfg).want(t, exitOK)
			r := runCLI(t, "", "check-config", "--config", cfg, "--connect")
			r.want(t, exitOK)
			wantNoSecret(t, r)
			t.Logf("check-config --connect:\n%s", r.stdout)
			if n := len(checkVerdict.FindAllString(r.stdout, -1)); n != 7 || !strings.Contains(r.stdout, "all 7 checks passed") {
				t.Errorf("%d checks, want 7:\n%s", n, r.stdout)
			}
			for name, want := range map[string]string{
				"database":                      "connected, at migration",
				"mailbox support: connect":      "certificate localhost, issued by unlockd test CA",
				"mailbox support: login":        "LOGIN as " + mailtest.IMAPUser,
				"mailbox support: folders":      "unlockd/processed: created; unlockd/rejected: created",
				"mailbox support: capabilities": "IDLE, MOVE",
				"smtp":                          "AUTH as " + mailtest.SMTPUser + "; no mail sent",
				"dns":                           "TXT _dmarc.unlockd.example through " + rig.dns.Addr + ": 1 record",
			} {
				verdict := "ok "
				if name == "mailbox support: connect" {
					// The test CA's certificates last a day.
					verdict, want = "warn ", want+", valid until"
				}
				if l := checkLine(t, r.stdout, name); !strings.HasPrefix(l, verdict) || !strings.Contains(l, want) {
					t.Errorf("%s: %q, want %s and %q", name, l, verdict, want)
				}
			}
			if l := checkLine(t, r.stdout, "mailbox support: connect"); !strings.HasSuffix(l, "the server's certificate expires within 14 days") {
				t.Errorf("connect: %q, want the expiry warning", l)
			}
			if len(rig.smtp.Messages()) != 0 {
				t.Error("the check sent mail")
			}
			// The folders exist now, as serve would have made them.
			if l := checkLine(t, runCLI(t, "", "check-config", "--config", cfg, "--connect").stdout, "mailbox support: folders"); !strings.Contains(l, "unlockd/processed: present") {
				t.Errorf("second run: %q", l)
			}

			// A token from the command logs in; the token is never printed.
			r = runCLI(t, "", "check-config", "--connect", "--config", rig.config(t, dsn, e.Name, func(m map[string]string) {
				m["imap_address"], m["imap_auth"] = rig.oauth.Addr, "oauth2_token_command: echo "+oauthToken
			}))
			r.want(t, exitOK)
			if l := checkLine(t, r.stdout, "mailbox support: login"); !strings.Contains(l, "XOAUTH2 with a token from oauth2_token_command") ||
				strings.Contains(r.stdout, oauthToken) {
				t.Errorf("login with a token: %q", l)
			}

			for _, tt := range []struct {
				name   string
				change func(map[string]string)
				failed string // the check that fails
				want   string
				skip   []string // checks not tried after it
			}{
				{"wrong IMAP password", func(m map[string]string) { m["imap_auth"] = "password: " + wrongIMAP },
					"mailbox support: login", "intake: login", []string{"mailbox support: folders", "mailbox support: capabilities"}},
				{"unknown CA", func(m map[string]string) { m["ca_file"] = "" },
					"mailbox support: connect", "certificate signed by unknown authority (a private CA? name its PEM file in ca_file)",
					[]string{"mailbox support: login"}},
				{"closed SMTP port", func(m map[string]string) { m["smtp_address"] = freeAddr(t) },
					"smtp", "connection refused", nil},
				{"closed IMAP port", func(m map[string]string) { m["imap_address"] = freeAddr(t) },
					"mailbox support: connect", "connection refused", nil},
				{"wrong SMTP password", func(m map[string]string) { m["smtp_password"] = wrongSMTP },
					"smtp", "535", nil},
				{"wrong OAuth token", func(m map[string]string) {
					m["imap_address"], m["imap_auth"] = rig.oauth.Addr, "oauth2_token_command: echo "+wrongOAuth
				}, "mailbox support: login", "intake: oauth2 authentication", nil},
			} {
				t.Run(tt.name, func(t *testing.T) {
					r := runCLI(t, "", "check-config", "--config", rig.config(t, dsn, e.Name, tt.change), "--connect")
					r.want(t, exitFailure, "1 of 7 checks failed")
					wantNoSecret(t, r)
					if l := checkLine(t, r.stdout, tt.failed); !strings.HasPrefix(l, "FAIL ") || !strings.Contains(l, tt.want) {
						t.Errorf("%q, want FAIL with %q", l, tt.want)
					}
					for _, name := range tt.skip {
						if l := checkLine(t, r.stdout, name); !strings.HasPrefix(l, "skip ") {
							t.Errorf("%q, want skip", l)
						}
					}
					if l := checkLine(t, r.stdout, "database"); !strings.HasPrefix(l, "ok ") {
						t.Errorf("database: %q", l)
					}
				})
			}
		})
	}
}

// TestCheckConfigConnectNewDatabase: a database that is not set up yet is
// no failure, and check-config creates no SQLite file.
func TestCheckConfigConnectNewDatabase(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "new.db")
	cfg := writeFile(t, dir, "unlockd.yaml", fmt.Sprintf("database:\n  driver: sqlite\n  dsn: %q\n", db))
	r := runCLI(t, "", "check-config", "--config", cfg, "--connect")
	r.want(t, exitOK)
	if l := checkLine(t, r.stdout, "database"); !strings.Contains(l, "does not exist yet") {
		t.Errorf("database: %q", l)
	}
	if _, err := filepath.Glob(db + "*"); err != nil {
		t.Fatal(err)
	}
	if m, _ := filepath.Glob(db + "*"); len(m) != 0 {
		t.Errorf("check-config created %v", m)
	}
	runCLI(t, "", "migrate", "--config", cfg).want(t, exitOK)
	r = runCLI(t, "", "check-config", "--config", cfg, "--connect")
	if l := checkLine(t, r.stdout, "database"); !strings.Contains(l, "none pending") {
		t.Errorf("database after migrate: %q", l)
	}
}

// TestCheckConfigConnectDirectories: each directory gets a line — a real
// slapd answers; a wrong bind password fails that line alone, without
// printing it; an org naming a directory that is not configured fails the
// database line, naming the org and the key.
func TestCheckConfigConnectDirectories(t *testing.T) {
	slapd := ldaptest.Start(t)
	e := storetest.Engines()[0]
	dsn := storetest.DSN(t, e)
	const wrongBind = "wrong-bind-password-1312"
	dir := func(name, password string) string {
		return fmt.Sprintf(`  - name: %s
    kind: ldap
    server: openldap
    url: %s
    start_tls: true
    ca_file: %s
    bind_dn: %q
    bind_password: %s
    base_dn: "ou={org},%s"
    user_filter: "(uid={username})"
    timeout: 3s
`, name, slapd.URL(), slapd.CAFile(), ldaptest.ServiceDN, password, ldaptest.Suffix)
	}
	cfg := writeFile(t, t.TempDir(), "unlockd.yaml", fmt.Sprintf("database: {driver: %s, dsn: %q}\ndirectories:\n%s%s",
		e.Name, dsn, dir("corp", ldaptest.ServicePassword), dir("bad", wrongBind)))
	runCLI(t, "", "migrate", "--config", cfg).want(t, exitOK)
	r := runCLI(t, "", "check-config", "--config", cfg, "--connect")
	r.want(t, exitFailure)
	if l := checkLine(t, r.stdout, "directory corp"); !strings.HasPrefix(l, "ok") {
		t.Errorf("directory corp: %q", l)
	}
	if l := checkLine(t, r.stdout, "directory bad"); !strings.HasPrefix(l, "FAIL") || !strings.Contains(l, "credentials") {
		t.Errorf("directory bad: %q", l)
	}
	if strings.Contains(r.stdout+r.stderr, wrongBind) || strings.Contains(r.stdout+r.stderr, ldaptest.ServicePassword) {
		t.Errorf("a bind password is printed:\n%s%s", r.stdout, r.stderr)
	}
	s := openConfigStore(t, cfg)
	if _, err := s.CreateOrg(context.Background(), domain.Org{Slug: "acme", Name: "Acme", Policy: domain.DefaultPolicy(), Directory: "gone"}); err != nil {
		t.Fatal(err)
	}
	r = runCLI(t, "", "check-config", "--config", cfg, "--connect")
	if l := checkLine(t, r.stdout, "database"); !strings.HasPrefix(l, "FAIL") ||
		!strings.Contains(l, `org "acme": directory "gone" is not configured (directories[].name)`) {
		t.Errorf("database: %q", l)
	}
}
