package senderauth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/unlockd/unlockd/internal/mailheader"
)

// maxSignatures bounds the DKIM signatures looked at in one message; any
// beyond it are ignored.
const maxSignatures = 10

// maxSignedNames bounds a signature's h= list: go-msgauth scans the whole
// header once per name, so a signature listing thousands of names would
// cost seconds. Real signers list a few dozen at most.
const maxSignedNames = 100

// errNotQueried is what the verifier's key lookup answers for a signature
// that cannot count anyway (unaligned, rsa-sha1, l=): no DNS is spent on it.
var errNotQueried = errors.New("key not looked up: signature cannot count")

// signature is what we read ourselves from one DKIM-Signature field before
// go-msgauth verifies it.
type signature struct {
	domain   string // d=, normalised
	eligible bool   // may count if it verifies
	reason   string // why it cannot count, when !eligible
	query    string // DNS name of its key, when eligible
}

// screen applies the SPEC's rules that go beyond a valid signature.
func screen(value, fromDomain string) (sig signature) {
	tags, ok := tagList(value)
	sig.domain = normalizeDomain(tags["d"])
	algo := strings.ToLower(tags["a"])
	_, hasL := tags["l"]
	switch {
	case !ok:
		sig.reason = "malformed DKIM-Signature"
	case strings.Count(tags["h"], ":") >= maxSignedNames:
		sig.reason = fmt.Sprintf("signature with more than %d names in h= ignored", maxSignedNames)
	case strings.HasSuffix(algo, "-sha1"):
		sig.reason = algo + " signature ignored"
	case hasL:
		sig.reason = "signature with l= ignored"
	case sig.domain == "":
		sig.reason = "DKIM signature without d="
	case !aligned(sig.domain, fromDomain):
		sig.reason = fmt.Sprintf("dkim signature d=%s not aligned with %s", sig.domain, fromDomain)
	default:
		sig.eligible = true
		sig.query = strings.ToLower(tags["s"] + "._domainkey." + tags["d"])
	}
	return sig
}

// verifyDKIM checks the DKIM signatures of the message raw reads, whose
// header h is, and
// returns a pass for the aligned signatures that verify, with what they
// cover. h must have been read within its limits: go-msgauth reads the
// header again, and its reading is what the limits keep cheap.
func (v *Verifier) verifyDKIM(ctx context.Context, raw io.Reader, h *mailheader.Header, fromDomain string) (Verdict, error) {
	fail := func(reasons []string) Verdict {
		return Verdict{Method: MethodDKIM, Reason: strings.Join(reasons, "; ")}
	}
	values := h.Values("DKIM-Signature")
	if len(values) == 0 {
		return fail([]string{"no DKIM signature"}), nil
	}
	if fromDomain == "" {
		return fail([]string{"no From domain"}), nil
	}
	if len(values) > maxSignatures {
		values = values[:maxSignatures]
	}

	sigs := make([]signature, len(values))
	queries := make(map[string]bool)
	var reasons []string
	for i, val := range values {
		sigs[i] = screen(val, fromDomain)
		if sigs[i].eligible {
			queries[sigs[i].query] = true
		} else {
			reasons = append(reasons, sigs[i].reason)
		}
	}
	if len(queries) == 0 {
		return fail(reasons), nil
	}

	// go-msgauth flattens lookup errors into strings; keep the originals
	// so that the TemporaryError wraps them. Lookups run concurrently when
	// there are several signatures.
	var (
		mu         sync.Mutex
		lookupErrs = make(map[string]error)
	)
	lookup := func(name string) ([]string, error) {
		name = strings.ToLower(name)
		if !queries[name] {
			return nil, errNotQueried
		}
		txts, err := v.lookupTXT(ctx, name)
		if err != nil {
			mu.Lock()
			lookupErrs[name] = err
			mu.Unlock()
		}
		return txts, err
	}
	verifs, err := dkim.VerifyWithOptions(raw, &dkim.VerifyOptions{
		LookupTXT:        lookup,
		MaxVerifications: maxSignatures,
	})
	if err != nil && !errors.Is(err, dkim.ErrTooManySignatures) {
		return fail(append(reasons, "message unreadable for DKIM: "+trimDKIM(err))), nil
	}

	var (
		temp   error
		passed []Signature
	)
	for i, vf := range verifs {
		if i >= len(sigs) || !sigs[i].eligible {
			continue
		}
		d := sigs[i].domain
		switch {
		case normalizeDomain(vf.Domain) != d:
			// Cannot happen when both parsers agree; never pass on doubt.
			reasons = append(reasons, "dkim signature d="+d+" could not be matched")
		case vf.Err == nil:
			s, _, _ := signatureOf(h, values[i])
			passed = append(passed, s)
		case dkim.IsTempFail(vf.Err):
			if temp == nil {
				cause := lookupErrs[sigs[i].query]
				if cause == nil {
					cause = vf.Err
				}
				temp = fmt.Errorf("dkim key for d=%s: %w", d, cause)
			}
			reasons = append(reasons, "dkim=temperror d="+d+": "+trimDKIM(vf.Err))
		default:
			reasons = append(reasons, "dkim=fail d="+d+": "+trimDKIM(vf.Err))
		}
	}
	passed, stale := v.fresh(h, passed)
	reasons = append(reasons, stale...)
	if len(passed) > 0 {
		return Verdict{Pass: true, Method: MethodDKIM, Reason: "dkim=pass d=" + passed[0].Domain,
			Signed: unionCoverage(passed), Signatures: passed}, nil
	}
	if err := ctx.Err(); err != nil && temp == nil {
		temp = err
	}
	if temp != nil {
		return fail(reasons), &TemporaryError{Err: temp}
	}
	return fail(reasons), nil
}

func trimDKIM(err error) string {
	return strings.TrimPrefix(err.Error(), "dkim: ")
}
