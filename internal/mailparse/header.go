package mailparse

import (
	"fmt"
	"slices"
	"strings"

	"github.com/emersion/go-message/mail"

	"github.com/unlockd/unlockd/internal/address"
)

// readIDs fills the Message-ID and threading fields. A malformed id is kept
// as written (brackets and spaces trimmed) rather than lost, since it still
// serves as a duplicate key.
func readIDs(m *Message, h mail.Header) {
	if id, err := h.MessageID(); err == nil && id != "" {
		m.MessageID = id
	} else {
		m.MessageID = looseID(h.Get("Message-Id"))
	}
	if ids, err := h.MsgIDList("In-Reply-To"); len(ids) > 0 {
		m.InReplyTo = ids[0]
	} else if err != nil {
		m.InReplyTo = looseID(h.Get("In-Reply-To"))
	}
	if ids, _ := h.MsgIDList("References"); len(ids) > 0 {
		m.References = ids
	}
}

func looseID(v string) string {
	v = strings.TrimSpace(v)
	if f := strings.Fields(v); len(f) > 0 {
		v = f[0]
	}
	return strings.Trim(v, "<>")
}

// decodedText returns the RFC 2047-decoded, trimmed value of field k, or
// the raw trimmed value when decoding fails.
func decodedText(h mail.Header, k string) string {
	v, err := h.Text(k)
	if err != nil {
		v = h.Get(k)
	}
	return strings.TrimSpace(v)
}

// parseAddresses parses every occurrence of field k. ok is false when any
// occurrence does not parse.
func parseAddresses(h mail.Header, k string) (addrs []string, present, ok bool) {
	ok = true
	for _, v := range h.Values(k) {
		if strings.TrimSpace(v) == "" {
			continue
		}
		present = true
		list, err := mail.ParseAddressList(v)
		if err != nil {
			ok = false
			continue
		}
		for _, a := range list {
			n, err := address.NormalizeParsed(a.Address)
			if err != nil {
				ok = false
				continue
			}
			addrs = append(addrs, n)
		}
	}
	return addrs, present, ok
}

// sender returns the one normalised From address and the reason, if any,
// why the sender counts as unverified (SPEC §3.3).
func sender(h mail.Header) (from, problem string) {
	froms, present, ok := parseAddresses(h, "From")
	switch {
	case !present:
		return "", "no From address"
	case !ok && len(froms) == 0:
		return "", "unparsable From"
	case len(froms) > 1 && len(slices.Compact(slices.Sorted(slices.Values(froms)))) == 1:
		// The same address twice still names one sender, who stays
		// unverified: a contact's request is queued, not lost.
		return froms[0], fmt.Sprintf("%d From addresses", len(froms))
	case len(froms) > 1:
		return "", fmt.Sprintf("%d From addresses", len(froms))
	case !ok || len(froms) == 0:
		return "", "unparsable From"
	}
	from = froms[0]
	senders, present, ok := parseAddresses(h, "Sender")
	switch {
	case !present:
		return from, ""
	case !ok || len(senders) != 1:
		return from, "unparsable Sender"
	case senders[0] != from:
		return from, "Sender differs from From"
	}
	return from, ""
}

// replyTo records Reply-To for evidence: the normalised addresses when they
// parse, else the decoded text.
func replyTo(h mail.Header) string {
	addrs, present, ok := parseAddresses(h, "Reply-To")
	if !present {
		return ""
	}
	if ok && len(addrs) > 0 {
		return strings.Join(addrs, ", ")
	}
	return decodedText(h, "Reply-To")
}

// systemLocalPart returns "MAILER-DAEMON" or "postmaster" when field k names
// such a mailbox. An unparsable field is searched as text.
func systemLocalPart(h mail.Header, k string) string {
	for _, v := range h.Values(k) {
		var locals []string
		if list, err := mail.ParseAddressList(v); err == nil {
			for _, a := range list {
				local, _, _ := strings.Cut(a.Address, "@")
				locals = append(locals, strings.ToLower(local))
			}
		} else {
			lv := strings.ToLower(v)
			for _, s := range []string{"mailer-daemon@", "postmaster@"} {
				if strings.Contains(lv, s) {
					locals = append(locals, strings.TrimSuffix(s, "@"))
				}
			}
		}
		for _, l := range locals {
			switch l {
			case "mailer-daemon":
				return "MAILER-DAEMON"
			case "postmaster":
				return "postmaster"
			}
		}
	}
	return ""
}
