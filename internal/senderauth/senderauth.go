package senderauth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/unlockd/unlockd/internal/mailheader"
)

// Mode selects how senders are authenticated. The strings are those of the
// sender_auth.mode configuration setting.
type Mode string

// The modes of SPEC §3 step 4.
const (
	// ModeDKIM requires a valid, aligned DKIM signature.
	ModeDKIM Mode = "dkim"
	// ModeAuthResults trusts the topmost Authentication-Results header
	// written by our own MTA.
	ModeAuthResults Mode = "authentication-results"
	// ModeAny passes when either ModeDKIM or ModeAuthResults passes. It is
	// the default, also used when Mode is empty.
	ModeAny Mode = "any"
	// ModeOff accepts every sender; for local demos only.
	ModeOff Mode = "off"
)

// Valid reports whether m is one of the known modes or empty (the default).
func (m Mode) Valid() bool {
	switch m {
	case "", ModeDKIM, ModeAuthResults, ModeAny, ModeOff:
		return true
	}
	return false
}

// Method names reported in Verdict.Method.
const (
	MethodDKIM        = "dkim"
	MethodAuthResults = "authentication-results"
	MethodOff         = "off"
)

// Verifier authenticates message senders. Set its fields before the first
// call and do not change or copy it afterwards; it is then safe for
// concurrent use.
type Verifier struct {
	// Mode selects the method; empty means ModeAny.
	Mode Mode
	// AuthservID is our MTA's authserv-id. Only Authentication-Results
	// headers carrying it are read; empty means that method never passes.
	AuthservID string
	// LookupTXT resolves DKIM key records. When nil, a resolver built from
	// DNSResolver is used, or net.DefaultResolver when that is empty too.
	LookupTXT func(ctx context.Context, domain string) ([]string, error)
	// DNSResolver is a host:port; when set (and LookupTXT is nil), every
	// DNS query goes there.
	DNSResolver string
	// DNSTimeout bounds each lookup; zero means DefaultDNSTimeout.
	DNSTimeout time.Duration
	// MaxSignatureAge is the age past which a DKIM signature does not
	// count; zero means DefaultMaxSignatureAge.
	MaxSignatureAge time.Duration
	// Now is the clock of signature ages and the key cache; nil means
	// time.Now.
	Now func() time.Time
	// OnLookup, when set, is told of every DNS query made (not of cache
	// hits): a temporary failure, or nil when DNS answered. Readiness and
	// metrics use it. It must not block.
	OnLookup func(error)
	// Logger receives the warning logged on every call in ModeOff; nil
	// means slog.Default().
	Logger *slog.Logger

	once  sync.Once
	cache *txtCache
}

// Verdict is the outcome of sender authentication.
type Verdict struct {
	// Pass is true when the sender is authenticated.
	Pass bool
	// Method is the method that decided: "dkim", "authentication-results",
	// "off", or "" when mode any failed on both.
	Method string
	// Reason is a short text for staff, such as "dkim=pass d=acme.example".
	Reason string
	// Signed lists the positions in the header's Fields of the field
	// instances the passing proof covers; Covers reads it.
	Signed []int
	// Whole is true when the proof vouches for the whole message as sent:
	// an aligned SPF pass (the domain's own server sent it) or mode off.
	Whole bool
	// Signatures are the passing, aligned DKIM signatures the proof rests
	// on; empty when it rests on none.
	Signatures []Signature
}

// TemporaryError reports that a DNS failure (or a cancelled context)
// prevented a verdict. The message should be left where it is and
// verified again later.
type TemporaryError struct {
	Err error
}

func (e *TemporaryError) Error() string {
	return "senderauth: temporary failure, retry later: " + e.Err.Error()
}

// Unwrap returns the underlying error.
func (e *TemporaryError) Unwrap() error { return e.Err }

// Temporary always reports true.
func (e *TemporaryError) Temporary() bool { return true }

// IsTemporary reports whether err is, or wraps, a *TemporaryError.
func IsTemporary(err error) bool {
	var te *TemporaryError
	return errors.As(err, &te)
}

// Input is one message to authenticate.
type Input struct {
	// Raw is the message as received or, when Truncated, its header and the
	// first part of its body.
	Raw []byte
	// Body, when set, streams the whole message in place of Raw, for one too
	// large to hold: it is read once, by the DKIM verifier. Header must be
	// set then.
	Body io.Reader
	// Header is Raw's header; nil means Check parses it within
	// mailheader.DefaultLimits.
	Header *mailheader.Header
	// FromDomain is the normalised (lower-case, A-label) domain of the From
	// address.
	FromDomain string
	// Truncated is set when the body was not downloaded whole (oversized
	// messages, SPEC §3): DKIM cannot be checked, so only a trusted
	// Authentication-Results header can vouch.
	Truncated bool
}

