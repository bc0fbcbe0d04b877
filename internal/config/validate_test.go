package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// validConfig returns a configuration that passes Validate, for tests to
// break one rule at a time.
func validConfig() *Config {
	c := Default()
	m := DefaultMailbox("support")
	m.IMAP.Address = "imap.example.com:993"
	m.IMAP.Username = "support@example.com"
	m.IMAP.Password = "secret"
	c.Mailboxes = []Mailbox{m}
	c.SMTP.Address = "smtp.example.com:587"
	c.SMTP.From = "support@example.com"
	return c
}

// MustWriteFile writes content to name under dir and returns its path.
func MustWriteFile(tb testing.TB, dir, name, content string) string {
	tb.Helper()
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

// MustWriteCA writes a self-signed PEM certificate to name under dir.
func MustWriteCA(tb testing.TB, dir, name string) string {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "test CA"},
		NotBefore:             time.Unix(0, 0),
		NotAfter:              time.Unix(1<<33, 0),
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	return MustWriteFile(tb, dir, name, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
}

// problemLines returns err's problems as "path: message" strings, failing
// the test when err is not a *Problems.
func problemLines(tb testing.TB, err error) []string {
	tb.Helper()
	var ps *Problems
	if !errors.As(err, &ps) {
		tb.Fatalf("error %v (%T) is not a *Problems", err, err)
	}
	lines := make([]string, len(ps.List))
	for i, p := range ps.List {
		lines[i] = p.String()
	}
	return lines
}

func TestDefaultValidates(t *testing.T) {
	if err := Default().Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
	if err := validConfig().Validate(); err != nil {
		t.Fatalf("validConfig().Validate() = %v", err)
	}
}

func TestValidate(t *testing.T) {
	dir := t.TempDir()
	ca := MustWriteCA(t, dir, "ca.pem")
	notPEM := MustWriteFile(t, dir, "not.pem", "hello\n")
	missing := filepath.Join(dir, "missing.pem")

	tests := []struct {
		name   string
		change func(c *Config)
		want   []string // every problem expected, in order; nil means valid
	}{
		// database
		{"driver unknown", func(c *Config) { c.Database.Driver = "mysql" },
			[]string{`database.driver: invalid value "mysql": must be sqlite or postgres`}},
		{"driver empty", func(c *Config) { c.Database.Driver = "" },
			[]string{`database.driver: required; one of sqlite or postgres`}},
		{"postgres without dsn", func(c *Config) { c.Database = Database{Driver: DriverPostgres} },
			[]string{`database.dsn: required when driver is postgres (e.g. postgres://unlockd@127.0.0.1:5432/unlockd?sslmode=disable)`}},
		{"postgres url", func(c *Config) {
			c.Database = Database{Driver: DriverPostgres, DSN: "postgres://u:p@db:5432/unlockd?sslmode=require"}
		}, nil},
		{"postgres key=value", func(c *Config) { c.Database = Database{Driver: DriverPostgres, DSN: "host=db user=u"} }, nil},
		{"postgres dsn_file", func(c *Config) { c.Database = Database{Driver: DriverPostgres, DSNFile: "/run/dsn"} }, nil},
		{"postgres bad dsn", func(c *Config) { c.Database = Database{Driver: DriverPostgres, DSN: "db.example.com"} },
			[]string{`database.dsn: expected a postgres:// URL or key=value settings`}},
		{"postgres bad url hides password", func(c *Config) {
			c.Database = Database{Driver: DriverPostgres, DSN: "postgres://u:hunter2@db:port/x"}
		}, []string{`database.dsn: not a valid PostgreSQL URL`}},
		{"sqlite given a postgres url", func(c *Config) { c.Database.DSN = "postgres://db/unlockd" },
			[]string{`database.dsn: is a PostgreSQL URL but driver is sqlite; set database.driver: postgres`}},
		{"sqlite without dsn", func(c *Config) { c.Database.DSN = "" },
			[]string{`database.dsn: required (the SQLite database file)`}},
		{"sqlite in a folder that exists", func(c *Config) { c.Database.DSN = filepath.Join(dir, "u.db") }, nil},
		{"sqlite file URI in a folder that exists", func(c *Config) { c.Database.DSN = "file:" + filepath.Join(dir, "u.db") + "?cache=shared" }, nil},
		{"sqlite in memory", func(c *Config) { c.Database.DSN = ":memory:" }, nil},
		{"sqlite in a missing folder", func(c *Config) { c.Database.DSN = filepath.Join(dir, "nope", "u.db") },
			[]string{`database.dsn: the folder ` + filepath.Join(dir, "nope") + ` of the SQLite file ` + filepath.Join(dir, "nope", "u.db") + ` does not exist; create it first`}},
		{"postgres pool", func(c *Config) {
			c.Database = Database{Driver: DriverPostgres, DSN: "host=db", MaxOpenConns: 32, MaxIdleConns: 8}
		}, nil},
		{"postgres pool at its bound", func(c *Config) {
			c.Database = Database{Driver: DriverPostgres, DSN: "host=db", MaxOpenConns: MaxConns, MaxIdleConns: MaxConns}
		}, nil},
		{"postgres idle alone", func(c *Config) {
			c.Database = Database{Driver: DriverPostgres, DSN: "host=db", MaxIdleConns: 64}
		}, nil},
		{"postgres pool negative", func(c *Config) {
			c.Database = Database{Driver: DriverPostgres, DSN: "host=db", MaxOpenConns: -1, MaxIdleConns: -2}
		}, []string{`database.max_open_conns: must be between 1 and 1000 (absent or 0: the default)`,
			`database.max_idle_conns: must be between 1 and 1000 (absent or 0: the default)`}},
		{"postgres pool too large", func(c *Config) {
			c.Database = Database{Driver: DriverPostgres, DSN: "host=db", MaxOpenConns: MaxConns + 1}
		}, []string{`database.max_open_conns: must be between 1 and 1000 (absent or 0: the default)`}},
		{"postgres more idle than open", func(c *Config) {
			c.Database = Database{Driver: DriverPostgres, DSN: "host=db", MaxOpenConns: 8, MaxIdleConns: 9}
		}, []string{`database.max_idle_conns: 9 is more than max_open_conns (8)`}},
		{"sqlite pool", func(c *Config) { c.Database.MaxOpenConns, c.Database.MaxIdleConns = 4, 4 },
			[]string{`database.max_open_conns: applies to driver postgres only (SQLite uses one connection)`,
				`database.max_idle_conns: applies to driver postgres only (SQLite uses one connection)`}},

		// mailboxes
		{"name required", func(c *Config) { c.Mailboxes[0].Name = "" },
			[]string{`mailboxes[0].name: required`}},
		{"name unique", func(c *Config) { c.Mailboxes = append(c.Mailboxes, c.Mailboxes[0]) },
			[]string{`mailboxes[1].name: duplicate name "support" (also used by mailboxes[0])`}},
		{"imap address required", func(c *Config) { c.Mailboxes[0].IMAP.Address = "" },
			[]string{`mailboxes[0].imap.address: required`}},
		{"imap address missing port", func(c *Config) {
			second := c.Mailboxes[0]
			second.Name, second.IMAP.Address = "sales", "imap.example.com"
			c.Mailboxes = append(c.Mailboxes, second)
		}, []string{`mailboxes[1].imap.address: missing port`}},
		{"imap address bad port", func(c *Config) { c.Mailboxes[0].IMAP.Address = "imap.example.com:99999" },
			[]string{`mailboxes[0].imap.address: invalid port "99999"`}},
		{"imap address port zero", func(c *Config) { c.Mailboxes[0].IMAP.Address = "imap.example.com:0" },
			[]string{`mailboxes[0].imap.address: invalid port "0"`}},
		{"imap address missing host", func(c *Config) { c.Mailboxes[0].IMAP.Address = ":993" },
			[]string{`mailboxes[0].imap.address: missing host`}},
		{"imap address garbage", func(c *Config) { c.Mailboxes[0].IMAP.Address = "::1:993" },
			[]string{`mailboxes[0].imap.address: invalid address "::1:993": expected host:port`}},
		{"imap tls unknown", func(c *Config) { c.Mailboxes[0].IMAP.TLS = "ssl" },
			[]string{`mailboxes[0].imap.tls: invalid value "ssl": must be implicit, starttls or none`}},
		{"imap tls starttls", func(c *Config) { c.Mailboxes[0].IMAP.TLS = TLSStartTLS }, nil},
		{"imap tls none remote", func(c *Config) { c.Mailboxes[0].IMAP.TLS = TLSNone },
			[]string{`mailboxes[0].imap.tls: none is only allowed for a loopback host (localhost, 127.0.0.0/8 or ::1), not "imap.example.com"; use implicit or starttls`}},
		{"imap tls none private ip", func(c *Config) {
			c.Mailboxes[0].IMAP.TLS, c.Mailboxes[0].IMAP.Address = TLSNone, "10.0.0.1:143"
		}, []string{`mailboxes[0].imap.tls: none is only allowed for a loopback host (localhost, 127.0.0.0/8 or ::1), not "10.0.0.1"; use implicit or starttls`}},
		{"imap tls none localhost", func(c *Config) {
			c.Mailboxes[0].IMAP.TLS, c.Mailboxes[0].IMAP.Address = TLSNone, "localhost:143"
		}, nil},
		{"imap tls none 127/8", func(c *Config) {
			c.Mailboxes[0].IMAP.TLS, c.Mailboxes[0].IMAP.Address = TLSNone, "127.1.2.3:143"
		}, nil},
		{"imap tls none ::1", func(c *Config) {
			c.Mailboxes[0].IMAP.TLS, c.Mailboxes[0].IMAP.Address = TLSNone, "[::1]:143"
		}, nil},
		{"imap ca_file valid", func(c *Config) { c.Mailboxes[0].IMAP.CAFile = ca }, nil},
		{"imap ca_file missing", func(c *Config) { c.Mailboxes[0].IMAP.CAFile = missing },
			[]string{`mailboxes[0].imap.ca_file: not usable: open ` + missing + `: no such file or directory`}},
		{"imap ca_file not pem", func(c *Config) { c.Mailboxes[0].IMAP.CAFile = notPEM },
			[]string{`mailboxes[0].imap.ca_file: ` + notPEM + ` holds no PEM certificate`}},
		{"imap username required", func(c *Config) { c.Mailboxes[0].IMAP.Username = "" },
			[]string{`mailboxes[0].imap.username: required`}},
		{"imap credentials required", func(c *Config) { c.Mailboxes[0].IMAP.Password = "" },
			[]string{`mailboxes[0].imap.password: one of password, password_file or oauth2_token_command is required`}},
		{"imap password_file", func(c *Config) {
			c.Mailboxes[0].IMAP.Password, c.Mailboxes[0].IMAP.PasswordFile = "", "/run/pw"
		}, nil},
		{"imap oauth2 only", func(c *Config) {
			c.Mailboxes[0].IMAP.Password, c.Mailboxes[0].IMAP.OAuth2TokenCommand = "", "get-token"
		}, nil},
		{"imap password and oauth2", func(c *Config) { c.Mailboxes[0].IMAP.OAuth2TokenCommand = "get-token" },
			[]string{`mailboxes[0].imap.oauth2_token_command: cannot be combined with password or password_file`}},
		{"imap mailbox required", func(c *Config) { c.Mailboxes[0].IMAP.Mailbox = "" },
			[]string{`mailboxes[0].imap.mailbox: required (the folder to watch, usually INBOX)`}},
		{"imap folders equal mailbox", func(c *Config) {
			c.Mailboxes[0].IMAP.ProcessedFolder, c.Mailboxes[0].IMAP.RejectedFolder = "INBOX", "INBOX"
		}, []string{
			`mailboxes[0].imap.processed_folder: must differ from mailbox "INBOX"`,
			`mailboxes[0].imap.rejected_folder: must differ from mailbox "INBOX"`,
		}},
		{"imap poll_interval zero", func(c *Config) { c.Mailboxes[0].IMAP.PollInterval = 0 },
			[]string{`mailboxes[0].imap.poll_interval: must be positive`}},
		{"imap poll_interval negative", func(c *Config) { c.Mailboxes[0].IMAP.PollInterval = Duration(-time.Second) },
			[]string{`mailboxes[0].imap.poll_interval: must be positive`}},
		{"imap timeout zero", func(c *Config) { c.Mailboxes[0].IMAP.Timeout = 0 },
			[]string{`mailboxes[0].imap.timeout: must be positive`}},
		{"smtp timeout zero", func(c *Config) { c.SMTP.Timeout = 0 }, []string{`smtp.timeout: must be positive`}},
		{"dns timeout negative", func(c *Config) { c.SenderAuth.DNSTimeout = Duration(-time.Second) },
			[]string{`sender_auth.dns_timeout: must be positive`}},

		// smtp
		{"smtp address required with mailboxes", func(c *Config) { c.SMTP.Address = "" },
			[]string{`smtp.address: required when mailboxes are configured (replies are sent over SMTP)`}},
		{"smtp address optional without mailboxes", func(c *Config) { c.SMTP.Address, c.Mailboxes = "", nil }, nil},
		{"smtp address missing port", func(c *Config) { c.SMTP.Address = "smtp.example.com" },
			[]string{`smtp.address: missing port`}},
		{"smtp tls unknown", func(c *Config) { c.SMTP.TLS = "tls" },
			[]string{`smtp.tls: invalid value "tls": must be implicit, starttls or none`}},
		{"smtp tls unknown without address", func(c *Config) { c.SMTP.TLS, c.SMTP.Address, c.Mailboxes = "tls", "", nil },
			[]string{`smtp.tls: invalid value "tls": must be implicit, starttls or none`}},
		{"smtp tls none remote", func(c *Config) { c.SMTP.TLS = TLSNone },
			[]string{`smtp.tls: none is only allowed for a loopback host (localhost, 127.0.0.0/8 or ::1), not "smtp.example.com"; use implicit or starttls`}},
		{"smtp tls none loopback", func(c *Config) { c.SMTP.TLS, c.SMTP.Address = TLSNone, "127.0.0.1:1025" }, nil},
		{"smtp ca_file missing", func(c *Config) { c.SMTP.CAFile = missing },
			[]string{`smtp.ca_file: not usable: open ` + missing + `: no such file or directory`}},
		{"smtp from required", func(c *Config) { c.SMTP.From = "" },
			[]string{`smtp.from: required when smtp.address is set`}},
		{"smtp from with name", func(c *Config) { c.SMTP.From = "Support <support@example.com>" }, nil},
		{"smtp from with a quoted name", func(c *Config) { c.SMTP.From = `"Support, Acme" <support@example.com>` }, nil},
		{"smtp from with a UTF-8 name", func(c *Config) { c.SMTP.From = "Büro Zürich <buero@example.com>" }, nil},
		{"smtp from in brackets", func(c *Config) { c.SMTP.From = "<support@example.com>" }, nil},
		{"smtp from invalid", func(c *Config) { c.SMTP.From = "support" },
			[]string{`smtp.from: "support" is not an RFC 5322 mailbox (write e.g. Support <support@example.com> or support@example.com)`}},
		{"smtp from without brackets", func(c *Config) { c.SMTP.From = "Support support@example.com" },
			[]string{`smtp.from: "Support support@example.com" is not an RFC 5322 mailbox (write e.g. Support <support@example.com> or support@example.com)`}},
		{"smtp from two addresses", func(c *Config) { c.SMTP.From = "a@example.com, b@example.com" },
			[]string{`smtp.from: "a@example.com, b@example.com" is not an RFC 5322 mailbox (write e.g. Support <support@example.com> or support@example.com)`}},
		{"smtp from without domain", func(c *Config) { c.SMTP.From = "Support <support@>" },
			[]string{`smtp.from: "Support <support@>" is not an RFC 5322 mailbox (write e.g. Support <support@example.com> or support@example.com)`}},
		{"smtp auth", func(c *Config) { c.SMTP.Username, c.SMTP.Password = "u", "p" }, nil},
		{"smtp username without password", func(c *Config) { c.SMTP.Username = "u" },
			[]string{`smtp.password: required when smtp.username is set`}},
		{"smtp password without username", func(c *Config) { c.SMTP.PasswordFile = "/run/pw" },
			[]string{`smtp.username: required when a password is set`}},
		{"smtp max_attempts", func(c *Config) { c.SMTP.MaxAttempts = 0 },
			[]string{`smtp.max_attempts: must be at least 1`}},

		// sender_auth
		{"sender_auth mode unknown", func(c *Config) { c.SenderAuth.Mode = "spf" },
			[]string{`sender_auth.mode: invalid value "spf": must be dkim, authentication-results, any or off`}},
		{"sender_auth authserv_id required", func(c *Config) { c.SenderAuth.Mode = SenderAuthResults },
			[]string{`sender_auth.authserv_id: required when mode is authentication-results (the host name your mail server writes in Authentication-Results)`}},
		{"sender_auth authentication-results", func(c *Config) {
			c.SenderAuth.Mode, c.SenderAuth.AuthservID = SenderAuthResults, "mx.example.com"
		}, nil},
		{"sender_auth dkim and off", func(c *Config) { c.SenderAuth.Mode = SenderAuthDKIM }, nil},
		{"sender_auth dns_resolver", func(c *Config) { c.SenderAuth.DNSResolver = "[2001:db8::53]:53" }, nil},
		{"sender_auth dns_resolver missing port", func(c *Config) { c.SenderAuth.DNSResolver = "8.8.8.8" },
			[]string{`sender_auth.dns_resolver: missing port`}},

		// http
		{"http listen required", func(c *Config) { c.HTTP.Listen = "" },
			[]string{`http.listen: required (e.g. 127.0.0.1:8080)`}},
		{"http listen missing port", func(c *Config) { c.HTTP.Listen = "8080" },
			[]string{`http.listen: missing port`}},
		{"http listen all interfaces", func(c *Config) { c.HTTP.Listen = ":8080" }, nil},
		{"http listen any port", func(c *Config) { c.HTTP.Listen = "127.0.0.1:0" }, nil},
		{"http public_url", func(c *Config) { c.HTTP.PublicURL = "https://unlockd.example.com/base" }, nil},
		{"http public_url relative", func(c *Config) { c.HTTP.PublicURL = "unlockd.example.com" },
			[]string{`http.public_url: "unlockd.example.com" is not an absolute http:// or https:// URL`}},
		{"http public_url scheme", func(c *Config) { c.HTTP.PublicURL = "ftp://unlockd.example.com" },
			[]string{`http.public_url: "ftp://unlockd.example.com" is not an absolute http:// or https:// URL`}},
		{"http limits zero", func(c *Config) {
			c.HTTP.ReadHeaderTimeout, c.HTTP.ReadTimeout, c.HTTP.WriteTimeout, c.HTTP.IdleTimeout, c.HTTP.MaxHeaderBytes = 0, 0, 0, -1, 0
		}, []string{
			`http.read_header_timeout: must be positive`,
			`http.read_timeout: must be positive`,
			`http.write_timeout: must be positive`,
			`http.idle_timeout: must be positive`,
			`http.max_header_bytes: must be from 4KiB to 1MiB`,
		}},
		{"http header timeout beyond read timeout", func(c *Config) {
			c.HTTP.ReadHeaderTimeout, c.HTTP.ReadTimeout = Duration(time.Minute), Duration(time.Second)
		},
			[]string{`http.read_header_timeout: 1m is longer than read_timeout 1s, which covers the headers too`}},
		{"http max_header_bytes huge", func(c *Config) { c.HTTP.MaxHeaderBytes = 2 * MiB },
			[]string{`http.max_header_bytes: must be from 4KiB to 1MiB`}},
		{"http metrics token", func(c *Config) { c.HTTP.MetricsToken = "0123456789abcdef" }, nil},
		{"http metrics token short", func(c *Config) { c.HTTP.MetricsToken = "hunter2" },
			[]string{`http.metrics_token: must be at least 16 characters without spaces`}},
		{"http metrics token spaces", func(c *Config) { c.HTTP.MetricsToken = "0123456789 abcdef" },
			[]string{`http.metrics_token: must be at least 16 characters without spaces`}},
		{"http metrics_listen", func(c *Config) { c.HTTP.MetricsListen = "127.0.0.1:9100" }, nil},
		{"http metrics_listen bad", func(c *Config) { c.HTTP.MetricsListen = "9100" },
			[]string{`http.metrics_listen: missing port`}},
		{"http metrics_listen same", func(c *Config) { c.HTTP.MetricsListen = c.HTTP.Listen },
			[]string{`http.metrics_listen: must differ from http.listen; leave it empty to serve /metrics on http.listen`}},

		// limits, templates, log
		{"limits zero", func(c *Config) { c.Limits = Limits{} }, []string{
			`limits.max_message_bytes: must be positive`,
			`limits.request_ttl: must be positive`,
			`limits.fetch_budget: must be at least 1MiB`,
			`limits.deferral_tries: must be at least 1`,
			`limits.deferral_max_age: must be positive`,
			`limits.directory_apply_max_age: must be positive`,
			`limits.confirmation_ttl: must be positive`,
		}},
		{"retention off", func(c *Config) { c.Limits.Retention, c.Limits.MailRetention, c.Limits.AuditRetention = 0, 0, 0 }, nil},
		{"retention set", func(c *Config) {
			c.Limits.Retention, c.Limits.AuditRetention = Duration(8*24*time.Hour), Duration(time.Hour)
		}, nil},
		{"retention negative", func(c *Config) {
			c.Limits.Retention, c.Limits.MailRetention, c.Limits.AuditRetention = -1, Duration(-time.Hour), Duration(-time.Hour)
		}, []string{
			`limits.retention: must not be negative (0 keeps records for good)`,
			`limits.mail_retention: must not be negative (0 keeps records for good)`,
			`limits.audit_retention: must not be negative (0 keeps records for good)`,
		}},
		{"retention shorter than a signature counts", func(c *Config) { c.Limits.Retention = Duration(7 * 24 * time.Hour) },
			[]string{`limits.retention: 7d is shorter than sender_auth.max_signature_age plus an hour (7d1h): a decided message could be replayed once its decision is deleted`}},
		{"retention shorter than request_ttl", func(c *Config) {
			c.Limits.Retention, c.Limits.RequestTTL = Duration(10*24*time.Hour), Duration(30*24*time.Hour)
		},
			[]string{`limits.retention: 10d is shorter than limits.request_ttl 30d: queued requests must expire before they are deleted`}},
		{"confirmation_ttl past request_ttl", func(c *Config) {
			c.Limits.RequestTTL, c.Limits.ConfirmationTTL = Duration(time.Hour), Duration(2*time.Hour)
		},
			[]string{`limits.confirmation_ttl: must not exceed limits.request_ttl (1h): a link outliving the request has nothing to confirm`}},
		{"confirmation_ttl equal to request_ttl", func(c *Config) {
			c.Limits.RequestTTL, c.Limits.ConfirmationTTL = Duration(time.Hour), Duration(time.Hour)
		}, nil},
		{"templates_dir", func(c *Config) { c.TemplatesDir = dir }, nil},
		{"templates_dir missing", func(c *Config) { c.TemplatesDir = filepath.Join(dir, "nope") },
			[]string{`templates_dir: not usable: stat ` + filepath.Join(dir, "nope") + `: no such file or directory`}},
		{"templates_dir is a file", func(c *Config) { c.TemplatesDir = notPEM },
			[]string{`templates_dir: ` + notPEM + ` is not a directory`}},
		{"log level", func(c *Config) { c.Log.Level = "verbose" },
			[]string{`log.level: invalid value "verbose": must be debug, info, warn or error`}},
		{"log format", func(c *Config) { c.Log.Format = "xml" },
			[]string{`log.format: invalid value "xml": must be text or json`}},
		{"log json debug", func(c *Config) { c.Log = Log{Level: "debug", Format: LogJSON} }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.change(c)
			err := c.Validate()
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			got := problemLines(t, err)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Fatalf("Validate() problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	c := validConfig()
	c.Database.Driver = "mysql"
	c.Mailboxes[0].IMAP.Address = "imap.example.com"
	c.Mailboxes[0].IMAP.Username = ""
	c.SMTP.MaxAttempts = -1
	c.Log.Format = "xml"
	err := c.Validate()
	want := "database.driver: invalid value \"mysql\": must be sqlite or postgres\n" +
		"mailboxes[0].imap.address: missing port\n" +
		"mailboxes[0].imap.username: required\n" +
		"smtp.max_attempts: must be at least 1\n" +
		"log.format: invalid value \"xml\": must be text or json"
	if err == nil || err.Error() != want {
		t.Fatalf("Validate() = %v\nwant:\n%s", err, want)
	}
}

func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "LocalHost": true, "localhost.": true,
		"127.0.0.1": true, "127.255.0.9": true, "::1": true, "::ffff:127.0.0.1": true,
		"128.0.0.1": false, "10.0.0.1": false, "::2": false, "": false,
		"localhost.example.com": false, "mail.example.com": false,
	} {
		if got := isLoopback(host); got != want {
			t.Errorf("isLoopback(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestWarnings(t *testing.T) {
	tests := []struct {
		listen, publicURL, token, metricsListen string
		want                                    []string // words of each warning, in order
	}{
		{"127.0.0.1:8080", "", "", "", nil},
		{"[::1]:8080", "http://localhost:8080", "", "", nil},
		{"localhost:8080", "", "", "", nil},
		{"0.0.0.0:8080", "https://unlock.example.com", "0123456789abcdef", "", nil},
		{":8080", "HTTPS://unlock.example.com", "", "127.0.0.1:9100", nil},
		{":8080", "http://unlock.example.com", "0123456789abcdef", "", []string{"without Secure"}},
		{"10.0.0.5:8080", "", "0123456789abcdef", "", []string{"http.listen 10.0.0.5:8080 is not a loopback address", "replies carry no confirmation links"}},
		{"10.0.0.5:8080", "https://unlock.example.com", "", "", []string{"/metrics on 10.0.0.5:8080 is open"}},
		{"127.0.0.1:8080", "", "", ":9100", []string{"/metrics on :9100 is open"}},
		{":8080", "", "", "", []string{"without Secure", "replies carry no confirmation links", "/metrics on :8080"}},
	}
	for _, tt := range tests {
		c := Default()
		c.HTTP.Listen, c.HTTP.PublicURL, c.HTTP.MetricsToken, c.HTTP.MetricsListen = tt.listen, tt.publicURL, tt.token, tt.metricsListen
		if err := c.Validate(); err != nil {
			t.Fatalf("%+v: %v", tt, err)
		}
		got := c.Warnings()
		if len(got) != len(tt.want) {
			t.Errorf("%+v: warnings %q, want %d", tt, got, len(tt.want))
			continue
		}
		for i, w := range tt.want {
			if !strings.Contains(got[i], w) {
				t.Errorf("%+v: warning %q lacks %q", tt, got[i], w)
			}
		}
	}
}

// TestRetentionWarnsOfMailLeftInPlace: decided mail left in the watched
// folder would be decided again, after a UIDVALIDITY change, once its
// decision is past limits.retention.
func TestRetentionWarnsOfMailLeftInPlace(t *testing.T) {
	c := validConfig()
	if w := c.Warnings(); len(w) != 1 || !strings.Contains(w[0], "mailboxes[0] leaves decided mail in INBOX") ||
		!strings.Contains(w[0], "limits.retention 400d") {
		t.Errorf("warnings = %q", w)
	}
	c.Mailboxes[0].IMAP.ProcessedFolder, c.Mailboxes[0].IMAP.RejectedFolder = "done", "refused"
	if w := c.Warnings(); len(w) != 0 {
		t.Errorf("warnings with both folders = %q", w)
	}
	c.Mailboxes[0].IMAP.RejectedFolder = ""
	c.Limits.Retention = 0
	if w := c.Warnings(); len(w) != 0 {
		t.Errorf("warnings without retention = %q", w)
	}
}

func TestLinkBase(t *testing.T) {
	for _, tt := range []struct{ listen, publicURL, bound, want string }{
		{"127.0.0.1:8080", "https://unlock.example.com/", "", "https://unlock.example.com"},
		{"0.0.0.0:8080", "https://unlock.example.com", "", "https://unlock.example.com"},
		{"127.0.0.1:0", "", "127.0.0.1:41234", "http://127.0.0.1:41234"},
		{"127.0.0.1:8080", "", "", "http://127.0.0.1:8080"},
		{"0.0.0.0:8080", "", "0.0.0.0:8080", ""},
		{":8080", "", "[::]:8080", ""},
	} {
		if got := (HTTP{Listen: tt.listen, PublicURL: tt.publicURL}).LinkBase(tt.bound); got != tt.want {
			t.Errorf("LinkBase(%+v) = %q, want %q", tt, got, tt.want)
		}
	}
}
