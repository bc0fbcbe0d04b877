package senderauth

import (
	"strings"

	"github.com/unlockd/unlockd/internal/mailheader"
)

// verifyAuthResults reads the topmost Authentication-Results header whose
// authserv-id is ours. Our MTA prepends its header, so anything below it
// (including a forged copy with our id) was there before and is ignored;
// headers with other authserv-ids are ignored altogether.
func (v *Verifier) verifyAuthResults(h *mailheader.Header, fromDomain string) Verdict {
	fail := func(reason string) Verdict {
		return Verdict{Method: MethodAuthResults, Reason: reason}
	}
	id := strings.TrimSpace(v.AuthservID)
	if id == "" {
		return fail("no authserv-id configured: Authentication-Results not trusted")
	}
	if fromDomain == "" {
		return fail("no From domain")
	}
	prefix := "Authentication-Results from " + id + ": "
	for _, val := range h.Values("Authentication-Results") {
		if !strings.EqualFold(authservID(val), id) {
			continue
		}
		ar, err := parseAuthResults(val)
		if err != nil {
			return fail(prefix + "unparsable: " + err.Error())
		}
		vd := v.judgeAuthResults(ar, h, fromDomain)
		vd.Reason = prefix + vd.Reason
		return vd
	}
	return fail("no Authentication-Results from " + id)
}

// authservID returns the authserv-id of a header value, read leniently (the
// first word before the first ";" outside quotes and comments), to tell
// which header is ours before parsing it strictly.
func authservID(val string) string {
	segs, err := splitQuoted(stripComments(val), ';')
	if err != nil {
		return ""
	}
	f := strings.Fields(segs[0])
	if len(f) == 0 {
		return ""
	}
	return unquote(f[0])
}

// judgeAuthResults decides on the one trusted header and works out what
// the pass covers. dmarc=pass counts only with a header.from equal to the
// From domain, dkim=pass only with an aligned header.d (header.i alone
// never aligns). Coverage: an aligned spf=pass means the domain's own
// server sent the message, which covers all of it; otherwise the DKIM
// signatures in the message that the passing results name (every aligned
// one, for a bare dmarc=pass) cover what all of them cover; a dmarc=pass
// with no aligned signature in the message at all can only have passed on
// SPF, and covers all of it too.
func (v *Verifier) judgeAuthResults(ar arHeader, h *mailheader.Header, fromDomain string) Verdict {
	var (
		seen       []string
		dmarcPass  bool
		spfAligned bool
		dkimPass   []arResult
	)
	for _, r := range ar.results {
		switch r.method {
		case "dmarc":
			s := "dmarc=" + r.value
			if r.value == "pass" {
				if from := normalizeDomain(r.props["header.from"]); from == fromDomain {
					dmarcPass = true
				} else {
					s += " header.from=" + orNone(from) + " is not " + fromDomain
				}
			}
			seen = append(seen, s)
		case "dkim":
			d := normalizeDomain(r.props["header.d"])
			s := "dkim=" + r.value + " header.d=" + orNone(d)
			switch {
			case r.value == "pass" && aligned(d, fromDomain):
				dkimPass = append(dkimPass, r)
			case r.value == "pass":
				s += " not aligned with " + fromDomain
			}
			seen = append(seen, s)
		case "spf":
			mailfrom := r.props["smtp.mailfrom"]
			if at := strings.LastIndexByte(mailfrom, '@'); at >= 0 {
				mailfrom = mailfrom[at+1:]
			}
			// DMARC's relaxed alignment: the envelope domain may be the
			// From domain, a parent or a child of it.
			m := normalizeDomain(mailfrom)
			spfAligned = spfAligned || (r.value == "pass" && (aligned(m, fromDomain) || aligned(fromDomain, m)))
			seen = append(seen, "spf="+r.value)
		}
	}
	if len(seen) == 0 {
		return Verdict{Method: MethodAuthResults, Reason: "no dmarc or dkim result"}
	}
	reason := strings.Join(seen, ", ")
	if !dmarcPass && len(dkimPass) == 0 {
		return Verdict{Method: MethodAuthResults, Reason: reason}
	}
	vd := Verdict{Pass: true, Method: MethodAuthResults, Reason: reason}
	sigs := namedSignatures(h, fromDomain, dkimPass)
	_, stale := v.fresh(h, sigs)
	switch {
	case spfAligned:
		vd.Whole = true
	case len(stale) > 0:
		// The verifier does not say which signature passed, and it may be
		// one too old to count: an old mail sent again passes DKIM as well
		// as it did the first time.
		return Verdict{Method: MethodAuthResults, Reason: reason + "; " + strings.Join(stale, "; ")}
	case len(sigs) > 0:
		vd.Signed = commonCoverage(sigs)
		vd.Signatures = sigs
	case dmarcPass && len(namedSignatures(h, fromDomain, nil)) == 0:
		vd.Whole = true
	default:
		vd.Reason += " (no signature in the message matches: nothing is covered)"
	}
	return vd
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
