package config

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadProblems(t *testing.T) {
	tests := []struct {
		name    string
		content string
		env     map[string]string
		want    []string
	}{
		{
			name: "unknown key in second mailbox",
			content: `mailboxes:
  - name: support
    imap:
      address: 127.0.0.1:1143
      tls: none
      username: support@example.com
      password: pw
  - name: sales
    imap:
      tls: none
      username: sales@example.com
      adress: 127.0.0.1:1143
      password: pw
smtp: {address: 127.0.0.1:1025, tls: none, from: support@example.com}
`,
			want: []string{
				`mailboxes[1].imap.adress: unknown key (line 12); did you mean "address"?`,
				`mailboxes[1].imap.address: required (line 9)`,
			},
		},
		{
			name:    "unknown top-level keys",
			content: "foo: 1\nlog: {levle: info, colour: true}\n",
			want: []string{
				`foo: unknown key (line 1)`,
				`log.levle: unknown key (line 2); did you mean "level"?`,
				`log.colour: unknown key (line 2)`,
			},
		},
		{
			name:    "keys are not expanded",
			content: "log:\n  ${KEY}: info\n",
			env:     map[string]string{"KEY": "level"},
			want:    []string{`log.${KEY}: unknown key (line 2)`},
		},
		{
			name:    "duplicate key",
			content: "log:\n  level: info\n  level: debug\n",
			want:    []string{`log.level: duplicate key, first set on line 2 (line 3)`},
		},
		{
			name: "wrong types",
			content: `smtp:
  max_attempts: many
  tls: [a, b]
sender_auth: dkim
mailboxes:
  name: support
limits:
  max_message_bytes: 10 parsecs
  request_ttl: 30
log:
  level: {a: b}
`,
			want: []string{
				`smtp.max_attempts: expected a whole number, got "many" (line 2)`,
				`smtp.tls: expected a single value, got a list (line 3)`,
				`sender_auth: expected a mapping of keys, got "dkim" (line 4)`,
				`mailboxes: expected a list, got a mapping (line 6)`,
				`limits.max_message_bytes: invalid size "10 parsecs": unknown unit "parsecs" (use B, KB, MB, GB, TB, KiB, MiB, GiB or TiB) (line 8)`,
				`limits.request_ttl: invalid duration "30": missing unit (use e.g. 30s, 1h30m or 7d) (line 9)`,
				`log.level: expected a single value, got a mapping (line 11)`,
			},
		},
		{
			name:    "bool type",
			content: strings.Replace(minimal, "password: pw", "password: pw\n      idle: sometimes", 1),
			want:    []string{`mailboxes[0].imap.idle: expected true or false, got "sometimes" (line 8)`},
		},
		{
			name:    "document is not a mapping",
			content: "- a\n- b\n",
			want:    []string{`expected a mapping of keys, got a list (line 1)`},
		},
		{
			name:    "unset variable",
			content: strings.Replace(minimal, "password: pw", "password: ${IMAP_PW}", 1),
			// The missing credential is not reported again by validation.
			want: []string{`mailboxes[0].imap.password: environment variable IMAP_PW is not set (use ${IMAP_PW:-default} for a fallback) (line 7)`},
		},
		{
			name:    "env value is checked like a literal",
			content: "smtp:\n  max_attempts: ${N}\n",
			env:     map[string]string{"N": "3\nevil: x"},
			want:    []string{`smtp.max_attempts: expected a whole number, got "3\nevil: x" (line 2)`},
		},
		{
			name: "validation problems carry lines",
			content: `mailboxes:
  - name: support
    imap:
      address: imap.example.com
      tls: none
      username: support@example.com
      password: pw
      poll_interval: 0
`,
			want: []string{
				`mailboxes[0].imap.address: missing port (line 4)`,
				`mailboxes[0].imap.poll_interval: must be positive (line 8)`,
				`smtp.address: required when mailboxes are configured (replies are sent over SMTP)`,
			},
		},
		{
			name:    "postgres needs a dsn",
			content: "database:\n  driver: postgres\n",
			want:    []string{`database.dsn: required when driver is postgres (e.g. postgres://unlockd@127.0.0.1:5432/unlockd?sslmode=disable) (line 1)`},
		},
		{
			name: "every kind of problem at once",
			content: `database:
  driver: mysql
mailboxes:
  - name: support
    imap:
      address: 127.0.0.1:1143
      tls: none
      usename: support@example.com
      password: ${NOPE}
      poll_interval: soon
smtp:
  address: smtp.example.com:587
  from: Support support@example.com
`,
			want: []string{
				`mailboxes[0].imap.usename: unknown key (line 8); did you mean "username"?`,
				`mailboxes[0].imap.password: environment variable NOPE is not set (use ${NOPE:-default} for a fallback) (line 9)`,
				`mailboxes[0].imap.poll_interval: invalid duration "soon": expected a number (use e.g. 30s, 1h30m or 7d) (line 10)`,
				`database.driver: invalid value "mysql": must be sqlite or postgres (line 2)`,
				`mailboxes[0].imap.username: required (line 5)`,
				`smtp.from: "Support support@example.com" is not an RFC 5322 mailbox (write e.g. Support <support@example.com> or support@example.com) (line 13)`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := loadProblems(t, tt.content, tt.env)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Fatalf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestLoadEnvironment(t *testing.T) {
	tests := []struct {
		name  string
		value string // replaces the IMAP password "pw" in minimal
		env   map[string]string
		want  string
	}{
		{"set", "${PW}", map[string]string{"PW": "s3cret"}, "s3cret"},
		{"default when unset", "${PW:-fallback}", nil, "fallback"},
		{"default when empty", "${PW:-fallback}", map[string]string{"PW": ""}, "fallback"},
		{"set beats default", "${PW:-fallback}", map[string]string{"PW": "s3cret"}, "s3cret"},
		{"inside text", "pre-${PW}-post", map[string]string{"PW": "x"}, "pre-x-post"},
		{"quoted", `"${PW}"`, map[string]string{"PW": "x"}, "x"},
		{"escaped", "$${PW}", map[string]string{"PW": "x"}, "${PW}"},
		{"yaml structure stays text", "${PW}", map[string]string{"PW": "\": \n evil: x"}, "\": \n evil: x"},
		{"flow syntax stays text", "${PW}", map[string]string{"PW": "[a, {b: c}]"}, "[a, {b: c}]"},
		{"null stays text", "${PW}", map[string]string{"PW": "~"}, "~"},
		{"number stays text", "${PW}", map[string]string{"PW": "0012"}, "0012"},
		{"no second expansion", "${PW}", map[string]string{"PW": "${OTHER}", "OTHER": "no"}, "${OTHER}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, _ := MustLoad(t, strings.Replace(minimal, "password: pw", "password: "+tt.value, 1), tt.env)
			if got := cfg.Mailboxes[0].IMAP.Password; got != tt.want {
				t.Fatalf("password = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLoadEnvironmentTyped(t *testing.T) {
	env := map[string]string{"N": "3", "IDLE": "false", "TTL": "2d", "SIZE": "1MiB", "PORT": "2525"}
	cfg, _ := MustLoad(t, `mailboxes:
  - name: support
    imap:
      address: 127.0.0.1:1143
      tls: none
      username: support@example.com
      password: pw
      idle: ${IDLE}
smtp:
  address: 127.0.0.1:1025
  tls: none
  from: support@example.com
  max_attempts: ${N}
limits:
  request_ttl: "${TTL}"
  max_message_bytes: ${SIZE}
http:
  listen: 127.0.0.1:${PORT}
log:
  level: ${LEVEL:-}
`, env)
	if cfg.SMTP.MaxAttempts != 3 || cfg.Mailboxes[0].IMAP.IDLE || cfg.Limits.RequestTTL.String() != "2d" ||
		cfg.Limits.MaxMessageBytes != MiB || cfg.HTTP.Listen != "127.0.0.1:2525" || cfg.Log.Level != "info" {
		t.Fatalf("typed values from the environment not applied:\n%s", cfg)
	}
}

func TestLoadNullAndZero(t *testing.T) {
	cfg, _ := MustLoad(t, strings.Replace(minimal, "password: pw", "password: pw\n      idle:\n      poll_interval: ~\n      mailbox:", 1)+"http:\nlimits: {}\n", nil)
	m := cfg.Mailboxes[0].IMAP
	if !m.IDLE || m.PollInterval.Std() != DefaultPollInterval || m.Mailbox != "INBOX" ||
		cfg.HTTP.Listen != DefaultListen || cfg.Limits.MaxMessageBytes != DefaultMaxMessageBytes {
		t.Fatalf("null values did not keep their defaults:\n%s", cfg)
	}

	got := loadProblems(t, minimal+"limits:\n  request_ttl: 0\n  max_message_bytes: 0\n", nil)
	want := "limits.max_message_bytes: must be positive (line 14)\nlimits.request_ttl: must be positive (line 13)"
	if strings.Join(got, "\n") != want {
		t.Fatalf("explicit zeros:\n%s\nwant:\n%s", strings.Join(got, "\n"), want)
	}
}

func TestLoadMergeKeys(t *testing.T) {
	cfg, _ := MustLoad(t, `mailboxes:
  - name: support
    imap: &common
      address: 127.0.0.1:1143
      tls: none
      username: support@example.com
      password: pw
      poll_interval: 1m
  - name: sales
    imap:
      <<: *common
      username: sales@example.com
smtp: {address: 127.0.0.1:1025, tls: none, from: support@example.com}
`, nil)
	sales := cfg.Mailboxes[1].IMAP
	if sales.Username != "sales@example.com" || sales.Address != "127.0.0.1:1143" ||
		sales.Password != "pw" || sales.PollInterval.String() != "1m" || sales.Mailbox != "INBOX" {
		t.Fatalf("merged mailbox = %+v", sales)
	}

	got := loadProblems(t, `mailboxes:
  - name: a
    imap: &common
      address: 127.0.0.1:1143
      tls: none
      username: u
      password: p
      colour: red
  - name: b
    imap: *common
smtp: {address: 127.0.0.1:1025, tls: none, from: support@example.com}
`, nil)
	want := "mailboxes[0].imap.colour: unknown key (line 8)\nmailboxes[1].imap.colour: unknown key (line 8)"
	if strings.Join(got, "\n") != want {
		t.Fatalf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), want)
	}
}

func TestLoadSecretFiles(t *testing.T) {
	dir := t.TempDir()
	MustWriteFile(t, dir, "secrets/imap", "imap-secret\n")
	MustWriteFile(t, dir, "secrets/smtp", "smtp-secret \r\n\n")
	MustWriteFile(t, dir, "secrets/dsn", "postgres://u:p@db/unlockd\n")
	MustWriteFile(t, dir, "secrets/metrics", "metrics-secret-0123456789\n")
	MustWriteFile(t, dir, "templates/reply.txt", "hi")
	ca := MustWriteCA(t, dir, "certs/ca.pem")
	path := MustWriteFile(t, dir, "etc/config.yaml", `database:
  driver: postgres
  dsn_file: ../secrets/dsn
mailboxes:
  - name: support
    imap:
      address: imap.example.com:993
      ca_file: ../certs/ca.pem
      username: support@example.com
      password_file: ../secrets/imap
smtp:
  address: smtp.example.com:465
  tls: implicit
  ca_file: `+ca+`
  from: support@example.com
  username: support@example.com
  password_file: ../secrets/smtp
http:
  metrics_token_file: ../secrets/metrics
templates_dir: ../templates
`)
	cfg, err := Load(path, nil)
	if err != nil {
		t.Fatalf("Load:\n%v", err)
	}
	checks := []struct{ name, got, want string }{
		{"dsn", cfg.Database.DSN, "postgres://u:p@db/unlockd"},
		{"imap password", cfg.Mailboxes[0].IMAP.Password, "imap-secret"},
		{"smtp password", cfg.SMTP.Password, "smtp-secret"},
		{"metrics token", cfg.HTTP.MetricsToken, "metrics-secret-0123456789"},
		{"imap password_file", cfg.Mailboxes[0].IMAP.PasswordFile, filepath.Join(dir, "secrets", "imap")},
		{"imap ca_file", cfg.Mailboxes[0].IMAP.CAFile, ca},
		{"smtp ca_file", cfg.SMTP.CAFile, ca},
		{"templates_dir", cfg.TemplatesDir, filepath.Join(dir, "templates")},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
}

func TestLoadSecretFileProblems(t *testing.T) {
	dir := t.TempDir()
	MustWriteFile(t, dir, "empty", "\n\n")
	MustWriteFile(t, dir, "pw", "secret")
	path := MustWriteFile(t, dir, "config.yaml", `database:
  dsn: other.db
  dsn_file: pw
mailboxes:
  - name: support
    imap:
      address: 127.0.0.1:1143
      tls: none
      username: support@example.com
      password: pw
      password_file: pw
      ca_file: nope.pem
smtp:
  address: 127.0.0.1:1025
  tls: none
  from: support@example.com
  username: support@example.com
  password_file: empty
templates_dir: missing
`)
	_, err := Load(path, nil)
	got := problemLines(t, err)
	want := []string{
		`database.dsn_file: set only one of dsn and dsn_file (line 3)`,
		`mailboxes[0].imap.password_file: set only one of password and password_file (line 11)`,
		`smtp.password_file: secret file ` + filepath.Join(dir, "empty") + ` is empty (line 18)`,
		`mailboxes[0].imap.ca_file: not usable: open ` + filepath.Join(dir, "nope.pem") + `: no such file or directory (line 12)`,
		`templates_dir: not usable: stat ` + filepath.Join(dir, "missing") + `: no such file or directory (line 19)`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	path = MustWriteFile(t, dir, "config2.yaml", "smtp:\n  username: u\n  password_file: secrets/none\n")
	_, err = Load(path, nil)
	got = problemLines(t, err)
	want = []string{`smtp.password_file: cannot read secret: open ` + filepath.Join(dir, "secrets", "none") + `: no such file or directory (line 3)`}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
