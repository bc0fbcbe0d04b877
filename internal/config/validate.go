package config

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// Validate checks c and returns a [*Problems] listing every rule it
// breaks, or nil. It reads the file system to check that ca_file files hold
// PEM certificates and that templates_dir is a directory. Load calls it; call
// it again after changing a Config in code.
func (c *Config) Validate() error {
	ps := &Problems{}
	c.validateDatabase(ps)
	names := make(map[string]int)
	for i := range c.Mailboxes {
		m := &c.Mailboxes[i]
		path := fmt.Sprintf("mailboxes[%d]", i)
		switch j, dup := names[m.Name]; {
		case m.Name == "":
			ps.add(path+".name", "required")
		case dup:
			ps.add(path+".name", "duplicate name %q (also used by mailboxes[%d])", m.Name, j)
		default:
			names[m.Name] = i
		}
		validateIMAP(ps, path+".imap", &m.IMAP)
	}
	c.validateSMTP(ps)
	c.validateSenderAuth(ps)
	c.validateHTTP(ps)
	c.validateSignIn(ps)
	if c.Limits.MaxMessageBytes <= 0 {
		ps.add("limits.max_message_bytes", "must be positive")
	}
	if c.Limits.RequestTTL <= 0 {
		ps.add("limits.request_ttl", "must be positive")
	}
	if c.Limits.FetchBudget < 1<<20 {
		ps.add("limits.fetch_budget", "must be at least 1MiB")
	}
	if c.Limits.DeferralTries < 1 {
		ps.add("limits.deferral_tries", "must be at least 1")
	}
	if c.Limits.DeferralMaxAge <= 0 {
		ps.add("limits.deferral_max_age", "must be positive")
	}
	c.validateRetention(ps)
	c.validateDirectories(ps)
	if c.Limits.DirectoryApplyMaxAge <= 0 {
		ps.add("limits.directory_apply_max_age", "must be positive")
	}
	switch l := c.Limits; {
	case l.ConfirmationTTL <= 0:
		ps.add("limits.confirmation_ttl", "must be positive")
	case l.RequestTTL > 0 && l.ConfirmationTTL > l.RequestTTL:
		ps.add("limits.confirmation_ttl", "must not exceed limits.request_ttl (%s): a link outliving the request has nothing to confirm", l.RequestTTL)
	}
	if c.TemplatesDir != "" {
		if fi, err := os.Stat(c.TemplatesDir); err != nil {
			ps.add("templates_dir", "not usable: %v", err)
		} else if !fi.IsDir() {
			ps.add("templates_dir", "%s is not a directory", c.TemplatesDir)
		}
	}
	oneOf(ps, "log.level", c.Log.Level, "debug", "info", "warn", "error")
	oneOf(ps, "log.format", c.Log.Format, LogText, LogJSON)
	return ps.err()
}

func (c *Config) validateDatabase(ps *Problems) {
	db := &c.Database
	if !oneOf(ps, "database.driver", db.Driver, DriverSQLite, DriverPostgres) {
		return
	}
	if db.DSN == "" && db.DSNFile == "" {
		if db.Driver == DriverPostgres {
			ps.add("database.dsn", "required when driver is postgres (e.g. postgres://unlockd@127.0.0.1:5432/unlockd?sslmode=disable)")
		} else {
			ps.add("database.dsn", "required (the SQLite database file)")
		}
		return
	}
	isURL := strings.HasPrefix(db.DSN, "postgres://") || strings.HasPrefix(db.DSN, "postgresql://")
	switch {
	case db.Driver == DriverSQLite && isURL:
		ps.add("database.dsn", "is a PostgreSQL URL but driver is sqlite; set database.driver: postgres")
	case db.Driver == DriverPostgres && isURL:
		if _, err := url.Parse(db.DSN); err != nil {
			// The DSN may hold a password: never print it.
			ps.add("database.dsn", "not a valid PostgreSQL URL")
		}
	case db.Driver == DriverPostgres && db.DSN != "" && !strings.Contains(db.DSN, "="):
		ps.add("database.dsn", "expected a postgres:// URL or key=value settings")
	case db.Driver == DriverSQLite:
		if dir := sqliteDir(db.DSN); dir != "" {
			if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
				ps.add("database.dsn", "the folder %s of the SQLite file %s does not exist; create it first", dir, db.DSN)
			}
		}
	}
	c.validatePool(ps)
}

