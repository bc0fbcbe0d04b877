package senderauth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// keyTTL is how long a DKIM key record is cached. The SPEC asks for the
// record's own TTL, but Go's net.Resolver does not expose TTLs, so every
// positive answer is kept for a fixed five minutes instead. NXDOMAIN is
// never cached; temporary failures are, briefly (failTimeouts).
const keyTTL = 5 * time.Minute

// maxCacheEntries bounds the cache.
const maxCacheEntries = 10000

// DefaultDNSTimeout bounds one DNS query unless Verifier.DNSTimeout says
// otherwise.
const DefaultDNSTimeout = 10 * time.Second

// A temporary failure of one name is remembered for failTimeouts query
// timeouts, at most maxFailTTL: while it is, lookups of that name fail at
// once instead of each waiting for its own timeout, so that a sender whose
// DNS never answers costs one timeout now and then, not one per message.
const (
	failTimeouts = 3
	maxFailTTL   = 30 * time.Second
)

// txtCache caches TXT answers by query name, and briefly the temporary
// failures; concurrent lookups of one name share a single query. It is
// safe for concurrent use.
type txtCache struct {
	lookupTXT func(ctx context.Context, name string) ([]string, error)
	now       func() time.Time
	ttl       time.Duration
	max       int
	timeout   time.Duration // per query; zero means DefaultDNSTimeout
	report    func(error)   // told of every query: nil when DNS answered

	mu       sync.Mutex
	entries  map[string]txtEntry
	inFlight map[string]*txtCall
}

// txtEntry is a cached answer, or a remembered temporary failure (err set).
type txtEntry struct {
	txts    []string
	err     error
	expires time.Time
}

// txtCall is a query under way; done closes when txts and err are set.
type txtCall struct {
	done chan struct{}
	txts []string
	err  error
}

func newTXTCache(lookup func(context.Context, string) ([]string, error), now func() time.Time, ttl time.Duration, max int) *txtCache {
	if now == nil {
		now = time.Now
	}
	return &txtCache{lookupTXT: lookup, now: now, ttl: ttl, max: max,
		entries: make(map[string]txtEntry), inFlight: make(map[string]*txtCall)}
}

func (c *txtCache) lookup(ctx context.Context, name string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, tempLookupError{err} // a caller that gave up asks nothing
	}
	key := strings.TrimSuffix(strings.ToLower(name), ".")
	c.mu.Lock()
	if e, ok := c.entries[key]; ok {
		if c.now().Before(e.expires) {
			c.mu.Unlock()
			if e.err != nil {
				return nil, tempLookupError{fmt.Errorf("%w (failed moments ago; not asked again yet)", e.err)}
			}
			return e.txts, nil
		}
		delete(c.entries, key)
	}
	call, shared := c.inFlight[key]
	if !shared {
		call = &txtCall{done: make(chan struct{})}
		c.inFlight[key] = call
	}
	c.mu.Unlock()
	if !shared {
		go c.query(key, name, call)
	}
	select {
	case <-call.done:
		return call.txts, call.err
	case <-ctx.Done():
		return nil, tempLookupError{ctx.Err()}
	}
}

// query asks the resolver once for name on behalf of every caller waiting
// on call, under the cache's own timeout (not a caller's context, so that
// one caller giving up does not fail the others), and remembers the answer
// or the temporary failure.
func (c *txtCache) query(key, name string, call *txtCall) {
	ctx, cancel := context.WithTimeout(context.Background(), c.queryTimeout())
	defer cancel()
	txts, err := c.lookupTXT(ctx, name)
	if err != nil {
		err = classify(ctx, err)
	} else {
		txts = append([]string(nil), txts...)
	}
	if c.report != nil {
		if isTemporary(err) {
			c.report(err)
		} else {
			c.report(nil) // an answer, NXDOMAIN included
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.inFlight, key)
	c.remember(key, txts, err)
	// Waiters are released only once the answer is in the cache, so that
	// a caller's next lookup of the same name is a hit.
	call.txts, call.err = txts, err
	close(call.done)
}

// remember keeps a positive answer for the TTL and a temporary failure
// briefly; NXDOMAIN and empty answers are not kept. c.mu is held.
func (c *txtCache) remember(key string, txts []string, err error) {
	var e txtEntry
	switch {
	case err == nil && len(txts) > 0:
		e = txtEntry{txts: txts, expires: c.now().Add(c.ttl)}
	case err != nil && isTemporary(err):
		e = txtEntry{err: err, expires: c.now().Add(min(failTimeouts*c.queryTimeout(), maxFailTTL))}
	default:
		return
	}
	if len(c.entries) >= c.max {
		c.evict()
	}
	c.entries[key] = e
}

func (c *txtCache) queryTimeout() time.Duration {
	if c.timeout <= 0 {
		return DefaultDNSTimeout
	}
	return c.timeout
}

// isTemporary reports whether a lookup error is one go-msgauth treats as
// temporary: a net.Error whose Temporary() is true.
func isTemporary(err error) bool {
	var ne interface{ Temporary() bool }
	return errors.As(err, &ne) && ne.Temporary()
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
