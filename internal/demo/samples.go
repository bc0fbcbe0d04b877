package demo

import (
	"crypto/rand"
	"fmt"
	"strings"
	"time"
)

// sample is one request the demo delivers to the support mailbox.
type sample struct {
	title   string // what it shows, for the printout
	subject string
	signed  bool   // DKIM-signed by the contact's domain
	extra   string // more header fields, each ending in CRLF
	body    string // lines end in LF; build turns them into CRLF
}

// samples are delivered in this order, each once the previous one is
// decided and its mail delivered.
var samples = []sample{
	{
		title:   "A verified request: DKIM-signed by " + orgDomain,
		subject: "Unlock: jsmith",
		signed:  true,
		body: "Hello,\n\nJohn mistyped his password too often this morning. Please unlock his account.\n\n" +
			"Unlock: jsmith\n\n-- \nAcme IT\n",
	},
	{
		title:   "A forged request: From " + contactEmail + ", but not signed",
		subject: "Unlock: rpatel",
		extra:   "Reply-To: helpdesk@acme-support.example\r\n",
		body:    "URGENT: unlock rpatel now and send the confirmation to the Reply-To address.\n",
	},
	{
		title:   "A verified request for a user an admin locked",
		subject: "Unlock: mlopez",
		signed:  true,
		body:    "Hi,\n\nMaria is back from leave and cannot sign in.\n\nUnlock: mlopez\n\nThanks,\nAcme IT\n",
	},
	{
		title:   "An out-of-office auto-reply",
		subject: "Automatic reply: Unlock: jsmith",
		signed:  true,
		extra:   "Auto-Submitted: auto-replied\r\n",
		body:    "I am out of the office until Monday and will read your message when I return.\n",
	},
}

// delivery is a sample as built for one run.
type delivery struct {
	sample
	messageID string // without angle brackets
	raw       []byte
}

// build writes the sample as a message from the contact, signed when the
// sample says so.
func (s sample) build(sg *signer, now time.Time) (delivery, error) {
	d := delivery{sample: s, messageID: strings.ToLower(rand.Text()) + "@" + orgDomain}
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s <%s>\r\nTo: Support <%s>\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%s>\r\n",
		contactName, contactEmail, supportEmail, s.subject, now.Format(time.RFC1123Z), d.messageID)
	b.WriteString(s.extra)
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
	b.WriteString(strings.ReplaceAll(s.body, "\n", "\r\n"))
	d.raw = []byte(b.String())
	if s.signed {
		var err error
		if d.raw, err = sg.sign(d.raw); err != nil {
			return d, err
		}
	}
	return d, nil
}
