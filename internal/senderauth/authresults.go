package senderauth

import (
	"strings"
	"unicode"

	"github.com/emersion/go-msgauth/authres"
)

// verifyAuthResults reads the topmost Authentication-Results header whose
// authserv-id is ours. Our MTA prepends its header, so anything below it
// (including a forged copy with our id) was there before and is ignored;
// headers with other authserv-ids are ignored altogether.
func (v *Verifier) verifyAuthResults(raw []byte, fromDomain string) Verdict {
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
	for _, val := range values(headerFields(raw), "Authentication-Results") {
		val = stripComments(val)
		if !strings.EqualFold(authservID(val), id) {
			continue
		}
		return judgeAuthResults(val, id, fromDomain)
	}
	return fail("no Authentication-Results from " + id)
}

// authservID returns the authserv-id of a comment-free header value: the
// first word before the first ";".
func authservID(val string) string {
	head, _, _ := strings.Cut(val, ";")
	f := strings.Fields(head)
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// judgeAuthResults decides on the one trusted header.
func judgeAuthResults(val, id, fromDomain string) Verdict {
	prefix := "Authentication-Results from " + id + ": "
	_, results, err := authres.Parse(val)
	if err != nil {
		return Verdict{Method: MethodAuthResults, Reason: prefix + "unparsable: " + err.Error()}
	}
	var seen []string
	for _, r := range results {
		switch r := r.(type) {
		case *authres.DMARCResult:
			seen = append(seen, "dmarc="+string(r.Value))
			if r.Value != authres.ResultPass {
				continue
			}
			if from := normalizeDomain(unquote(r.From)); from != "" && from != fromDomain {
				seen[len(seen)-1] += " header.from=" + from
				continue
			}
			return Verdict{Pass: true, Method: MethodAuthResults, Reason: prefix + "dmarc=pass"}
		case *authres.DKIMResult:
			d := normalizeDomain(unquote(r.Domain))
			i := identifierDomain(unquote(r.Identifier))
			s := "dkim=" + string(r.Value)
			if d != "" {
				s += " header.d=" + d
			}
			if r.Value == authres.ResultPass && aligned(d, fromDomain) {
				return Verdict{Pass: true, Method: MethodAuthResults, Reason: prefix + s}
			}
			if r.Value == authres.ResultPass && aligned(i, fromDomain) {
				return Verdict{Pass: true, Method: MethodAuthResults, Reason: prefix + s + " header.i domain " + i}
			}
			if r.Value == authres.ResultPass {
				s += " not aligned with " + fromDomain
			}
			seen = append(seen, s)
		}
	}
	if len(seen) == 0 {
		return Verdict{Method: MethodAuthResults, Reason: prefix + "no dmarc or dkim result"}
	}
	return Verdict{Method: MethodAuthResults, Reason: prefix + strings.Join(seen, ", ")}
}

// identifierDomain returns the domain of a header.i value such as
// "@mail.acme.example" or "it@acme.example".
func identifierDomain(i string) string {
	if at := strings.LastIndexByte(i, '@'); at >= 0 {
		i = i[at+1:]
	}
	return normalizeDomain(i)
}

// unquote removes the quotes around a quoted-string value.
func unquote(s string) string {
	s = strings.TrimFunc(s, unicode.IsSpace)
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}
