package ldap

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"

	goldap "github.com/go-ldap/ldap/v3"
	"github.com/unlockd/unlockd/internal/domain"
)

// temporaryCodes are LDAP results worth retrying: the server is busy,
// restarting or cut off, or the client lost the connection.
var temporaryCodes = map[uint16]bool{
	goldap.LDAPResultTimeLimitExceeded: true,
	goldap.LDAPResultBusy:              true,
	goldap.LDAPResultUnavailable:       true,
	goldap.LDAPResultServerDown:        true,
	goldap.LDAPResultTimeout:           true,
	goldap.LDAPResultConnectError:      true,
	goldap.ErrorNetwork:                true,
}

// classify wraps err with what failed and marks it temporary or not.
// what names the operation, e.g. "search ou=acme,dc=example,dc=com".
func (d *Directory) classify(what string, err error) error {
	if err == nil {
		return nil
	}
	msg := fmt.Sprintf("ldap %s: %s", d.name, what)
	if domain.IsTemporary(err) {
		return domain.Temporary("%s: %w", msg, err)
	}
	if isCertError(err) {
		return fmt.Errorf("%s: TLS: %w (is ca_file the CA of the server's certificate?)", msg, err)
	}
	if isNetError(err) {
		return domain.Temporary("%s: %w", msg, err)
	}
	var le *goldap.Error
	if errors.As(err, &le) {
		switch {
		case temporaryCodes[le.ResultCode]:
			return domain.Temporary("%s: %w", msg, err)
		case le.ResultCode == goldap.LDAPResultInvalidCredentials:
			return fmt.Errorf("%s: the server refused the service account's credentials (bind_dn %s, bind_password): %w", msg, d.cfg.BindDN, err)
		case le.ResultCode == goldap.LDAPResultInsufficientAccessRights:
			return fmt.Errorf("%s: the service account %s lacks the rights (the server's ACLs): %w", msg, d.cfg.BindDN, err)
		}
	}
	return fmt.Errorf("%s: %w", msg, err)
}

// classifyOn is classify for an error of an operation on c: when c
// broke under it (go-ldap then reports the read error as plain text),
// the error is temporary.
func (d *Directory) classifyOn(c *goldap.Conn, what string, err error) error {
	if err != nil && c.IsClosing() && !isCertError(err) && !domain.IsTemporary(err) {
		return domain.Temporary("ldap %s: %s: the connection broke: %w", d.name, what, err)
	}
	return d.classify(what, err)
}

func isNetError(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}

func isCertError(err error) bool {
	var (
		verr  *tls.CertificateVerificationError
		uaerr x509.UnknownAuthorityError
		herr  x509.HostnameError
		cerr  x509.CertificateInvalidError
	)
	return errors.As(err, &verr) || errors.As(err, &uaerr) || errors.As(err, &herr) || errors.As(err, &cerr)
}

// isCode reports whether err is an LDAP result with code.
func isCode(err error, code uint16) bool {
	return goldap.IsErrorWithCode(err, code)
}
