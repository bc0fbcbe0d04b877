package domain

import "time"

// ConfirmPolicy is an organisation's email_confirmation setting (SPEC §2):
// which requests get a one-time link, mailed to the contact's address on
// record, whose use confirms the request as the contact's own.
type ConfirmPolicy string

// Confirmation policies.
const (
	// ConfirmOff: no links; unverified requests wait for staff.
	ConfirmOff ConfirmPolicy = "off"
	// ConfirmUnverified (the default): requests whose sender was not
	// authenticated get a link; authenticated ones are decided at once.
	ConfirmUnverified ConfirmPolicy = "unverified"
	// ConfirmAlways: every request gets a link, and nothing is unlocked
	// until it is used, so that a steered autoresponder or a replayed
	// signature unlocks nobody.
	ConfirmAlways ConfirmPolicy = "always"
)

// ParseConfirmPolicy checks s names a confirmation policy, as the API, the
// web UI and the command line write it.
func ParseConfirmPolicy(s string) (ConfirmPolicy, error) {
	switch p := ConfirmPolicy(s); p {
	case ConfirmOff, ConfirmUnverified, ConfirmAlways:
		return p, nil
	}
	return "", invalidf("email_confirmation must be one of off, unverified, always, not %.32q", s)
}

// asks reports whether the policy wants a request, authenticated or not,
// confirmed by link. The zero policy asks for nothing, like off.
func (p ConfirmPolicy) asks(authenticated bool) bool {
	switch p {
	case ConfirmAlways:
		return true
	case ConfirmUnverified:
		return !authenticated
	}
	return false
}

// ConfirmTokenBytes is the size of a link's random token: 256 bits.
const ConfirmTokenBytes = 32

// ConfirmLink is a request's one-time confirmation link as the store keeps
// it: never the token itself, only which decision it confirms and when.
// It is bound to the items of that decision that its use may unlock
// (Item.Confirmable).
type ConfirmLink struct {
	ID         int64
	DecisionID int64
	CreatedAt  time.Time
	ExpiresAt  time.Time
	// UsedAt is when the link was used; zero while it was not.
	UsedAt time.Time
}

// Usable says whether the link may still confirm its request at now: a
// link works once, and not at or after ExpiresAt. A used or expired link is
// gone (CodeGone).
func (l ConfirmLink) Usable(now time.Time) error {
	switch {
	case !l.UsedAt.IsZero():
		return Errorf(CodeGone, "this link was already used, on %s: it works once, and nothing more changes", l.UsedAt.UTC().Format(timeWords))
	case !now.Before(l.ExpiresAt):
		return Errorf(CodeGone, "this link expired on %s: nothing was changed, and the request waits for support staff", l.ExpiresAt.UTC().Format(timeWords))
	}
	return nil
}

// ConfirmNote is the note of an item applied by its link.
const ConfirmNote = "confirmed by the contact's link"

// timeWords is how times read in messages people see.
const timeWords = "2 Jan 2006 15:04 UTC"

// Confirmed is one of a link's items as confirming leaves it.
type Confirmed struct {
	// Item is applied when its user was unlocked, or still pending, with
	// the reason it waits for now.
	Item Item
	// User is the item's user, unlocked when Item is applied.
	User User
	// Org is the item's organisation.
	Org Org
}

