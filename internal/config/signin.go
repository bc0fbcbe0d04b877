package config

import (
	"fmt"
	"net/netip"
	"runtime"
	"strings"
	"time"
)

// Values of http.proxy_header and http.require_totp.
const (
	// ProxyXForwardedFor reads the client from X-Forwarded-For.
	ProxyXForwardedFor = "x-forwarded-for"
	// ProxyForwarded reads the client from Forwarded (RFC 7239).
	ProxyForwarded = "forwarded"

	// RequireTOTPStaff makes support staff sign in with a second factor.
	RequireTOTPStaff = "staff"
	// RequireTOTPAll makes every operator sign in with a second factor.
	RequireTOTPAll = "all"
	// RequireTOTPNone leaves the second factor to each operator.
	RequireTOTPNone = "none"
)

// Defaults of the sign-in keys of http.
const (
	// DefaultPasswordHashWait is http.password_hash_wait.
	DefaultPasswordHashWait = time.Second
	// DefaultSignInBurst is http.signin_burst.
	DefaultSignInBurst = 10
	// DefaultSignInRefill is http.signin_refill.
	DefaultSignInRefill = 6 * time.Second
	// maxDefaultHashes caps the CPU-derived default of http.password_hashes,
	// so that a large machine does not give hashing gigabytes by default.
	maxDefaultHashes = 8
)

// DefaultPasswordHashes is http.password_hashes: the number of CPUs Go
// uses (GOMAXPROCS), at least 2 and at most 8.
func DefaultPasswordHashes() int { return min(maxDefaultHashes, max(2, runtime.GOMAXPROCS(0))) }

// HashShares splits http.password_hashes into the share of web sign-ins
// and password changes and the share kept for /authenticate
// (http.authenticate_hashes, by default half, rounded up).
func (h HTTP) HashShares() (signIn, authenticate int) {
	authenticate = h.AuthenticateHashes
	if authenticate == 0 {
		authenticate = (h.PasswordHashes + 1) / 2
	}
	return h.PasswordHashes - authenticate, authenticate
}

// Proxies returns http.trusted_proxies as networks; a bare address is a
// network of one. Entries Validate refused are left out.
func (h HTTP) Proxies() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range h.TrustedProxies {
		if p, ok := parseProxy(s); ok {
			out = append(out, p)
		}
	}
	return out
}

func parseProxy(s string) (netip.Prefix, bool) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, false
		}
		return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-unmapBits(p.Addr())).Masked(), true
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, false
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), true
}

// unmapBits is what a prefix length loses when its IPv4-mapped IPv6
// address is unmapped.
func unmapBits(a netip.Addr) int {
	if a.Is4In6() {
		return 96
	}
	return 0
}

func (c *Config) validateSignIn(ps *Problems) {
	h := &c.HTTP
	for i, s := range h.TrustedProxies {
		if _, ok := parseProxy(s); !ok {
			ps.add(fmt.Sprintf("http.trusted_proxies[%d]", i), "%q is not an address or a CIDR network (e.g. 10.0.0.0/8, 192.0.2.7 or fd00::/8)", s)
		}
	}
	oneOf(ps, "http.proxy_header", h.ProxyHeader, ProxyXForwardedFor, ProxyForwarded)
	if h.PasswordHashes < 2 {
		ps.add("http.password_hashes", "must be at least 2 (one for sign-ins, one for /authenticate)")
	} else if h.AuthenticateHashes != 0 && (h.AuthenticateHashes < 1 || h.AuthenticateHashes >= h.PasswordHashes) {
		ps.add("http.authenticate_hashes", "must be between 1 and %d (less than http.password_hashes)", h.PasswordHashes-1)
	}
	if h.PasswordHashWait <= 0 {
		ps.add("http.password_hash_wait", "must be positive")
	}
	if h.SignInBurst < 1 {
		ps.add("http.signin_burst", "must be at least 1")
	}
	if h.SignInRefill <= 0 {
		ps.add("http.signin_refill", "must be positive")
	}
	oneOf(ps, "http.require_totp", h.RequireTOTP, RequireTOTPStaff, RequireTOTPAll, RequireTOTPNone)
}
