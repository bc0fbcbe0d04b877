package outbox

import (
	"fmt"
	"time"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/store"
)

// FollowUp identifies the request a later reply (approved, declined,
// expired) answers, so that it lands in the same thread.
type FollowUp struct {
	// DecisionID is the request's decision, or 0.
	DecisionID int64
	// To is the contact's address on record.
	To string
	// Subject, MessageID and References are the request message's own.
	Subject    string
	MessageID  string
	References []string
}

// Approved renders the reply telling the contact that staff approved the
// unlock of username.
func (r *Renderer) Approved(f FollowUp, username string) (domain.Mail, error) {
	return r.followUp(f, "approved", "", domain.Item{Username: username, State: domain.ItemApplied})
}

// Declined renders the reply telling the contact that the unlock of
// username was declined, with the reviewer's note (may be empty).
func (r *Renderer) Declined(f FollowUp, username, note string) (domain.Mail, error) {
	return r.followUp(f, "declined", note, domain.Item{Username: username, State: domain.ItemRejected})
}

// Expired renders the reply telling the contact that nobody reviewed the
// unlock of usernames within request_ttl.
func (r *Renderer) Expired(f FollowUp, usernames ...string) (domain.Mail, error) {
	items := make([]domain.Item, len(usernames))
	for i, u := range usernames {
		items[i] = domain.Item{Username: u, State: domain.ItemExpired}
	}
	return r.followUp(f, "expired", "", items...)
}

// Answer renders a later answer recorded by the store; it matches
// store.FollowUpRenderer.
func (r *Renderer) Answer(a store.FollowUp) (domain.Mail, error) {
	switch a.Kind {
	case store.FollowUpConfirmed:
		return r.confirmed(a)
	case store.FollowUpApplied:
		return r.applied(a)
	case store.FollowUpRequeued:
		return r.requeued(a)
	}
	res, err := domain.ParseResolution(a.Kind)
	if err != nil {
		return domain.Mail{}, fmt.Errorf("outbox: answer: %w", err)
	}
	state := res.State()
	f := FollowUp{DecisionID: a.DecisionID, To: a.To, Subject: a.Subject, MessageID: a.MessageID}
	items := make([]domain.Item, len(a.Usernames))
	for i, u := range a.Usernames {
		items[i] = domain.Item{Username: u, State: state}
	}
	return r.followUp(f, a.Kind, a.Note, items...)
}

// applied renders the reply to a request whose unlocks waited for a
// remote directory: the decision's reply, written once every answer is in,
// saying "unlocked" only for what the directory lifted, with the
// request's confirmation link when it has one (store.FollowUp.Confirm).
func (r *Renderer) applied(a store.FollowUp) (domain.Mail, error) {
	if a.To == "" {
		return domain.Mail{}, fmt.Errorf("outbox: reply to decision %d has no recipient", a.DecisionID)
	}
	data := ReplyData{Kind: "decision", Verdict: domain.VerdictAccepted, Subject: a.Subject, LoopID: r.loopID}
	for _, it := range a.Items {
		it.Confirmable = it.Confirmable && a.Confirm != nil // no link: nothing waits for one
		data.add(it)
	}
	if err := r.link(&data, a.Confirm); err != nil {
		return domain.Mail{}, err
	}
	m, err := r.reply(data, a.To, a.Subject, a.MessageID, nil)
	if err != nil {
		return domain.Mail{}, err
	}
	m.DecisionID = a.DecisionID
	return m, nil
}

// requeued renders the notice to staff that a directory did not unlock
// an item, which now waits for review with the reason.
func (r *Renderer) requeued(a store.FollowUp) (domain.Mail, error) {
	dm := store.DecisionMail{DecisionID: a.DecisionID, Message: store.Message{Subject: a.Subject, MessageID: a.MessageID},
		Facts: domain.Facts{Sender: a.Sender}, Decision: domain.Decision{Authenticated: true}}
	m, err := r.notify(tmplNotifyStaff, dm, a.Items)
	if err != nil {
		return domain.Mail{}, err
	}
	m.Kind, m.DecisionID = domain.MailNotifyStaff, a.DecisionID
	return m, nil
}