// validatePool checks database.max_open_conns and max_idle_conns.
func (c *Config) validatePool(ps *Problems) {
	db := &c.Database
	for _, n := range []struct {
		key string
		v   int
	}{{"database.max_open_conns", db.MaxOpenConns}, {"database.max_idle_conns", db.MaxIdleConns}} {
		switch {
		case n.v != 0 && db.Driver != DriverPostgres:
			ps.add(n.key, "applies to driver postgres only (SQLite uses one connection)")
		case n.v < 0 || n.v > MaxConns:
			ps.add(n.key, "must be between 1 and %d (absent or 0: the default)", MaxConns)
		}
	}
	if db.MaxOpenConns > 0 && db.MaxIdleConns > db.MaxOpenConns {
		ps.add("database.max_idle_conns", "%d is more than max_open_conns (%d)", db.MaxIdleConns, db.MaxOpenConns)
	}
}

// sqliteDir is the folder an SQLite DSN (a path, or a file: URI with a
// query) puts its file in; "" for an in-memory database.
func sqliteDir(dsn string) string {
	path := dsn
	if rest, ok := strings.CutPrefix(dsn, "file:"); ok {
		path, _, _ = strings.Cut(rest, "?")
		if p, err := url.PathUnescape(path); err == nil {
			path = p
		}
		if strings.Contains(dsn, "mode=memory") {
			return ""
		}
	}
	if path == "" || path == ":memory:" {
		return ""
	}
	return filepath.Dir(path)
}

func validateIMAP(ps *Problems, path string, m *IMAP) {
	host, ok := hostPort(ps, path+".address", m.Address, true)
	tlsMode(ps, path+".tls", m.TLS, host, ok)
	caFile(ps, path+".ca_file", m.CAFile)
	if m.Username == "" {
		ps.add(path+".username", "required")
	}
	hasPassword := m.Password != "" || m.PasswordFile != ""
	switch {
	case !hasPassword && m.OAuth2TokenCommand == "":
		ps.add(path+".password", "one of password, password_file or oauth2_token_command is required")
	case hasPassword && m.OAuth2TokenCommand != "":
		ps.add(path+".oauth2_token_command", "cannot be combined with password or password_file")
	}
	if m.Mailbox == "" {
		ps.add(path+".mailbox", "required (the folder to watch, usually INBOX)")
	}
	if m.ProcessedFolder != "" && m.ProcessedFolder == m.Mailbox {
		ps.add(path+".processed_folder", "must differ from mailbox %q", m.Mailbox)
	}
	if m.RejectedFolder != "" && m.RejectedFolder == m.Mailbox {
		ps.add(path+".rejected_folder", "must differ from mailbox %q", m.Mailbox)
	}
	if m.PollInterval <= 0 {
		ps.add(path+".poll_interval", "must be positive")
	}
	if m.Timeout <= 0 {
		ps.add(path+".timeout", "must be positive")
	}
}

func (c *Config) validateSMTP(ps *Problems) {
	s := &c.SMTP
	if s.Address == "" {
		if len(c.Mailboxes) > 0 {
			ps.add("smtp.address", "required when mailboxes are configured (replies are sent over SMTP)")
		}
		oneOf(ps, "smtp.tls", s.TLS, TLSImplicit, TLSStartTLS, TLSNone)
	} else {
		host, ok := hostPort(ps, "smtp.address", s.Address, true)
		tlsMode(ps, "smtp.tls", s.TLS, host, ok)
		if s.From == "" {
			ps.add("smtp.from", "required when smtp.address is set")
		} else if _, err := s.FromAddress(); err != nil {
			ps.add("smtp.from", "%q is not an RFC 5322 mailbox (write e.g. Support <support@example.com> or support@example.com)", s.From)
		}
	}
	caFile(ps, "smtp.ca_file", s.CAFile)
	hasPassword := s.Password != "" || s.PasswordFile != ""
	switch {
	case s.Username != "" && !hasPassword:
		ps.add("smtp.password", "required when smtp.username is set")
	case s.Username == "" && hasPassword:
		ps.add("smtp.username", "required when a password is set")
	}
	if s.MaxAttempts < 1 {
		ps.add("smtp.max_attempts", "must be at least 1")
	}
	if s.Timeout <= 0 {
		ps.add("smtp.timeout", "must be positive")
	}
}

