package web

import (
	"net/netip"
	"sync"
	"time"
)

// throttle is a token bucket per client: each client may spend burst
// tokens at once, and gets one back every refill. IPv6 clients are counted
// per /64, the block one subscriber usually holds. It keeps at most
// maxClients buckets: when it is full, buckets that have filled up again
// (which hold nothing worth remembering) are dropped, and if none has, a
// new client is refused until one does.
type throttle struct {
	burst  float64
	refill time.Duration

	mu      sync.Mutex
	buckets map[netip.Prefix]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

// maxClients bounds the memory of a throttle (about 100 bytes a client).
const maxClients = 100_000

func newThrottle(burst int, refill time.Duration) *throttle {
	return &throttle{burst: float64(burst), refill: refill, buckets: map[netip.Prefix]*bucket{}}
}

// clientKey is the bucket a client address counts against.
func clientKey(a netip.Addr) netip.Prefix {
	bits := 32
	if a.Is6() {
		bits = 64
	}
	p, _ := a.Prefix(bits)
	return p
}

// take spends one of the client's tokens; when it has none left, it
// reports how long until it has one.
func (t *throttle) take(a netip.Addr, now time.Time) (ok bool, wait time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	k := clientKey(a)
	b := t.buckets[k]
	if b == nil {
		if len(t.buckets) >= maxClients && !t.prune(now) {
			return false, t.refill
		}
		b = &bucket{tokens: t.burst, at: now}
		t.buckets[k] = b
	}
	if elapsed := now.Sub(b.at); elapsed > 0 {
		b.tokens = min(t.burst, b.tokens+float64(elapsed)/float64(t.refill))
		b.at = now
	}
	if b.tokens < 1 {
		return false, time.Duration((1 - b.tokens) * float64(t.refill))
	}
	b.tokens--
	return true, 0
}

// prune drops the buckets that are full again and reports whether it
// dropped any.
func (t *throttle) prune(now time.Time) bool {
	full := time.Duration(t.burst * float64(t.refill))
	n := len(t.buckets)
	for k, b := range t.buckets {
		if now.Sub(b.at) >= full {
			delete(t.buckets, k)
		}
	}
	return len(t.buckets) < n
}
