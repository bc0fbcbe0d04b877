package web

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// The client's address, found once per request (Server.ServeHTTP) and used
// by everything that needs it: the per-client sign-in throttle, the audit
// entries' source, the logs, and every later per-address limit.
//
// Behind a reverse proxy every connection comes from the proxy, so the
// proxy's forwarding header is believed, but only when the connection
// comes from a trusted proxy (http.trusted_proxies), and only as far as
// trusted proxies wrote it: the header is read from the right, skipping
// the addresses of trusted proxies, and the first other address is the
// client. Anything to its left was written by the client and may be
// forged. A direct connection from anywhere else is its own client, and
// its forwarding headers are ignored.

// Forwarding headers http.proxy_header may name.
const (
	HeaderXForwardedFor = "X-Forwarded-For"
	HeaderForwarded     = "Forwarded"
)

// Proxies says which peers' forwarding header is believed.
type Proxies struct {
	// Trusted lists the proxies' networks; empty trusts nobody.
	Trusted []netip.Prefix
	// Header is HeaderXForwardedFor (the default when empty) or
	// HeaderForwarded (RFC 7239): the one the proxies write.
	Header string
}

// ClientAddr returns the address of the client that made r: the peer's
// address, or for a peer that is a trusted proxy, the right-most address
// of the forwarding header that is not a trusted proxy's. When every
// address in the header is trusted (or the header is absent) it is the
// left-most trusted one; an entry that is not an address stops the walk,
// and the last trusted address is the answer.
func (p Proxies) ClientAddr(r *http.Request) netip.Addr {
	peer := remoteAddr(r.RemoteAddr)
	if !p.trusted(peer) {
		return peer
	}
	hops := p.hops(r.Header)
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(hops[i])
		if err != nil {
			return client
		}
		client = a.Unmap()
		if !p.trusted(client) {
			return client
		}
	}
	return client
}

func (p Proxies) trusted(a netip.Addr) bool {
	for _, n := range p.Trusted {
		if n.Contains(a) {
			return true
		}
	}
	return false
}

// hops lists the addresses of the configured forwarding header, in order,
// every field line joined, each as written (port and brackets removed).
func (p Proxies) hops(h http.Header) []string {
	var out []string
	if strings.EqualFold(p.Header, HeaderForwarded) {
		for _, line := range h.Values(HeaderForwarded) {
			for elem := range strings.SplitSeq(line, ",") {
				out = append(out, forwardedFor(elem))
			}
		}
		return out
	}
	for _, line := range h.Values(HeaderXForwardedFor) {
		for hop := range strings.SplitSeq(line, ",") {
			out = append(out, hostOnly(strings.TrimSpace(hop)))
		}
	}
	return out
}

// forwardedFor returns the for= node of one Forwarded element
// (for=192.0.2.60;proto=https, for="[2001:db8::1]:4711"), or "" when it has
// none; "unknown" and obfuscated names are not addresses and stay as they
// are, so that they stop the walk.
func forwardedFor(elem string) string {
	for pair := range strings.SplitSeq(elem, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), "for") {
			return hostOnly(strings.Trim(strings.TrimSpace(v), `"`))
		}
	}
	return ""
}

// hostOnly strips a port and IPv6 brackets: "[::1]:80" → "::1",
// "192.0.2.1:80" → "192.0.2.1"; anything else is returned as it is.
func hostOnly(s string) string {
	if host, _, err := net.SplitHostPort(s); err == nil {
		return host
	}
	return strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
}

// remoteAddr parses http.Request.RemoteAddr ("ip:port"); IPv4-mapped IPv6
// addresses are unmapped so that IPv4 networks match them.
func remoteAddr(s string) netip.Addr {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap()
	}
	a, _ := netip.ParseAddr(hostOnly(s))
	return a.Unmap()
}

// clientAddr returns the client address Server.ServeHTTP found.
func clientAddr(ctx context.Context) netip.Addr {
	a, _ := ctx.Value(clientAddrKey).(netip.Addr)
	return a
}
