package config

import (
	"fmt"
	"net/mail"
	"strings"
	"time"
)

// Accepted values of the enumerated keys.
const (
	// DriverSQLite selects the embedded SQLite store (database.driver).
	DriverSQLite = "sqlite"
	// DriverPostgres selects the PostgreSQL store (database.driver).
	DriverPostgres = "postgres"

	// TLSImplicit connects with TLS from the first byte (IMAP 993, SMTP 465).
	TLSImplicit = "implicit"
	// TLSStartTLS connects in plain text and upgrades with STARTTLS.
	TLSStartTLS = "starttls"
	// TLSNone uses no TLS at all; it is accepted for loopback hosts only.
	TLSNone = "none"

	// SenderAuthDKIM trusts a sender only with a valid aligned DKIM signature.
	SenderAuthDKIM = "dkim"
	// SenderAuthResults trusts the Authentication-Results header written by
	// the receiving server named in sender_auth.authserv_id.
	SenderAuthResults = "authentication-results"
	// SenderAuthAny trusts a sender when either DKIM or Authentication-Results passes.
	SenderAuthAny = "any"
	// SenderAuthOff trusts the From header as is; for tests and demos only.
	SenderAuthOff = "off"

	// LogText selects human-readable log lines (log.format).
	LogText = "text"
	// LogJSON selects one JSON object per log line (log.format).
	LogJSON = "json"
)

// Default values applied to keys that are absent from the file.
const (
	// DefaultSQLiteDSN is database.dsn when the driver is sqlite.
	DefaultSQLiteDSN = "unlockd.db"
	// DefaultIMAPMailbox is mailboxes[i].imap.mailbox.
	DefaultIMAPMailbox = "INBOX"
	// DefaultPollInterval is mailboxes[i].imap.poll_interval.
	DefaultPollInterval = 30 * time.Second
	// DefaultSMTPMaxAttempts is smtp.max_attempts.
	DefaultSMTPMaxAttempts = 10
	// DefaultIMAPTimeout is mailboxes[i].imap.timeout.
	DefaultIMAPTimeout = time.Minute
	// DefaultSMTPTimeout is smtp.timeout.
	DefaultSMTPTimeout = 30 * time.Second
	// DefaultDNSTimeout is sender_auth.dns_timeout.
	DefaultDNSTimeout = 10 * time.Second
	// DefaultListen is http.listen.
	DefaultListen = "127.0.0.1:8080"
	// DefaultReadHeaderTimeout is http.read_header_timeout.
	DefaultReadHeaderTimeout = 10 * time.Second
	// DefaultReadTimeout is http.read_timeout.
	DefaultReadTimeout = 30 * time.Second
	// DefaultWriteTimeout is http.write_timeout.
	DefaultWriteTimeout = time.Minute
	// DefaultIdleTimeout is http.idle_timeout.
	DefaultIdleTimeout = 2 * time.Minute
	// DefaultMaxHeaderBytes is http.max_header_bytes (64 KiB).
	DefaultMaxHeaderBytes = 64 << 10
	// DefaultMaxMessageBytes is limits.max_message_bytes (10 MiB).
	DefaultMaxMessageBytes = 10 << 20
	// DefaultRequestTTL is limits.request_ttl.
	DefaultRequestTTL = 7 * 24 * time.Hour
	// DefaultConfirmationTTL is limits.confirmation_ttl.
	DefaultConfirmationTTL = 30 * time.Minute
	// DefaultMaxSignatureAge is sender_auth.max_signature_age.
	DefaultMaxSignatureAge = 7 * 24 * time.Hour
	// DefaultFetchBudget is limits.fetch_budget (32 MiB).
	DefaultFetchBudget = 32 << 20
	// DefaultDeferralTries is limits.deferral_tries.
	DefaultDeferralTries = 8
	// DefaultDeferralMaxAge is limits.deferral_max_age.
	DefaultDeferralMaxAge = time.Hour
	// DefaultRetention is limits.retention.
	DefaultRetention = 400 * 24 * time.Hour
	// DefaultMailRetention is limits.mail_retention.
	DefaultMailRetention = 30 * 24 * time.Hour
	// DefaultLogLevel is log.level.
	DefaultLogLevel = "info"
)