// Confirm applies the contact's confirmation by link at now to items, the
// link's bound items as stored, and marks the link used (SPEC §3.5).
// accounts are the organisations where the request's sender is a contact,
// as they stand, each with the items' users and the contact's recent
// unlocks. by names the contact as its requests by email do, so that
// max_requests_per_hour counts these unlocks like any authenticated ones.
//
//   - The link must be Usable; a used or expired one changes nothing.
//   - Only open items count: pending, in an organisation where the sender
//     is still a contact, for the same user, still locked. A link with no
//     open item is gone: the request was decided by staff, or its users
//     were unlocked meanwhile, and its items are left for the sweeper.
//   - Each open item is decided again exactly as an authenticated request
//     would be decided now: a failed-login lock is lifted (User.Unlock)
//     and the item applied, unless the rules still queue it (a deliberate
//     lock, auto_unlock off, the hourly limit reached), in which case it
//     stays pending with that reason.
//   - An item of a remote directory (Item.Directory) is decided on the
//     lock its lookup found (Item.Lock), the user as the directory
//     described it then; where it would be applied it becomes applying
//     instead, as a reviewer's approval makes it (Item.ApproveRemote):
//     the directory's conditional unlock follows the commit and lifts
//     only that lock, so an admin lock set meanwhile is never lifted.
//
// It returns the open items as they end; nothing else is changed.
func (l *ConfirmLink) Confirm(accounts []Account, items []Item, by string, now time.Time) ([]Confirmed, error) {
	if err := l.Usable(now); err != nil {
		return nil, err
	}
	var out []Confirmed
	applied := map[int64]int{}
	for _, it := range items {
		a, u, ok := openItem(accounts, it, now)
		if !ok {
			continue
		}
		q := asked{authenticated: true, confirmed: true}
		st, reason := q.outcome(u, a.Org.Policy, a.RecentUnlocks+applied[a.Org.ID], now)
		switch {
		case st == ItemApplied && it.Directory != "":
			if err := it.ApproveRemote(by, ConfirmNote, now); err != nil {
				return nil, err
			}
			applied[a.Org.ID]++
		case st == ItemApplied:
			if _, err := u.Unlock(now); err != nil {
				return nil, err
			}
			applied[a.Org.ID]++
			it.State, it.Reason, it.DecidedBy, it.DecidedAt, it.Note = st, reason, by, now, ConfirmNote
		default:
			it.State, it.Reason = st, reason
		}
		out = append(out, Confirmed{Item: it, User: u, Org: a.Org})
	}
	if len(out) == 0 {
		return nil, Errorf(CodeGone, "this request was already decided, by support staff or because the account was unlocked meanwhile: nothing was changed")
	}
	l.UsedAt = now
	return out, nil
}

// openItem finds a link's item's account and user, and reports whether
// the item can still be confirmed.
func openItem(accounts []Account, it Item, now time.Time) (Account, User, bool) {
	if it.State != ItemPending || !it.Confirmable {
		return Account{}, User{}, false
	}
	for _, a := range accounts {
		if a.Org.ID != it.OrgID {
			continue
		}
		u, ok := a.Users[it.Username]
		if it.Directory != "" {
			u, ok = it.lookedUp(), it.Lock != nil
		}
		if !ok || u.ID != it.UserID || !u.LockedAt(now) {
			return Account{}, User{}, false
		}
		return a, u, true
	}
	return Account{}, User{}, false
}

// lookedUp is the user of an item of a remote directory as its lookup
// described it: the username and the lock the item carries.
func (it Item) lookedUp() User {
	u := User{ID: it.UserID, OrgID: it.OrgID, Username: it.Username}
	if it.Lock != nil {
		l := *it.Lock
		u.Lock = &l
	}
	return u
}

// confirmable reports whether the link of a request decided as q would be
// bound to an item of user u in account a: the org's policy asks for a
// link, and confirming would unlock u now, recent counting the unlocks the
// request already brings the contact.
func (q asked) confirmable(u User, a Account, recent int, now time.Time) bool {
	if q.flood || !a.Org.Policy.EmailConfirmation.asks(q.authenticated) {
		return false
	}
	c := asked{authenticated: true, ambiguous: q.ambiguous, confirmed: true}
	st, _ := c.outcome(u, a.Org.Policy, a.RecentUnlocks+recent, now)
	return st == ItemApplied
}

// String names the policy, for logs and audit notes.
func (p ConfirmPolicy) String() string {
	if p == "" {
		return string(ConfirmOff)
	}
	return string(p)
}
