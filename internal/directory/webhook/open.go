package webhook

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/unlockd/unlockd/internal/domain"
)

// Defaults for the zero values of Config.
const (
	DefaultTimeout     = 10 * time.Second
	DefaultMaxAttempts = 3
	// MinSecretBytes is the shortest secret Open accepts.
	MinSecretBytes = 16
)

// Config describes one webhook directory. Its field names follow the
// configuration keys (url, secret, ca_file, timeout, max_attempts).
type Config struct {
	// URL is the base URL; operations are POSTed to URL + "/lookup" and so
	// on. It must be https, except http to 127.0.0.1, ::1 or localhost,
	// and carry no credentials, query or fragment. Staff set it in the
	// configuration only.
	URL string
	// Secret is the HMAC-SHA256 key the requests are signed with, at
	// least MinSecretBytes long. Never logged, never in an error.
	Secret string
	// CAFile is a PEM bundle of the CAs the application's certificate
	// must chain to; the system's roots when empty.
	CAFile string
	// Timeout bounds one call, its retries included; DefaultTimeout when
	// zero.
	Timeout time.Duration
	// MaxAttempts bounds the tries of one call on a 5xx, 429 or network
	// error; DefaultMaxAttempts when zero.
	MaxAttempts int
}

// Directory is an application reached over signed HTTPS. It is safe for
// concurrent use.
type Directory struct {
	name    string
	base    string // URL without a trailing slash
	secret  []byte
	timeout time.Duration
	tries   int
	client  *http.Client

	// Now is the clock the signatures are made with; time.Now unless a
	// test sets it.
	Now func() time.Time
}

var _ domain.Directory = (*Directory)(nil)

// Open checks c and returns the directory, without calling the
// application (Ping does).
func Open(_ context.Context, name string, c Config) (*Directory, error) {
	d, err := open(name, c)
	if err != nil {
		return nil, fmt.Errorf("directory %q: %w", name, err)
	}
	return d, nil
}

func open(name string, c Config) (*Directory, error) {
	base, err := checkURL(c.URL)
	if err != nil {
		return nil, err
	}
	if len(c.Secret) < MinSecretBytes {
		return nil, fmt.Errorf("secret must be at least %d bytes", MinSecretBytes)
	}
	if c.Timeout < 0 || c.MaxAttempts < 0 {
		return nil, errors.New("timeout and max_attempts must not be negative")
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	tlsc := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("ca_file: %w", err)
		}
		tlsc.RootCAs = x509.NewCertPool()
		if !tlsc.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca_file %s: no PEM certificate in it", c.CAFile)
		}
	}
	transport := &http.Transport{
		Proxy:                  nil, // the URL is called directly, never through a proxy from the environment
		DialContext:            (&net.Dialer{Timeout: c.Timeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:        tlsc,
		TLSHandshakeTimeout:    c.Timeout,
		ResponseHeaderTimeout:  c.Timeout,
		MaxResponseHeaderBytes: 64 << 10,
		MaxIdleConnsPerHost:    4,
		MaxConnsPerHost:        16,
		IdleConnTimeout:        90 * time.Second,
		ForceAttemptHTTP2:      true,
	}
	client := &http.Client{
		Transport: transport,
		// A redirect would send a signed request somewhere staff did not
		// configure: it is an answer of its own, a permanent error.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &Directory{name: name, base: base, secret: []byte(c.Secret), timeout: c.Timeout, tries: c.MaxAttempts, client: client, Now: time.Now}, nil
}

// checkURL returns u without its trailing slash when it is an https URL,
// or an http one to the loopback host, with no credentials, query or
// fragment.
func checkURL(u string) (string, error) {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" {
		return "", fmt.Errorf("url %q is not an absolute URL", u)
	}
	switch {
	case p.User != nil:
		return "", errors.New("url must not hold credentials: the requests are signed with secret")
	case p.RawQuery != "" || p.Fragment != "":
		return "", errors.New("url must have no query or fragment")
	case p.Scheme == "https":
	case p.Scheme == "http" && (p.Hostname() == "127.0.0.1" || p.Hostname() == "::1" || p.Hostname() == "localhost"):
	default:
		return "", fmt.Errorf("url %q must be https (http only to 127.0.0.1, ::1 or localhost)", p.Redacted())
	}
	return strings.TrimRight(p.String(), "/"), nil
}

// Name is the directory's name in the configuration.
func (d *Directory) Name() string { return d.name }

// Capabilities: lock and list; setting a password is not part of the
// webhook protocol.
func (d *Directory) Capabilities() domain.Capabilities {
	return domain.Capabilities{Lock: true, ListLocked: true}
}

// Ping POSTs {} to URL/ping and expects {"result":"ok"}.
func (d *Directory) Ping(ctx context.Context) error {
	var ans resultAnswer
	if err := d.call(ctx, "ping", struct{}{}, &ans); err != nil {
		return err
	}
	if ans.Result != "ok" {
		return d.garbage("ping", fmt.Errorf("result %q, want ok", ans.Result))
	}
	return nil
}

// Close releases idle connections.
func (d *Directory) Close() error {
	d.client.CloseIdleConnections()
	return nil
}
