package outbox

import (
	"crypto/rand"
	"fmt"
	"strings"

	"github.com/unlockd/unlockd/internal/config"
	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/store"
)

// Renderer renders replies and notifications from the mail templates. It
// parses them once, in NewRenderer, and is safe for concurrent use.
type Renderer struct {
	// PublicURL is where users reach unlockd (http.public_url): the
	// base of confirmation links. Set it before the first render; a
	// decision with a link cannot be rendered without it.
	PublicURL string

	tmpl     map[string]mailTemplate
	idDomain string
	loopID   string
}

// NewRenderer parses the mail templates, each from overrideDir when it
// holds a file of that name (directly or under mail/), otherwise from the
// embedded defaults, and checks that every one renders. from is smtp.from
// (config.SMTP.FromAddress); its address's domain ends our Message-IDs.
// loopID is the X-Loop value the worker stamps on our mail; templates see
// it as LoopID.
func NewRenderer(overrideDir, from, loopID string) (*Renderer, error) {
	addr, err := config.SMTP{From: from}.FromAddress()
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	at := strings.LastIndexByte(addr.Address, '@')
	t, err := loadTemplates(overrideDir)
	if err != nil {
		return nil, err
	}
	r := &Renderer{tmpl: t, idDomain: strings.ToLower(addr.Address[at+1:]), loopID: loopID}
	if err := r.selfTest(); err != nil {
		return nil, err
	}
	return r, nil
}

// ReplyData is what the reply templates (mail/reply.*.tmpl) render.
type ReplyData struct {
	// Kind is "decision" for the answer to a request message, or
	// "approved", "declined" or "expired" for a later answer.
	Kind string
	// Verdict is the decision's verdict (accepted, rejected, no_username)
	// when Kind is "decision".
	Verdict domain.Verdict
	// Subject is the request's subject, as written.
	Subject string
	// Items lists each requested username with its outcome.
	Items []ItemView
	// Note is the reviewer's note on a declined request.
	Note string
	// Unverified is set when the sender did not pass authentication.
	Unverified bool
	// AnyUnlocked, AnyQueued, AnyAdminLock and AnyUnknown summarise Items.
	AnyUnlocked, AnyQueued, AnyAdminLock, AnyUnknown bool
	// ConfirmURL is the request's one-time confirmation link, when the
	// reply carries one; ConfirmFor says how long it works ("30 minutes")
	// and ConfirmUntil until when (UTC).
	ConfirmURL, ConfirmFor, ConfirmUntil string
	// LoopID is our X-Loop value.
	LoopID string
}

// ItemView is one requested username as templates see it.
type ItemView struct {
	Username string
	State    domain.ItemState
	// Reason is why a pending item waits for a human.
	Reason domain.QueueReason
	// Outcome says what happened in plain words, e.g. "unlocked" or
	// "queued for review: locked deliberately by an administrator".
	Outcome string
	// Confirmable is set when the request's confirmation link would
	// unlock the user.
	Confirmable bool
}

// NotifyData is what the notification templates (mail/notify_*.tmpl)
// render.
type NotifyData struct {
	DecisionID int64
	// Sender is the contact who asked.
	Sender string
	// Subject is the request's subject, as written.
	Subject string
	// Unverified is set when the sender did not pass authentication.
	Unverified bool
	// Confirm is set when the reply to the contact carried a confirmation
	// link: the items it is bound to unlock once the contact uses it.
	Confirm bool
	// Items are the pending items the recipients may decide: for an
	// org's admins, those of their org only.
	Items []ItemView
	// LoopID is our X-Loop value.
	LoopID string
}

// reasonWords says why an item is queued, in plain words.
var reasonWords = map[domain.QueueReason]string{
	domain.QueueUnverifiedSender:     "your message could not be verified as coming from you",
	domain.QueueAdminLock:            "locked deliberately by an administrator",
	domain.QueueAutoUnlockOff:        "your organisation has every unlock reviewed",
	domain.QueueRateLimited:          "too many unlock requests in the last hour",
	domain.QueueAmbiguous:            "the username exists in more than one of your organisations",
	domain.QueueUnverifiedFlood:      "many unverified requests arrived from this address",
	domain.QueueAwaitingConfirmation: "your organisation asks you to confirm every request",
	domain.QueueLockChanged:          "the account's lock changed while we were unlocking it, so nothing was lifted",
	domain.QueueDirectoryError:       "your organisation's user directory could not be asked, or gave an answer we cannot act on",
}

// outcome puts an item's state in plain words. An unknown user always
// reads the same, whatever exists elsewhere.
func outcome(it domain.Item) string {
	switch it.State {
	case domain.ItemApplied:
		return "unlocked"
	case domain.ItemNotLocked:
		return "not locked, nothing to do"
	case domain.ItemUnknownUser:
		return "unknown user"
	case domain.ItemRejected:
		return "declined"
	case domain.ItemExpired:
		return "expired"
	case domain.ItemApplying:
		return "being unlocked"
	case domain.ItemPending:
		if it.Confirmable {
			return "waiting for you to confirm with the link below"
		}
		if w, ok := reasonWords[it.Reason]; ok {
			return "queued for review: " + w
		}
		return "queued for review"
	}
	return string(it.State)
}

func view(it domain.Item) ItemView {
	return ItemView{Username: it.Username, State: it.State, Reason: it.Reason, Outcome: outcome(it), Confirmable: it.Confirmable}
}

