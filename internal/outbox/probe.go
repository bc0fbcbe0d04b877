package outbox

import (
	"context"
	"fmt"

	"github.com/unlockd/unlockd/internal/config"
)

// Probe connects to the SMTP server exactly as the worker does: the
// greeting, TLS (implicit, or a STARTTLS the server must offer), AUTH when
// smtp.username is set, all within smtp.timeout; then it says QUIT. No
// mail is sent. The detail it returns says what was negotiated; neither
// it nor the error holds the password.
func Probe(ctx context.Context, cfg config.SMTP) (string, error) {
	timeout := cfg.Timeout.Std()
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	d, err := newDialer(cfg, timeout)
	if err != nil {
		return "", err
	}
	c, err := d.dial(ctx)
	if err != nil {
		return "", err
	}
	if err := c.Close(); err != nil {
		return "", fmt.Errorf("outbox: quit: %w", err)
	}
	detail := cfg.Address + ", "
	switch cfg.TLS {
	case config.TLSImplicit:
		detail += "implicit TLS"
	case config.TLSNone:
		detail += "plain text (tls: none, loopback only)"
	default:
		detail += "STARTTLS"
	}
	if cfg.Username != "" {
		detail += ", AUTH as " + cfg.Username
	} else {
		detail += ", no AUTH (smtp.username is empty)"
	}
	return detail + "; no mail sent", nil
}