// Verify authenticates raw, the whole message as received, for fromDomain.
func (v *Verifier) Verify(ctx context.Context, raw []byte, fromDomain string) (Verdict, error) {
	return v.Check(ctx, Input{Raw: raw, FromDomain: fromDomain})
}

// VerifyHeader authenticates a message whose body was not downloaded;
// header is its header, with or without the blank line that ends it.
func (v *Verifier) VerifyHeader(ctx context.Context, header []byte, fromDomain string) (Verdict, error) {
	return v.Check(ctx, Input{Raw: header, FromDomain: fromDomain, Truncated: true})
}

// Check authenticates one message. A header past its limits is never
// verified: the verdict fails with the limit as its reason.
//
// It returns a *TemporaryError when a DNS failure prevents a verdict; it
// never turns a DNS failure into a failing verdict. Other errors report
// misuse (an unknown Mode).
func (v *Verifier) Check(ctx context.Context, in Input) (Verdict, error) {
	h := in.Header
	if h == nil {
		if in.Body != nil {
			return Verdict{}, fmt.Errorf("senderauth: a streamed message needs its parsed header")
		}
		h = mailheader.Parse(in.Raw, mailheader.DefaultLimits)
	}
	body := in.Body
	if body == nil {
		body = bytes.NewReader(in.Raw)
	}
	fromDomain := normalizeDomain(in.FromDomain)
	if h.Exceeded != "" && v.Mode != ModeOff {
		return Verdict{Reason: "not verified: " + h.Exceeded}, nil
	}
	switch v.Mode {
	case ModeOff:
		v.logger().WarnContext(ctx, "sender authentication is off: every sender counts as authenticated; use only for local demos",
			slog.String("from_domain", fromDomain))
		return Verdict{Pass: true, Method: MethodOff, Reason: "sender authentication is off", Whole: true}, nil
	case ModeDKIM:
		if in.Truncated {
			return Verdict{Method: MethodDKIM, Reason: notDownloaded}, nil
		}
		return v.verifyDKIM(ctx, body, h, fromDomain)
	case ModeAuthResults:
		return v.verifyAuthResults(h, fromDomain), nil
	case "", ModeAny:
		ar := v.verifyAuthResults(h, fromDomain)
		if ar.Pass {
			return ar, nil
		}
		if in.Truncated {
			return Verdict{Reason: ar.Reason + "; " + notDownloaded}, nil
		}
		dk, err := v.verifyDKIM(ctx, body, h, fromDomain)
		if err != nil || dk.Pass {
			return dk, err
		}
		return Verdict{Reason: ar.Reason + "; " + dk.Reason}, nil
	default:
		return Verdict{}, fmt.Errorf("senderauth: unknown mode %q", v.Mode)
	}
}

const notDownloaded = "DKIM not checked: message body not downloaded"

func (v *Verifier) logger() *slog.Logger {
	if v.Logger != nil {
		return v.Logger
	}
	return slog.Default()
}

// lookupTXT resolves name through the cache, building the cache and the
// resolver on first use.
func (v *Verifier) lookupTXT(ctx context.Context, name string) ([]string, error) {
	v.once.Do(func() {
		lookup := v.LookupTXT
		if lookup == nil {
			lookup = resolver(v.DNSResolver).LookupTXT
		}
		v.cache = newTXTCache(lookup, v.Now, keyTTL, maxCacheEntries)
		v.cache.timeout = v.DNSTimeout
		v.cache.report = v.OnLookup
	})
	return v.cache.lookup(ctx, name)
}

// resolver returns net.DefaultResolver, or one that sends every query to
// addr when addr is set.
func resolver(addr string) *net.Resolver {
	if addr == "" {
		return net.DefaultResolver
	}
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
	}
}

// normalizeDomain lower-cases d and drops a trailing dot.
func normalizeDomain(d string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(d)), ".")
}

// aligned reports whether signing domain d may vouch for fromDomain: d is
// fromDomain or a parent of it, and has at least two labels, so that a
// bare top-level domain such as "example" never counts. (Without a public
// suffix list a d= such as "co.uk" still counts; that is accepted.)
func aligned(d, fromDomain string) bool {
	d = normalizeDomain(d)
	if d == "" || fromDomain == "" || !strings.Contains(d, ".") ||
		strings.HasPrefix(d, ".") || strings.Contains(d, "..") {
		return false
	}
	return fromDomain == d || strings.HasSuffix(fromDomain, "."+d)
}
