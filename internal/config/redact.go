package config

import (
	"fmt"
	"net/url"
	"strings"

	"go.yaml.in/yaml/v3"
)

// redactedValue replaces secrets in [Config.Redacted].
const redactedValue = "***"

// Redacted returns a deep copy of c with every secret replaced by "***":
// passwords, http.metrics_token, the oauth2_token_command (its arguments may hold a client
// secret) and, unless the driver is sqlite, the database DSN. Paths of
// *_file keys are kept: they are not secret and help diagnose problems.
func (c *Config) Redacted() *Config {
	r := *c
	r.Mailboxes = append([]Mailbox(nil), c.Mailboxes...)
	hide := func(s *string) {
		if *s != "" {
			*s = redactedValue
		}
	}
	if r.Database.Driver != DriverSQLite {
		hide(&r.Database.DSN)
	}
	for i := range r.Mailboxes {
		hide(&r.Mailboxes[i].IMAP.Password)
		hide(&r.Mailboxes[i].IMAP.OAuth2TokenCommand)
	}
	r.Directories = append([]Directory(nil), c.Directories...)
	for i := range r.Directories {
		hide(&r.Directories[i].BindPassword)
		hide(&r.Directories[i].DSN)
		hide(&r.Directories[i].Secret)
	}
	hide(&r.SMTP.Password)
	hide(&r.HTTP.MetricsToken)
	return &r
}

// String returns c as YAML with its secrets redacted, so that printing or
// logging a *Config never reveals a password.
func (c *Config) String() string {
	out, err := yaml.Marshal(c.Redacted())
	if err != nil {
		return fmt.Sprintf("config: cannot print: %v", err)
	}
	return string(out)
}

// Secrets returns every secret value of c that Redacted hides, and the
// password inside a PostgreSQL DSN, so that output which might quote one
// (an error from a server, say) can be scrubbed of them. Empty values are
// left out.
func (c *Config) Secrets() []string {
	var out []string
	add := func(s string) {
		if s != "" {
			out = append(out, s)
		}
	}
	if c.Database.Driver != DriverSQLite {
		add(c.Database.DSN)
		add(dsnPassword(c.Database.DSN))
	}
	for _, m := range c.Mailboxes {
		add(m.IMAP.Password)
		add(m.IMAP.OAuth2TokenCommand)
	}
	for _, d := range c.Directories {
		add(d.BindPassword)
		add(d.DSN)
		if d.Driver == SQLMySQL {
			add(mysqlPassword(d.DSN))
		} else {
			add(dsnPassword(d.DSN))
		}
		add(d.Secret)
	}
	add(c.SMTP.Password)
	add(c.HTTP.MetricsToken)
	return out
}

// dsnPassword is the password of a PostgreSQL DSN, as a URL
// (postgres://user:secret@host/db) or key=value settings (password=secret
// or password='se cret').
func dsnPassword(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok {
			return pw
		}
	}
	i := strings.Index(dsn, "password=")
	if i < 0 {
		return ""
	}
	rest := dsn[i+len("password="):]
	if strings.HasPrefix(rest, "'") {
		if end := strings.Index(rest[1:], "'"); end >= 0 {
			return rest[1 : 1+end]
		}
		return rest[1:]
	}
	if end := strings.IndexAny(rest, " \t"); end >= 0 {
		return rest[:end]
	}
	return rest
}

// mysqlPassword is the password of a go-sql-driver DSN
// (user:secret@tcp(host:3306)/db).
func mysqlPassword(dsn string) string {
	at := strings.LastIndexByte(dsn, '@')
	if at < 0 {
		return ""
	}
	if _, pw, ok := strings.Cut(dsn[:at], ":"); ok {
		return pw
	}
	return ""
}