// Config is the whole configuration file.
type Config struct {
	Database   Database   `yaml:"database"`
	Mailboxes  []Mailbox  `yaml:"mailboxes"`
	SMTP       SMTP       `yaml:"smtp"`
	SenderAuth SenderAuth `yaml:"sender_auth"`
	HTTP       HTTP       `yaml:"http"`
	Limits     Limits     `yaml:"limits"`
	// Directories are the user stores besides builtin that orgs may name
	// (directories.go).
	Directories  []Directory `yaml:"directories"`
	TemplatesDir string      `yaml:"templates_dir"` // optional override of the embedded templates
	Log          Log         `yaml:"log"`
}

// Database selects and locates the store.
type Database struct {
	Driver  string `yaml:"driver"`   // sqlite or postgres
	DSN     string `yaml:"dsn"`      // file name for sqlite, connection string for postgres
	DSNFile string `yaml:"dsn_file"` // file holding the DSN; read into DSN by Load
	// MaxOpenConns and MaxIdleConns size the PostgreSQL pool for queries
	// (mailbox leases hold connections of their own on top); 0 means the
	// store's defaults (store.DefaultMaxOpenConns open, as many idle).
	MaxOpenConns int `yaml:"max_open_conns"`
	MaxIdleConns int `yaml:"max_idle_conns"`
}

// MaxConns bounds database.max_open_conns and max_idle_conns.
const MaxConns = 1000

// Mailbox is one IMAP mailbox that unlock requests arrive in.
type Mailbox struct {
	Name string `yaml:"name"` // unique; identifies the mailbox in the store and logs
	IMAP IMAP   `yaml:"imap"`
}

// IMAP holds the connection and folder settings of one mailbox.
type IMAP struct {
	Address            string   `yaml:"address"` // host:port
	TLS                string   `yaml:"tls"`     // implicit, starttls or none
	CAFile             string   `yaml:"ca_file"` // extra PEM roots; empty means the system pool
	Username           string   `yaml:"username"`
	Password           string   `yaml:"password"`
	PasswordFile       string   `yaml:"password_file"`        // read into Password by Load
	OAuth2TokenCommand string   `yaml:"oauth2_token_command"` // prints an access token for XOAUTH2/OAUTHBEARER
	Mailbox            string   `yaml:"mailbox"`              // folder to watch
	ProcessedFolder    string   `yaml:"processed_folder"`     // where handled mail is moved; empty leaves it
	RejectedFolder     string   `yaml:"rejected_folder"`      // where refused mail is moved; empty leaves it
	IDLE               bool     `yaml:"idle"`                 // use IDLE when the server offers it
	PollInterval       Duration `yaml:"poll_interval"`        // polling period without IDLE
	Timeout            Duration `yaml:"timeout"`              // longest silence of the server while an answer is due
}

// SMTP is the server replies and notifications are delivered through.
type SMTP struct {
	Address      string   `yaml:"address"` // host:port
	TLS          string   `yaml:"tls"`     // implicit, starttls or none
	CAFile       string   `yaml:"ca_file"`
	Username     string   `yaml:"username"` // empty disables AUTH
	Password     string   `yaml:"password"`
	PasswordFile string   `yaml:"password_file"` // read into Password by Load
	From         string   `yaml:"from"`          // RFC 5322 mailbox: "Support <support@example.com>" or a bare address
	MaxAttempts  int      `yaml:"max_attempts"`  // deliveries before a message is dead-lettered
	Timeout      Duration `yaml:"timeout"`       // bounds connecting and each mail transaction
}

