package domain

import "time"

// Resolution is how a queued (pending) item is resolved (SPEC §3): by a
// reviewer, who approves or declines it, or by itself, when it expires or
// closes. Its text names the answer the contact gets.
type Resolution string

// Resolutions.
const (
	// ResolveApprove: a reviewer approved; the user is unlocked.
	ResolveApprove Resolution = "approved"
	// ResolveDecline: a reviewer declined, with a note; the user stays
	// locked.
	ResolveDecline Resolution = "declined"
	// ResolveExpire: nobody decided within request_ttl.
	ResolveExpire Resolution = "expired"
	// ResolveClose: the user was unlocked by other means meanwhile.
	ResolveClose Resolution = "closed"
)

// ParseResolution checks s names a resolution.
func ParseResolution(s string) (Resolution, error) {
	switch r := Resolution(s); r {
	case ResolveApprove, ResolveDecline, ResolveExpire, ResolveClose:
		return r, nil
	}
	return "", invalidf("resolution %q is not one of approved, declined, expired, closed", s)
}

// State is the state an item resolved as r ends in.
func (r Resolution) State() ItemState {
	switch r {
	case ResolveApprove, ResolveClose:
		return ItemApplied
	case ResolveDecline:
		return ItemRejected
	case ResolveExpire:
		return ItemExpired
	}
	return ""
}

// Action is the audit action that records r.
func (r Resolution) Action() Action {
	switch r {
	case ResolveApprove:
		return ActionApprove
	case ResolveDecline:
		return ActionReject
	case ResolveExpire:
		return ActionExpire
	case ResolveClose:
		return ActionClose
	}
	return ""
}

// systemNote is the note of the resolutions nobody decides.
func (r Resolution) systemNote() string {
	switch r {
	case ResolveExpire:
		return "nobody decided within request_ttl"
	case ResolveClose:
		return "the user was unlocked meanwhile"
	}
	return ""
}

// Due says how the pending item resolves itself at now, if it does: it
// closes once its user u (nil when the user no longer exists) is no longer
// locked, and otherwise expires once ttl has passed since it was queued.
// ok is false while it still waits for a human.
func (it Item) Due(u *User, queued time.Time, ttl time.Duration, now time.Time) (r Resolution, ok bool) {
	switch {
	case it.State != ItemPending:
		return "", false
	case u != nil && !u.LockedAt(now):
		return ResolveClose, true
	case !now.Before(queued.Add(ttl)):
		return ResolveExpire, true
	}
	return "", false
}

// Resolve resolves the pending item as r at now, by actor by, and applies
// to u, the item's user as it stands (nil when it no longer exists), what
// r implies. It returns the reason of the lock it lifted, or "".
//
//   - Only a pending item is resolved; any other is a conflict, so that
//     approving twice unlocks once.
//   - Approving needs the user: one that no longer exists is a conflict. A
//     user still locked is unlocked (User.Unlock); one unlocked meanwhile
//     is left alone, and the item still ends applied.
//   - Declining needs a note, which the contact reads; the user stays
//     locked. An approval's note is optional. Notes are kept without the
//     spaces around them, within MaxNoteBytes.
//   - An item closes only while Due says so; it carries the system's note,
//     as does an expired one.
func (it *Item) Resolve(r Resolution, u *User, by, note string, now time.Time) (lifted LockReason, err error) {
	why := ""
	if r == ResolveDecline {
		why = "say why the request is declined; the contact reads the note"
	}
	if note, err = checkNote(note, why); err != nil {
		return "", err
	}
	if n := r.systemNote(); n != "" {
		note = n
	}
	if it.State != ItemPending {
		return "", Errorf(CodeConflict, "request %d is already %s", it.ID, it.State)
	}
	switch r {
	case ResolveApprove:
		if u == nil {
			return "", Errorf(CodeConflict, "request %d: user %q no longer exists", it.ID, it.Username)
		}
		if u.LockedAt(now) {
			if lifted, err = u.Unlock(now); err != nil {
				return "", err
			}
		}
	case ResolveClose:
		if u == nil || u.LockedAt(now) {
			return "", Errorf(CodeConflict, "request %d: user %q is still locked or gone; it cannot close", it.ID, it.Username)
		}
	case ResolveDecline, ResolveExpire:
	default:
		return "", invalidf("resolution %q is not one of approved, declined, expired, closed", r)
	}
	it.State, it.DecidedBy, it.Note, it.DecidedAt = r.State(), by, note, now
	return lifted, nil
}

// ApproveRemote is Resolve(ResolveApprove) for an item whose user lives in
// a remote directory: the item becomes applying, by actor by, with the
// reviewer's note; the directory's conditional unlock follows the commit
// (SPEC §5), and the item ends applied, or queued again when the lock
// changed. Only a pending item is approved.
func (it *Item) ApproveRemote(by, note string, now time.Time) error {
	note, err := checkNote(note, "")
	if err != nil {
		return err
	}
	if it.State != ItemPending {
		return Errorf(CodeConflict, "request %d is already %s", it.ID, it.State)
	}
	it.State, it.Reason, it.DecidedBy, it.Note, it.DecidedAt = ItemApplying, "", by, note, now
	return nil
}
