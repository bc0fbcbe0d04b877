package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// MustLoad writes content to config.yaml in a new directory and loads it.
func MustLoad(tb testing.TB, content string, env map[string]string) (*Config, string) {
	tb.Helper()
	dir := tb.TempDir()
	path := MustWriteFile(tb, dir, "config.yaml", content)
	cfg, err := Load(path, envOf(env))
	if err != nil {
		tb.Fatalf("Load:\n%v", err)
	}
	return cfg, dir
}

// loadProblems loads content and returns its problems, failing unless
// Load returned a *Problems.
func loadProblems(tb testing.TB, content string, env map[string]string) []string {
	tb.Helper()
	_, err := Parse([]byte(content), tb.TempDir(), envOf(env))
	return problemLines(tb, err)
}

// minimal is a small valid file; tests append to or edit it.
const minimal = `mailboxes:
  - name: support
    imap:
      address: 127.0.0.1:1143
      tls: none
      username: support@example.com
      password: pw
smtp:
  address: 127.0.0.1:1025
  tls: none
  from: support@example.com
`

func TestExampleConfig(t *testing.T) {
	path := filepath.Join("..", "..", "config.example.yaml")
	cfg, err := Load(path, nil)
	if err != nil {
		t.Fatalf("config.example.yaml with no environment:\n%v", err)
	}
	if len(cfg.Mailboxes) != 1 {
		t.Fatalf("mailboxes = %d, want 1", len(cfg.Mailboxes))
	}
	m := cfg.Mailboxes[0]
	checks := []struct {
		name      string
		got, want any
	}{
		{"database.driver", cfg.Database.Driver, DriverSQLite},
		{"database.dsn", cfg.Database.DSN, "unlockd.db"},
		{"name", m.Name, "support"},
		{"imap.address", m.IMAP.Address, "127.0.0.1:1143"},
		{"imap.tls", m.IMAP.TLS, TLSNone},
		{"imap.username", m.IMAP.Username, "support@example.com"},
		{"imap.password", m.IMAP.Password, "changeme"},
		{"imap.mailbox", m.IMAP.Mailbox, "INBOX"},
		{"imap.processed_folder", m.IMAP.ProcessedFolder != "", true},
		{"imap.rejected_folder", m.IMAP.RejectedFolder != "", true},
		{"imap.idle", m.IMAP.IDLE, true},
		{"imap.poll_interval", m.IMAP.PollInterval.Std(), 30 * time.Second},
		{"imap.timeout", m.IMAP.Timeout.Std(), time.Minute},
		{"smtp.address", cfg.SMTP.Address, "127.0.0.1:1025"},
		{"smtp.tls", cfg.SMTP.TLS, TLSNone},
		{"smtp.from", cfg.SMTP.From, "support@example.com"},
		{"smtp.max_attempts", cfg.SMTP.MaxAttempts, 10},
		{"smtp.timeout", cfg.SMTP.Timeout.Std(), 30 * time.Second},
		{"sender_auth.dns_timeout", cfg.SenderAuth.DNSTimeout.Std(), 10 * time.Second},
		{"sender_auth.mode", cfg.SenderAuth.Mode, SenderAuthAny},
		{"sender_auth.authserv_id", cfg.SenderAuth.AuthservID, "mx.example.com"},
		{"http.listen", cfg.HTTP.Listen, "127.0.0.1:8080"},
		{"limits.max_message_bytes", cfg.Limits.MaxMessageBytes, 10 * MiB},
		{"limits.request_ttl", cfg.Limits.RequestTTL.Std(), 7 * 24 * time.Hour},
		{"log.level", cfg.Log.Level, "info"},
		{"log.format", cfg.Log.Format, LogText},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}

	cfg, err = Load(path, envOf(map[string]string{"UNLOCKD_IMAP_PASSWORD": "from-env"}))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Mailboxes[0].IMAP.Password; got != "from-env" {
		t.Errorf("password with UNLOCKD_IMAP_PASSWORD set = %q, want from-env", got)
	}
}

// TestExampleDocumentsEveryKey keeps config.example.yaml complete: every
// key of Config must appear in it, set or in a comment.
func TestExampleDocumentsEveryKey(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "config.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range allKeys() {
		if !strings.Contains(string(data), key+":") {
			t.Errorf("config.example.yaml does not mention %q", key)
		}
	}
}

func allKeys() []string {
	var keys []string
	for _, typ := range []any{Config{}, Database{}, Mailbox{}, IMAP{}, SMTP{}, SenderAuth{}, HTTP{}, Limits{}, Log{}, Directory{}} {
		for key := range yamlFields(reflect.TypeOf(typ)) {
			keys = append(keys, key)
		}
	}
	return keys
}

