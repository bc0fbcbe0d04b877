package senderauth

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"
)

// keyTTL is how long a DKIM key record is cached. The SPEC asks for the
// record's own TTL, but Go's net.Resolver does not expose TTLs, so every
// positive answer is kept for a fixed five minutes instead; errors
// (including NXDOMAIN) are never cached.
const keyTTL = 5 * time.Minute

// maxCacheEntries bounds the cache.
const maxCacheEntries = 10000

// DefaultDNSTimeout bounds one DNS query unless Verifier.DNSTimeout says
// otherwise.
const DefaultDNSTimeout = 10 * time.Second

// txtCache caches TXT answers by query name. It is safe for concurrent use.
type txtCache struct {
	lookupTXT func(ctx context.Context, name string) ([]string, error)
	now       func() time.Time
	ttl       time.Duration
	max       int
	timeout   time.Duration // per query; zero means DefaultDNSTimeout

	mu      sync.Mutex
	entries map[string]txtEntry
}

type txtEntry struct {
	txts    []string
	expires time.Time
}

func newTXTCache(lookup func(context.Context, string) ([]string, error), now func() time.Time, ttl time.Duration, max int) *txtCache {
	if now == nil {
		now = time.Now
	}
	return &txtCache{lookupTXT: lookup, now: now, ttl: ttl, max: max, entries: make(map[string]txtEntry)}
}

func (c *txtCache) lookup(ctx context.Context, name string) ([]string, error) {
	key := strings.TrimSuffix(strings.ToLower(name), ".")
	c.mu.Lock()
	e, ok := c.entries[key]
	if ok && c.now().Before(e.expires) {
		c.mu.Unlock()
		return e.txts, nil
	}
	if ok {
		delete(c.entries, key)
	}
	c.mu.Unlock()

	timeout := c.timeout
	if timeout <= 0 {
		timeout = DefaultDNSTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	txts, err := c.lookupTXT(ctx, name)
	if err != nil {
		return nil, classify(ctx, err)
	}
	if len(txts) == 0 {
		return txts, nil
	}
	txts = append([]string(nil), txts...)

	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		c.evict()
	}
	c.entries[key] = txtEntry{txts: txts, expires: c.now().Add(c.ttl)}
	return txts, nil
}

// evict makes room: it drops expired entries and, if the cache is still
// full, arbitrary ones (map order) until a tenth of it is free.
// c.mu must be held.
func (c *txtCache) evict() {
	now := c.now()
	for k, e := range c.entries {
		if !now.Before(e.expires) {
			delete(c.entries, k)
		}
	}
	for k := range c.entries {
		if len(c.entries) < c.max-c.max/10 {
			break
		}
		delete(c.entries, k)
	}
}

// classify makes sure that a lookup cut short by the context (our timeout
// or the caller's cancellation) counts as temporary: go-msgauth treats an
// error as temporary only when it is a net.Error whose Temporary() is true.
// Other errors pass unchanged, so a *net.DNSError keeps its own verdict
// (NXDOMAIN permanent, SERVFAIL or timeout temporary).
func classify(ctx context.Context, err error) error {
	if ctx.Err() != nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return tempLookupError{err}
	}
	return err
}

// tempLookupError is a net.Error that is always temporary.
type tempLookupError struct{ err error }

func (e tempLookupError) Error() string   { return e.err.Error() }
func (e tempLookupError) Unwrap() error   { return e.err }
func (e tempLookupError) Timeout() bool   { return errors.Is(e.err, context.DeadlineExceeded) }
func (e tempLookupError) Temporary() bool { return true }
