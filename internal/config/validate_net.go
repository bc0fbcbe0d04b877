package config

import (
	"crypto/x509"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
)

// hostPort checks that addr is host:port and returns the host. An address
// to dial needs a host and a port from 1 to 65535; an address to listen on
// (dial false) may leave the host empty for all interfaces and use port 0
// for any free port.
func hostPort(ps *Problems, path, addr string, dial bool) (host string, ok bool) {
	if addr == "" {
		ps.add(path, "required")
		return "", false
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		if ae, isAddr := err.(*net.AddrError); isAddr && strings.HasPrefix(ae.Err, "missing port") {
			ps.add(path, "missing port")
		} else {
			ps.add(path, "invalid address %q: expected host:port", addr)
		}
		return "", false
	}
	minPort := 1
	if !dial {
		minPort = 0
	}
	if n, err := strconv.Atoi(port); err != nil || n < minPort || n > 65535 {
		ps.add(path, "invalid port %q", port)
		return "", false
	}
	if dial && host == "" {
		ps.add(path, "missing host")
		return "", false
	}
	return host, true
}

// tlsMode checks a tls value, and that "none" is used only towards a
// loopback host (hostKnown is false when the address was already reported).
func tlsMode(ps *Problems, path, mode, host string, hostKnown bool) {
	if !oneOf(ps, path, mode, TLSImplicit, TLSStartTLS, TLSNone) {
		return
	}
	if mode == TLSNone && hostKnown && !isLoopback(host) {
		ps.add(path, "none is only allowed for a loopback host (localhost, 127.0.0.0/8 or ::1), not %q; use implicit or starttls", host)
	}
}

// isLoopback reports whether host is localhost or a loopback IP address.
func isLoopback(host string) bool {
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// caFile checks that a ca_file, when set, is readable and holds at least
// one PEM certificate.
func caFile(ps *Problems, path, file string) {
	if file == "" {
		return
	}
	data, err := os.ReadFile(file)
	if err != nil {
		ps.add(path, "not usable: %v", err)
		return
	}
	if !x509.NewCertPool().AppendCertsFromPEM(data) {
		ps.add(path, "%s holds no PEM certificate", file)
	}
}
