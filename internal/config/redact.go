package config

import (
	"fmt"

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
