package domain

import "time"

// Facts are what intake learned about one request message (SPEC §3 steps
// 3 and 4), ready for a decision.
type Facts struct {
	// Sender is the normalised From address. It is empty when From was
	// missing, held several addresses or could not be parsed.
	Sender string
	// Authenticated is true when sender authentication vouched for Sender
	// (and no differing Sender header cast doubt on it).
	Authenticated bool
	// Usernames are the usernames asked for explicitly, in order of
	// appearance.
	Usernames []string
	// Words are other words of the message. When no username was asked for
	// explicitly, words that are exactly usernames of the contact's
	// organisations count as requested (SPEC §3).
	Words []string
}

// Requested returns the names a decision considers: the explicit usernames,
// or, failing those, the words (the store loads users for these names).
func (f Facts) Requested() []string {
	if len(f.Usernames) > 0 {
		return f.Usernames
	}
	return f.Words
}

// Account is one organisation in which the sender is an authorised contact,
// with the state a decision reads.
type Account struct {
	Org     Org
	Contact Contact
	// Users holds the org's users among the requested usernames, keyed by
	// exact (case-sensitive) username.
	Users map[string]User
	// RecentUnlocks counts the unlocks applied by email on this contact's
	// requests during the last hour.
	RecentUnlocks int
}

// Decision is the outcome for one request message (SPEC §3 step 5).
type Decision struct {
	Verdict Verdict
	// Reason explains the verdict for staff and logs.
	Reason string
	// Items has one entry per requested username and matching org.
	Items []Item
	// ReplyTo is the address the reply goes to; empty means no reply.
	ReplyTo string
	// NotifyAdmins lists the organisations whose admins must be told that a
	// deliberate lock was asked to be lifted.
	NotifyAdmins []int64
}

// Decide applies SPEC §3 step 5 to a message's facts. accounts are the
// organisations where f.Sender is an authorised contact (usually one; none
// when the sender is unknown). It never consults anything but its arguments.
//
// The reply always goes to the contact's address on record, or, for an
// authenticated stranger, to the authenticated address; an unauthenticated
// stranger gets no reply, so forged mail causes no backscatter.
func Decide(f Facts, accounts []Account, now time.Time) Decision {
	if f.Sender == "" || len(accounts) == 0 {
		d := Decision{Verdict: VerdictRejected, Reason: "sender is not an authorised contact"}
		if f.Sender == "" {
			d.Reason = "sender address is missing or ambiguous"
		} else if f.Authenticated {
			d.ReplyTo = f.Sender
		}
		return d
	}
	d := Decision{Verdict: VerdictAccepted, ReplyTo: accounts[0].Contact.Email}
	usernames := dedupe(f.Usernames)
	if len(usernames) == 0 {
		usernames = knownWords(f.Words, accounts)
	}
	if len(usernames) == 0 {
		d.Verdict = VerdictNoUsername
		d.Reason = "no username found"
		return d
	}
	if f.Authenticated {
		d.Reason = "authorised contact, sender authenticated"
	} else {
		d.Reason = "authorised contact, sender not authenticated"
	}
	applied := make([]int, len(accounts))
	notify := map[int64]bool{}
	for _, name := range usernames {
		matches := 0
		for _, a := range accounts {
			if _, ok := a.Users[name]; ok {
				matches++
			}
		}
		if matches == 0 {
			d.Items = append(d.Items, Item{Username: name, State: ItemUnknownUser, UnverifiedSender: !f.Authenticated})
			continue
		}
		for i, a := range accounts {
			u, ok := a.Users[name]
			if !ok {
				continue
			}
			it := decideItem(u, a, f.Authenticated, matches > 1, applied[i], now)
			if it.State == ItemApplied {
				applied[i]++
			}
			if it.Reason == QueueAdminLock && !notify[a.Org.ID] {
				notify[a.Org.ID] = true
				d.NotifyAdmins = append(d.NotifyAdmins, a.Org.ID)
			}
			d.Items = append(d.Items, it)
		}
	}
	return d
}

// decideItem decides one user of one account; appliedSoFar counts the
// unlocks this message already applied for the account's contact.
func decideItem(u User, a Account, authenticated, ambiguous bool, appliedSoFar int, now time.Time) Item {
	it := Item{OrgID: a.Org.ID, UserID: u.ID, Username: u.Username, UnverifiedSender: !authenticated}
	p := a.Org.Policy
	switch {
	case !u.LockedAt(now):
		it.State = ItemNotLocked
		return it
	case u.Lock.Reason == LockAdmin:
		it.Reason = QueueAdminLock
	case !authenticated:
		it.Reason = QueueUnverifiedSender
	case ambiguous:
		it.Reason = QueueAmbiguous
	case !p.AutoUnlock:
		it.Reason = QueueAutoUnlockOff
	case p.MaxRequestsPerHour > 0 && a.RecentUnlocks+appliedSoFar >= p.MaxRequestsPerHour:
		it.Reason = QueueRateLimited
	default:
		it.State = ItemApplied
		return it
	}
	it.State = ItemPending
	return it
}

// knownWords returns the distinct words that are usernames in any account.
func knownWords(words []string, accounts []Account) []string {
	var out []string
	for _, w := range dedupe(words) {
		for _, a := range accounts {
			if _, ok := a.Users[w]; ok {
				out = append(out, w)
				break
			}
		}
	}
	return out
}

func dedupe(names []string) []string {
	seen := make(map[string]bool, len(names))
	out := make([]string, 0, len(names))
	for _, n := range names {
		if n != "" && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}
