package config

import (
	"errors"
	"net/netip"
	"slices"
	"testing"
)

func TestValidateSignIn(t *testing.T) {
	for _, tt := range []struct {
		name   string
		change func(c *Config)
		path   string
	}{
		{"proxy not an address", func(c *Config) { c.HTTP.TrustedProxies = []string{"10.0.0.0/8", "proxy.internal"} }, "http.trusted_proxies[1]"},
		{"proxy bad CIDR", func(c *Config) { c.HTTP.TrustedProxies = []string{"10.0.0.0/33"} }, "http.trusted_proxies[0]"},
		{"proxy header", func(c *Config) { c.HTTP.ProxyHeader = "x-real-ip" }, "http.proxy_header"},
		{"one hash", func(c *Config) { c.HTTP.PasswordHashes = 1 }, "http.password_hashes"},
		{"authenticate takes all", func(c *Config) { c.HTTP.PasswordHashes, c.HTTP.AuthenticateHashes = 4, 4 }, "http.authenticate_hashes"},
		{"authenticate negative", func(c *Config) { c.HTTP.AuthenticateHashes = -1 }, "http.authenticate_hashes"},
		{"no wait", func(c *Config) { c.HTTP.PasswordHashWait = 0 }, "http.password_hash_wait"},
		{"no burst", func(c *Config) { c.HTTP.SignInBurst = 0 }, "http.signin_burst"},
		{"no refill", func(c *Config) { c.HTTP.SignInRefill = -1 }, "http.signin_refill"},
		{"require_totp", func(c *Config) { c.HTTP.RequireTOTP = "admins" }, "http.require_totp"},
	} {
		c := validConfig()
		tt.change(c)
		var ps *Problems
		if err := c.Validate(); !errors.As(err, &ps) || len(ps.List) != 1 || ps.List[0].Path != tt.path {
			t.Errorf("%s: Validate = %v, want one problem at %s", tt.name, err, tt.path)
		}
	}
}

func TestSignInShares(t *testing.T) {
	h := Default().HTTP
	if h.PasswordHashes < 2 || h.PasswordHashes > 8 || h.RequireTOTP != RequireTOTPStaff {
		t.Errorf("defaults: %+v", h)
	}
	for _, tt := range []struct{ total, auth, wantSignIn, wantAuth int }{
		{2, 0, 1, 1}, {3, 0, 1, 2}, {8, 0, 4, 4}, {8, 1, 7, 1},
	} {
		h.PasswordHashes, h.AuthenticateHashes = tt.total, tt.auth
		if s, a := h.HashShares(); s != tt.wantSignIn || a != tt.wantAuth {
			t.Errorf("HashShares(%d, %d) = %d, %d; want %d, %d", tt.total, tt.auth, s, a, tt.wantSignIn, tt.wantAuth)
		}
	}
	h.TrustedProxies = []string{"192.0.2.7", "10.0.0.0/8", "::ffff:172.16.0.0/108", "fd00::/8"}
	want := []netip.Prefix{netip.MustParsePrefix("192.0.2.7/32"), netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("172.16.0.0/12"), netip.MustParsePrefix("fd00::/8")}
	if got := h.Proxies(); !slices.Equal(got, want) {
		t.Errorf("Proxies = %v, want %v", got, want)
	}
}