// SenderAuth decides how the sender of an unlock request is authenticated.
type SenderAuth struct {
	Mode        string   `yaml:"mode"`         // dkim, authentication-results, any or off
	AuthservID  string   `yaml:"authserv_id"`  // the trusted Authentication-Results writer
	DNSResolver string   `yaml:"dns_resolver"` // host:port for DKIM lookups; empty means the system resolver
	DNSTimeout  Duration `yaml:"dns_timeout"`  // bounds each DNS query
	// MaxSignatureAge: older DKIM signatures (by t=, or a signed Date) do
	// not count, so an old genuine mail cannot be replayed.
	MaxSignatureAge Duration `yaml:"max_signature_age"`
}

// HTTP configures the API and web UI listener.
type HTTP struct {
	Listen    string `yaml:"listen"`     // host:port
	PublicURL string `yaml:"public_url"` // absolute base URL used in links; https makes cookies Secure

	// Limits of every connection (http.Server's fields of the same names).
	ReadHeaderTimeout Duration `yaml:"read_header_timeout"` // to read a request's headers
	ReadTimeout       Duration `yaml:"read_timeout"`        // to read a whole request, body included
	WriteTimeout      Duration `yaml:"write_timeout"`       // from the end of the headers to the end of the answer
	IdleTimeout       Duration `yaml:"idle_timeout"`        // a kept-alive connection waiting for its next request
	MaxHeaderBytes    ByteSize `yaml:"max_header_bytes"`    // request line and headers; larger is 431

	// /metrics: open on listen by default; metrics_token requires
	// "Authorization: Bearer <token>"; metrics_listen serves it on its own
	// address instead of listen.
	MetricsToken     string `yaml:"metrics_token"`
	MetricsTokenFile string `yaml:"metrics_token_file"` // read into MetricsToken by Load
	MetricsListen    string `yaml:"metrics_listen"`     // host:port

	// Operator sign-in and password checks (signin.go).
	TrustedProxies     []string `yaml:"trusted_proxies"`     // CIDRs or addresses whose forwarding header is believed
	ProxyHeader        string   `yaml:"proxy_header"`        // x-forwarded-for or forwarded
	PasswordHashes     int      `yaml:"password_hashes"`     // argon2id computations at once, in all
	AuthenticateHashes int      `yaml:"authenticate_hashes"` // of those, kept for /authenticate; 0: half
	PasswordHashWait   Duration `yaml:"password_hash_wait"`  // wait for a slot before 429
	SignInBurst        int      `yaml:"signin_burst"`        // sign-in attempts per client address at once
	SignInRefill       Duration `yaml:"signin_refill"`       // one more attempt per client every
	RequireTOTP        string   `yaml:"require_totp"`        // staff, all or none
}

// Limits bounds what unlockd accepts and how long requests live.
type Limits struct {
	MaxMessageBytes ByteSize `yaml:"max_message_bytes"` // larger messages are rejected unread
	RequestTTL      Duration `yaml:"request_ttl"`       // queued requests expire after this
	// FetchBudget bounds the bytes of mail each mailbox holds in memory at
	// once: batches are cut by it, and larger messages are streamed to a
	// temporary file.
	FetchBudget ByteSize `yaml:"fetch_budget"`
	// DeferralTries and DeferralMaxAge cap how often, and for how long, a
	// message whose sender authentication failed temporarily is tried
	// again before it is decided as unauthenticated.
	DeferralTries  int      `yaml:"deferral_tries"`
	DeferralMaxAge Duration `yaml:"deferral_max_age"`
	// Retention, MailRetention and AuditRetention say how long records
	// are kept (0: for good): decisions with their request items, sent
	// and dead mail; the bodies of sent mail; audit entries.
	Retention      Duration `yaml:"retention"`
	MailRetention  Duration `yaml:"mail_retention"`
	AuditRetention Duration `yaml:"audit_retention"`
	// ConfirmationTTL is how long a confirmation link works.
	ConfirmationTTL Duration `yaml:"confirmation_ttl"`
	// DirectoryApplyMaxAge is how long an unlock decided for a remote
	// directory is retried while the directory cannot answer; past it the
	// item goes to staff (queue reason directory_error).
	DirectoryApplyMaxAge Duration `yaml:"directory_apply_max_age"`
}