func TestDefaultsApplied(t *testing.T) {
	cfg, _ := MustLoad(t, minimal+"log:\n  level:\n", nil)
	want := Default()
	want.Mailboxes = cfg.Mailboxes
	want.SMTP.Address, want.SMTP.TLS, want.SMTP.From = "127.0.0.1:1025", TLSNone, "support@example.com"
	if cfg.String() != want.String() {
		t.Fatalf("got:\n%s\nwant:\n%s", cfg, want)
	}
	m := cfg.Mailboxes[0].IMAP
	if m.TLS != TLSNone || m.Mailbox != "INBOX" || !m.IDLE || m.PollInterval.Std() != 30*time.Second {
		t.Fatalf("imap defaults not applied: %+v", m)
	}
}

func TestEmptyFile(t *testing.T) {
	for _, content := range []string{"", "# only a comment\n", "---\n"} {
		cfg, err := Parse([]byte(content), "", nil)
		if err != nil {
			t.Fatalf("Parse(%q) = %v", content, err)
		}
		if cfg.String() != Default().String() {
			t.Fatalf("Parse(%q) = %s, want the defaults", content, cfg)
		}
	}
}

func TestExplicitValues(t *testing.T) {
	cfg, _ := MustLoad(t, minimal+`
database:
  driver: postgres
  dsn: postgres://unlockd@127.0.0.1:5432/unlockd?sslmode=disable
http:
  listen: ":9090"
  public_url: https://unlockd.example.com
limits:
  max_message_bytes: 512KiB
  request_ttl: 1d12h
log: {level: debug, format: json}
`, nil)
	if cfg.Database.DSN != "postgres://unlockd@127.0.0.1:5432/unlockd?sslmode=disable" ||
		cfg.HTTP.Listen != ":9090" || cfg.Limits.MaxMessageBytes != 512*KiB ||
		cfg.Limits.RequestTTL.Std() != 36*time.Hour || cfg.Log.Format != LogJSON {
		t.Fatalf("unexpected config:\n%s", cfg)
	}
}

func TestSecretsAreRedacted(t *testing.T) {
	cfg, _ := MustLoad(t, strings.Replace(minimal, "password: pw", "password: hunter2", 1)+`
database:
  driver: postgres
  dsn: postgres://u:dbsecret@db/unlockd
`, nil)
	cfg.SMTP.Username, cfg.SMTP.Password = "u", "smtpsecret"
	cfg.Mailboxes[0].IMAP.OAuth2TokenCommand = "tok --secret=x"
	s := cfg.String()
	for _, secret := range []string{"hunter2", "dbsecret", "smtpsecret", "--secret=x"} {
		if strings.Contains(s, secret) {
			t.Errorf("String() reveals %q:\n%s", secret, s)
		}
	}
	if !strings.Contains(s, "password: '***'") {
		t.Errorf("String() does not show a redacted password:\n%s", s)
	}
	if cfg.Mailboxes[0].IMAP.Password != "hunter2" || cfg.Database.DSN != "postgres://u:dbsecret@db/unlockd" {
		t.Error("Redacted changed the original config")
	}
	secrets := strings.Join(cfg.Secrets(), "\n")
	for _, secret := range []string{"hunter2", "dbsecret", "postgres://u:dbsecret@db/unlockd", "smtpsecret", "tok --secret=x"} {
		if !strings.Contains(secrets, secret) {
			t.Errorf("Secrets() = %q lacks %q", cfg.Secrets(), secret)
		}
	}
}

func TestDSNPassword(t *testing.T) {
	for dsn, want := range map[string]string{
		"postgres://u:s3cret@db/unlockd":                   "s3cret",
		"postgres://u@db/unlockd":                          "",
		"host=db user=u password=s3cret dbname=unlockd":    "s3cret",
		"host=db password='se cret' user=u":                "se cret",
		"host=db user=u":                                   "",
		"postgresql://u:p%40ss@db/unlockd?sslmode=disable": "p@ss",
	} {
		if got := dsnPassword(dsn); got != want {
			t.Errorf("dsnPassword(%q) = %q, want %q", dsn, got, want)
		}
	}
}

func TestSyntaxError(t *testing.T) {
	dir := t.TempDir()
	path := MustWriteFile(t, dir, "bad.yaml", "log:\n  level: [info\n")
	_, err := Load(path, nil)
	var ps *Problems
	if err == nil || errors.As(err, &ps) {
		t.Fatalf("Load = %v, want a plain syntax error", err)
	}
	if !strings.HasPrefix(err.Error(), "config: "+path+": ") || !strings.Contains(err.Error(), "line") {
		t.Fatalf("error %q does not name the file and line", err)
	}

	path = MustWriteFile(t, dir, "two.yaml", "log: {}\n---\nlog: {}\n")
	if _, err := Load(path, nil); err == nil || !strings.Contains(err.Error(), "more than one YAML document (line 2)") {
		t.Fatalf("Load(two documents) = %v", err)
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml"), nil); err == nil || !strings.HasPrefix(err.Error(), "config: open ") {
		t.Fatalf("Load(missing file) = %v", err)
	}
}
