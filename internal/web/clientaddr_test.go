package web

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"
)

func TestClientAddr(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	xff := Proxies{Trusted: proxies}
	fwd := Proxies{Trusted: proxies, Header: HeaderForwarded}
	for _, tt := range []struct {
		name   string
		p      Proxies
		peer   string
		header map[string][]string
		want   string
	}{
		{"direct client", xff, "203.0.113.9:5555", nil, "203.0.113.9"},
		{"forged X-Forwarded-For from an untrusted peer", xff, "203.0.113.9:5555",
			map[string][]string{"X-Forwarded-For": {"198.51.100.1"}}, "203.0.113.9"},
		{"forged Forwarded from an untrusted peer", fwd, "203.0.113.9:5555",
			map[string][]string{"Forwarded": {"for=198.51.100.1"}}, "203.0.113.9"},
		{"trusted proxy", xff, "10.0.0.2:443", map[string][]string{"X-Forwarded-For": {"198.51.100.1"}}, "198.51.100.1"},
		{"a forged entry left of the real client", xff, "10.0.0.2:443",
			map[string][]string{"X-Forwarded-For": {"1.2.3.4, 198.51.100.1"}}, "198.51.100.1"},
		{"two proxies, two header lines", xff, "10.0.0.2:443",
			map[string][]string{"X-Forwarded-For": {"6.6.6.6, 198.51.100.1", "10.9.9.9"}}, "198.51.100.1"},
		{"proxy without a header", xff, "10.0.0.2:443", nil, "10.0.0.2"},
		{"only proxies", xff, "10.0.0.2:443", map[string][]string{"X-Forwarded-For": {"10.0.0.3"}}, "10.0.0.3"},
		{"garbage stops at the last trusted hop", xff, "10.0.0.2:443",
			map[string][]string{"X-Forwarded-For": {"198.51.100.1, not-an-ip, 10.0.0.5"}}, "10.0.0.5"},
		{"ports and brackets", xff, "[fd00::1]:443",
			map[string][]string{"X-Forwarded-For": {"[2001:db8::7]:1234"}}, "2001:db8::7"},
		{"IPv4-mapped peer", xff, "[::ffff:10.1.2.3]:443", map[string][]string{"X-Forwarded-For": {"198.51.100.1"}}, "198.51.100.1"},
		{"Forwarded ignores X-Forwarded-For", fwd, "10.0.0.2:443",
			map[string][]string{"X-Forwarded-For": {"6.6.6.6"}, "Forwarded": {`for=198.51.100.1;proto=https, for="[fd00::9]:80"`}}, "198.51.100.1"},
		{"Forwarded: unknown stops", fwd, "10.0.0.2:443",
			map[string][]string{"Forwarded": {"for=198.51.100.1, for=unknown"}}, "10.0.0.2"},
		{"X-Forwarded-For ignores Forwarded", xff, "10.0.0.2:443",
			map[string][]string{"Forwarded": {"for=6.6.6.6"}}, "10.0.0.2"},
		{"nobody trusted", Proxies{}, "10.0.0.2:443", map[string][]string{"X-Forwarded-For": {"198.51.100.1"}}, "10.0.0.2"},
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = tt.peer
		for k, v := range tt.header {
			r.Header[k] = v
		}
		if got := tt.p.ClientAddr(r); got.String() != tt.want {
			t.Errorf("%s: ClientAddr = %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestThrottle(t *testing.T) {
	now := time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC)
	th := newThrottle(3, 10*time.Second)
	a := netip.MustParseAddr("198.51.100.1")
	for i := range 3 {
		if ok, _ := th.take(a, now); !ok {
			t.Fatalf("attempt %d refused within the burst", i+1)
		}
	}
	if ok, wait := th.take(a, now); ok || wait != 10*time.Second {
		t.Fatalf("fourth attempt = %v, %s; want refused for 10s", ok, wait)
	}
	if ok, _ := th.take(netip.MustParseAddr("198.51.100.2"), now); !ok {
		t.Error("another client was refused")
	}
	// IPv6 counts per /64.
	for i := range 3 {
		th.take(netip.MustParseAddr("2001:db8::"+string(rune('a'+i))), now)
	}
	if ok, _ := th.take(netip.MustParseAddr("2001:db8::ffff"), now); ok {
		t.Error("a fourth address of the same /64 was let through")
	}
	if ok, _ := th.take(a, now.Add(10*time.Second)); !ok {
		t.Error("no token came back after the refill time")
	}
	// Full buckets are forgotten when room is needed.
	th.prune(now.Add(time.Hour))
	if len(th.buckets) != 0 {
		t.Errorf("%d buckets kept after an hour", len(th.buckets))
	}
}

// FuzzClientAddr: whatever the forwarding headers say, an untrusted peer is
// its own client, and a trusted one's client is an address the headers or
// the peer name; nothing panics.
func FuzzClientAddr(f *testing.F) {
	f.Add("10.0.0.2:443", "198.51.100.1, 10.0.0.3", `for="[2001:db8::1]:80";proto=https, for=unknown`)
	f.Add("203.0.113.9:1", "", "for=_hidden")
	f.Add("[fd00::1]:443", "[::1]:x, ,", `for="`)
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	f.Fuzz(func(t *testing.T, peer, xff, fwd string) {
		for _, header := range []string{HeaderXForwardedFor, HeaderForwarded} {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = peer
			r.Header.Set(HeaderXForwardedFor, xff)
			r.Header.Set(HeaderForwarded, fwd)
			p := Proxies{Trusted: trusted, Header: header}
			got := p.ClientAddr(r)
			direct := remoteAddr(peer)
			if !p.trusted(direct) && got != direct {
				t.Fatalf("untrusted peer %q: client %s, want the peer", peer, got)
			}
		}
	})
}