func (c *Config) validateSenderAuth(ps *Problems) {
	sa := &c.SenderAuth
	oneOf(ps, "sender_auth.mode", sa.Mode, SenderAuthDKIM, SenderAuthResults, SenderAuthAny, SenderAuthOff)
	if sa.Mode == SenderAuthResults && sa.AuthservID == "" {
		ps.add("sender_auth.authserv_id", "required when mode is authentication-results (the host name your mail server writes in Authentication-Results)")
	}
	if sa.DNSResolver != "" {
		hostPort(ps, "sender_auth.dns_resolver", sa.DNSResolver, true)
	}
	if sa.MaxSignatureAge <= 0 {
		ps.add("sender_auth.max_signature_age", "must be positive")
	}
	if sa.DNSTimeout <= 0 {
		ps.add("sender_auth.dns_timeout", "must be positive")
	}
}

func (c *Config) validateHTTP(ps *Problems) {
	h := &c.HTTP
	if h.Listen == "" {
		ps.add("http.listen", "required (e.g. 127.0.0.1:8080)")
	} else {
		hostPort(ps, "http.listen", h.Listen, false)
	}
	if h.PublicURL != "" {
		u, err := url.Parse(h.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			ps.add("http.public_url", "%q is not an absolute http:// or https:// URL", h.PublicURL)
		}
	}
	for _, d := range []struct {
		key string
		v   Duration
	}{{"read_header_timeout", h.ReadHeaderTimeout}, {"read_timeout", h.ReadTimeout}, {"write_timeout", h.WriteTimeout}, {"idle_timeout", h.IdleTimeout}} {
		if d.v <= 0 {
			ps.add("http."+d.key, "must be positive")
		}
	}
	if h.ReadHeaderTimeout > h.ReadTimeout && h.ReadTimeout > 0 {
		ps.add("http.read_header_timeout", "%s is longer than read_timeout %s, which covers the headers too", h.ReadHeaderTimeout, h.ReadTimeout)
	}
	if h.MaxHeaderBytes < minHeaderBytes || h.MaxHeaderBytes > maxHeaderBytes {
		ps.add("http.max_header_bytes", "must be from %s to %s", minHeaderBytes, maxHeaderBytes)
	}
	if h.MetricsToken != "" && (len(h.MetricsToken) < minMetricsToken || strings.ContainsAny(h.MetricsToken, " \t\r\n")) {
		// The token is a secret: never print it.
		ps.add("http.metrics_token", "must be at least %d characters without spaces", minMetricsToken)
	}
	if h.MetricsListen != "" {
		if _, ok := hostPort(ps, "http.metrics_listen", h.MetricsListen, false); ok && h.MetricsListen == h.Listen && !strings.HasSuffix(h.Listen, ":0") {
			ps.add("http.metrics_listen", "must differ from http.listen; leave it empty to serve /metrics on http.listen")
		}
	}
}

// Bounds of the http keys.
const (
	minHeaderBytes  = 4 * KiB // a browser's cookies and a bearer token fit
	maxHeaderBytes  = 1 * MiB // Go's own default
	minMetricsToken = 16
)

// oneOf checks that value is one of allowed and reports it otherwise.
func oneOf(ps *Problems, path, value string, allowed ...string) bool {
	for _, a := range allowed {
		if value == a {
			return true
		}
	}
	list := strings.Join(allowed[:len(allowed)-1], ", ") + " or " + allowed[len(allowed)-1]
	if value == "" {
		ps.add(path, "required; one of %s", list)
	} else {
		ps.add(path, "invalid value %q: must be %s", value, list)
	}
	return false
}