func (r *Renderer) followUp(f FollowUp, kind, note string, items ...domain.Item) (domain.Mail, error) {
	if f.To == "" {
		return domain.Mail{}, fmt.Errorf("outbox: %s reply has no recipient", kind)
	}
	data := ReplyData{Kind: kind, Subject: f.Subject, Note: note, LoopID: r.loopID}
	for _, it := range items {
		data.add(it)
	}
	m, err := r.reply(data, f.To, f.Subject, f.MessageID, f.References)
	if err != nil {
		return domain.Mail{}, err
	}
	m.DecisionID = f.DecisionID
	return m, nil
}

// selfTest renders every template once with sample data, so that a broken
// override fails at start rather than inside a decision.
func (r *Renderer) selfTest() error {
	f := FollowUp{To: "contact@example.com", Subject: "Unlock", MessageID: "a@example.com"}
	if _, err := r.Approved(f, "user"); err != nil {
		return err
	}
	if _, err := r.Declined(f, "user", "note"); err != nil {
		return err
	}
	if _, err := r.Expired(f, "user"); err != nil {
		return err
	}
	if _, err := r.Answer(store.FollowUp{Kind: store.FollowUpClosed, To: f.To, Usernames: []string{"user"}}); err != nil {
		return err
	}
	if _, err := r.Answer(store.FollowUp{Kind: store.FollowUpRequeued, Sender: f.To, Items: []domain.Item{
		{Username: "b", State: domain.ItemPending, Reason: domain.QueueLockChanged}}}); err != nil {
		return err
	}
	if _, err := r.Answer(store.FollowUp{Kind: store.FollowUpApplied, To: f.To, Items: []domain.Item{
		{Username: "a", State: domain.ItemApplied}, {Username: "b", State: domain.ItemPending, Reason: domain.QueueLockChanged}}}); err != nil {
		return err
	}
	if _, err := r.Digest(store.Digest{Sender: f.To, Requests: []store.Request{{Item: domain.Item{OrgID: 1, Username: "a",
		State: domain.ItemPending, Reason: domain.QueueAdminLock}, Subject: "Unlock"}}, More: 1}); err != nil {
		return err
	}
	if _, err := r.Answer(store.FollowUp{Kind: store.FollowUpConfirmed, To: f.To, Usernames: []string{"a", "b"}, Items: []domain.Item{
		{Username: "a", State: domain.ItemApplied}, {Username: "b", State: domain.ItemPending, Reason: domain.QueueAdminLock}}}); err != nil {
		return err
	}
	for _, v := range []domain.Verdict{domain.VerdictRejected, domain.VerdictNoUsername, domain.VerdictAccepted} {
		dm := store.DecisionMail{DecisionID: 1, Message: store.Message{Subject: "Unlock", MessageID: "a@example.com"},
			Facts: domain.Facts{Sender: f.To}, Decision: domain.Decision{Verdict: v, ReplyTo: f.To, NotifyAdmins: []int64{1}, NotifyStaff: true,
				Items: []domain.Item{
					{OrgID: 1, Username: "a", State: domain.ItemPending, Reason: domain.QueueAdminLock},
					{OrgID: 1, Username: "b", State: domain.ItemApplied},
					{Username: "c", State: domain.ItemUnknownUser},
					{OrgID: 1, Username: "d", State: domain.ItemPending, Reason: domain.QueueUnverifiedSender, Confirmable: true},
				}}}
		if _, err := r.Decision(dm); err != nil {
			return err
		}
		// The same with a link, under a sample base when none is set yet.
		dm.Decision.Confirm = true
		dm.Confirm = &store.ConfirmMail{Token: "sample", ExpiresAt: time.Unix(0, 0), TTL: 30 * time.Minute}
		t := *r
		if t.PublicURL == "" {
			t.PublicURL = "https://unlockd.example"
		}
		if _, err := t.Decision(dm); err != nil {
			return err
		}
	}
	return nil
}
