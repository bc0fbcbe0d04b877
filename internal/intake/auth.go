package intake

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"
)

// tokenTimeout bounds the OAuth 2.0 token command.
const tokenTimeout = 30 * time.Second

// login authenticates: with an OAuth 2.0 access token printed by the
// configured command (XOAUTH2 or OAUTHBEARER, whichever the server offers),
// otherwise with LOGIN, or AUTHENTICATE PLAIN where the server disables
// LOGIN.
func (w *Watcher) login(ctx context.Context, c *imapclient.Client) error {
	caps := c.Caps()
	if w.cfg.OAuth2TokenCommand != "" {
		token, err := runTokenCommand(ctx, w.cfg.OAuth2TokenCommand)
		if err != nil {
			return err
		}
		var sc sasl.Client
		switch {
		case caps.Has(imap.AuthCap("XOAUTH2")):
			sc = xoauth2{user: w.cfg.Username, token: token}
		case caps.Has(imap.AuthCap(sasl.OAuthBearer)):
			sc = sasl.NewOAuthBearerClient(&sasl.OAuthBearerOptions{Username: w.cfg.Username, Token: token})
		default:
			return errors.New("intake: the server offers neither XOAUTH2 nor OAUTHBEARER for oauth2_token_command")
		}
		if err := c.Authenticate(sc); err != nil {
			return fmt.Errorf("intake: oauth2 authentication: %w", err)
		}
		return nil
	}
	if caps.Has(imap.CapLoginDisabled) {
		if err := c.Authenticate(sasl.NewPlainClient("", w.cfg.Username, w.cfg.Password)); err != nil {
			return fmt.Errorf("intake: authenticate plain: %w", err)
		}
		return nil
	}
	if err := c.Login(w.cfg.Username, w.cfg.Password).Wait(); err != nil {
		return fmt.Errorf("intake: login: %w", err)
	}
	return nil
}

// runTokenCommand runs command with sh and returns its trimmed standard
// output, the access token. Its standard error goes into the error, never
// the token.
func runTokenCommand(ctx context.Context, command string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, tokenTimeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "sh", "-c", command)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("intake: oauth2_token_command: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	token := strings.TrimSpace(stdout.String())
	if token == "" || strings.ContainsAny(token, "\r\n\x01") {
		return "", errors.New("intake: oauth2_token_command printed no single-line token")
	}
	return token, nil
}

// xoauth2 is the XOAUTH2 SASL mechanism of Google and Microsoft.
type xoauth2 struct{ user, token string }

func (x xoauth2) Start() (string, []byte, error) {
	return "XOAUTH2", []byte("user=" + x.user + "\x01auth=Bearer " + x.token + "\x01\x01"), nil
}

// Next answers a server challenge, which carries an error description, with
// an empty response so that the server ends the exchange with NO.
func (x xoauth2) Next([]byte) ([]byte, error) { return []byte{}, nil }