// Log configures the process logger.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn or error
	Format string `yaml:"format"` // text or json
}

// Default returns a configuration holding every default value: an SQLite
// store in unlockd.db, no mailboxes, no SMTP server, sender_auth mode any,
// the HTTP listener on 127.0.0.1:8080 and info-level text logs. It
// validates as is.
func Default() *Config {
	return &Config{
		Database: Database{Driver: DriverSQLite, DSN: DefaultSQLiteDSN},
		SMTP: SMTP{
			TLS:         TLSStartTLS,
			MaxAttempts: DefaultSMTPMaxAttempts,
			Timeout:     Duration(DefaultSMTPTimeout),
		},
		SenderAuth: SenderAuth{Mode: SenderAuthAny, DNSTimeout: Duration(DefaultDNSTimeout), MaxSignatureAge: Duration(DefaultMaxSignatureAge)},
		HTTP: HTTP{Listen: DefaultListen, ReadHeaderTimeout: Duration(DefaultReadHeaderTimeout),
			ReadTimeout: Duration(DefaultReadTimeout), WriteTimeout: Duration(DefaultWriteTimeout),
			IdleTimeout: Duration(DefaultIdleTimeout), MaxHeaderBytes: DefaultMaxHeaderBytes,
			ProxyHeader: ProxyXForwardedFor, PasswordHashes: DefaultPasswordHashes(),
			PasswordHashWait: Duration(DefaultPasswordHashWait), SignInBurst: DefaultSignInBurst,
			SignInRefill: Duration(DefaultSignInRefill), RequireTOTP: RequireTOTPStaff},
		Limits: Limits{
			MaxMessageBytes:      DefaultMaxMessageBytes,
			RequestTTL:           Duration(DefaultRequestTTL),
			FetchBudget:          DefaultFetchBudget,
			DeferralTries:        DefaultDeferralTries,
			DeferralMaxAge:       Duration(DefaultDeferralMaxAge),
			Retention:            Duration(DefaultRetention),
			MailRetention:        Duration(DefaultMailRetention),
			ConfirmationTTL:      Duration(DefaultConfirmationTTL),
			DirectoryApplyMaxAge: Duration(DefaultDirectoryApplyMaxAge),
		},
		Log: Log{Level: DefaultLogLevel, Format: LogText},
	}
}

// DefaultMailbox returns a mailbox named name with the IMAP defaults:
// implicit TLS, the INBOX folder, IDLE on, a 30s poll interval and a one
// minute timeout. The
// caller fills in the address and credentials.
func DefaultMailbox(name string) Mailbox {
	m := Mailbox{Name: name}
	m.setDefaults()
	return m
}

// setDefaults fills a mailbox decoded from a list entry before its keys are
// applied; the decoder calls it for every new element of Config.Mailboxes.
func (m *Mailbox) setDefaults() {
	m.IMAP.TLS = TLSImplicit
	m.IMAP.Mailbox = DefaultIMAPMailbox
	m.IMAP.IDLE = true
	m.IMAP.PollInterval = Duration(DefaultPollInterval)
	m.IMAP.Timeout = Duration(DefaultIMAPTimeout)
}

// FromAddress parses From, an RFC 5322 mailbox: a bare address
// (support@example.com) or one with a display name (Support
// <support@example.com>, "Support, Acme" <support@example.com>), UTF-8
// allowed. The address is the envelope sender of every mail; the name, when
// set, appears in the From field of replies and notifications,
// RFC 2047-encoded where it is not ASCII.
func (s SMTP) FromAddress() (*mail.Address, error) {
	a, err := mail.ParseAddress(s.From)
	if err != nil {
		return nil, fmt.Errorf("config: smtp.from %q: %w", s.From, err)
	}
	if at := strings.LastIndexByte(a.Address, '@'); at <= 0 || at == len(a.Address)-1 {
		return nil, fmt.Errorf("config: smtp.from %q has no domain", s.From)
	}
	return a, nil
}