// Decision renders the mail for a recorded decision; it matches
// store.Renderer. It returns the reply (none when the decision names no
// one to reply to), one notify_admins mail per organisation in
// Decision.NotifyAdmins, and one notify_staff mail when Decision.NotifyStaff
// says so.
func (r *Renderer) Decision(dm store.DecisionMail) ([]domain.Mail, error) {
	d := dm.Decision
	var out []domain.Mail
	if d.ReplyTo != "" {
		data := ReplyData{Kind: "decision", Verdict: d.Verdict, Subject: dm.Message.Subject,
			Unverified: !dm.Decision.Authenticated, LoopID: r.loopID}
		for _, it := range d.Items {
			if dm.Confirm == nil {
				it.Confirmable = false // no link was made: nothing to wait for
			}
			data.add(it)
		}
		if err := r.link(&data, dm.Confirm); err != nil {
			return nil, err
		}
		m, err := r.reply(data, d.ReplyTo, dm.Message.Subject, dm.Message.MessageID, dm.Message.References)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	for _, org := range d.NotifyAdmins {
		var items []domain.Item
		for _, it := range d.Items {
			if it.OrgID == org && it.State == domain.ItemPending {
				items = append(items, it)
			}
		}
		m, err := r.notify(tmplNotifyAdmins, dm, items)
		if err != nil {
			return nil, err
		}
		m.Kind, m.OrgID = domain.MailNotifyAdmins, org
		out = append(out, m)
	}
	var pending []domain.Item
	for _, it := range d.Items {
		if it.State == domain.ItemPending {
			pending = append(pending, it)
		}
	}
	if d.NotifyStaff {
		m, err := r.notify(tmplNotifyStaff, dm, pending)
		if err != nil {
			return nil, err
		}
		m.Kind = domain.MailNotifyStaff
		out = append(out, m)
	}
	for i := range out {
		out[i].DecisionID = dm.DecisionID
	}
	return out, nil
}

// add appends an item and updates the summary flags.
func (d *ReplyData) add(it domain.Item) {
	d.Items = append(d.Items, view(it))
	switch it.State {
	case domain.ItemApplied:
		d.AnyUnlocked = true
	case domain.ItemUnknownUser:
		d.AnyUnknown = true
	case domain.ItemPending:
		d.AnyQueued = true
		if it.Reason == domain.QueueAdminLock {
			d.AnyAdminLock = true
		}
	}
}

// reply renders a reply threaded under the request message.
func (r *Renderer) reply(data ReplyData, to, subject, messageID string, references []string) (domain.Mail, error) {
	_, text, html, err := r.tmpl[tmplReply].execute(data)
	if err != nil {
		return domain.Mail{}, err
	}
	m := domain.Mail{Kind: domain.MailReply, To: to, Subject: replySubject(subject), MessageID: r.newMessageID(),
		Text: text, HTML: html}
	if id := cleanID(messageID); id != "" {
		m.InReplyTo = id
	}
	m.References = threadReferences(references, messageID)
	return m, nil
}

// notify renders a notification about dm's pending items.
func (r *Renderer) notify(name string, dm store.DecisionMail, items []domain.Item) (domain.Mail, error) {
	data := NotifyData{DecisionID: dm.DecisionID, Sender: dm.Facts.Sender, Subject: dm.Message.Subject,
		Unverified: !dm.Decision.Authenticated, Confirm: dm.Confirm != nil, LoopID: r.loopID}
	for _, it := range items {
		data.Items = append(data.Items, view(it))
	}
	subject, text, html, err := r.tmpl[name].execute(data)
	if err != nil {
		return domain.Mail{}, err
	}
	if subject == "" {
		subject = fmt.Sprintf("Unlock request #%d", dm.DecisionID)
	}
	return domain.Mail{Subject: subject, MessageID: r.newMessageID(), Text: text, HTML: html}, nil
}

// newMessageID returns a fresh Message-ID, without angle brackets.
func (r *Renderer) newMessageID() string {
	return strings.ToLower(rand.Text()) + "@" + r.idDomain
}

// maxReferences bounds the References we write; the oldest (the thread's
// root) and the newest ids are kept.
const maxReferences = 20

// threadReferences returns the request's References followed by its
// Message-ID, cleaned and without repeats.
func threadReferences(refs []string, messageID string) []string {
	var out []string
	seen := map[string]bool{}
	for _, id := range append(append([]string(nil), refs...), messageID) {
		if id = cleanID(id); id != "" && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	if len(out) > maxReferences {
		out = append(out[:1], out[len(out)-maxReferences+1:]...)
	}
	return out
}

// cleanID strips angle brackets from a message id and returns "" for one
// that could not be written back into a header safely.
func cleanID(id string) string {
	id = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(id), "<"), ">")
	if id == "" || len(id) > 250 {
		return ""
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c >= 0x7f || c == '<' || c == '>' {
			return ""
		}
	}
	return id
}

// replySubject returns "Re: " and the request's subject without any "Re:"
// prefixes of its own.
func replySubject(s string) string {
	s = oneLine(s)
	for {
		t := strings.TrimSpace(s)
		if len(t) < 3 || !strings.EqualFold(t[:3], "re:") {
			s = t
			break
		}
		s = t[3:]
	}
	if s == "" {
		s = "your unlock request"
	}
	return "Re: " + s
}
