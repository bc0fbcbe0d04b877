package csvimport

import (
	"cmp"
	"io"
	"strings"
	"time"

	"github.com/unlockd/unlockd/internal/domain"
)

// Users is the content of a valid users file.
type Users struct {
	// Users in file order. IDs and OrgIDs are zero: the store assigns them.
	Users []domain.User
	// Lines maps each username to its line, so that a caller can name the
	// row of a username the store reports as already on record.
	Lines map[string]int
}

// User columns, as in SPEC §6: username,display_name,email[,status,lock_reason],
// and lock_note, the note on a lock (optional).
const (
	colUsername    = "username"
	colDisplayName = "display_name"
	colEmail       = "email"
	colStatus      = "status"
	colLockReason  = "lock_reason"
	colLockNote    = "lock_note"
)

var userColumns = []column{
	{colUsername, true}, {colDisplayName, true}, {colEmail, true},
	{colStatus, false}, {colLockReason, false}, {colLockNote, false},
}

// importNote is the note on the lock of a user imported as locked without
// a lock_note.
const importNote = "imported"

// ParseUsers reads a users file named file (the name is used only in error
// messages) and validates every row. Usernames are kept exactly as written
// and compared case-sensitively; emails, which may be empty, are normalised.
// A user whose status is locked gets a lock with the row's lock_reason, at
// now, by actor, with the row's lock_note (domain.CheckNote), or the note
// "imported" when it has none.
//
// When any row is bad it returns no users and an *Errors naming each bad
// row; when reading fails it returns the read error.
func ParseUsers(r io.Reader, file, actor string, now time.Time) (Users, error) {
	return parseUsers(r, file, actor, now, defaultLimits)
}

func parseUsers(r io.Reader, file, actor string, now time.Time, lim limits) (Users, error) {
	errs := &collector{file: file, max: lim.errors}
	t, ok := newTable(r, userColumns, lim, errs)
	if !ok {
		return Users{}, firstErr(t.ioErr, errs.err())
	}
	cUser, cName, cEmail := t.col(colUsername), t.col(colDisplayName), t.col(colEmail)
	cStatus, cReason, cNote := t.col(colStatus), t.col(colLockReason), t.col(colLockNote)

	var out Users
	out.Lines = make(map[string]int)
	// After the first bad row nothing is returned: later rows are checked, not kept.
	for rec, line, ok := t.next(); ok; rec, line, ok = t.next() {
		u := domain.User{
			Username:    rec[cUser],
			DisplayName: checkName(errs, line, colDisplayName, rec[cName]),
		}
		if checkUsername(errs, line, u.Username) {
			if prev, dup := out.Lines[u.Username]; dup {
				errs.addf(line, "username %q is also on line %d", u.Username, prev)
			} else {
				out.Lines[u.Username] = line
			}
		}
		u.Email = checkEmail(errs, line, rec[cEmail])
		u.Lock = checkLock(errs, line, field(rec, cStatus), field(rec, cReason))
		note := checkLockNote(errs, line, u.Lock != nil, field(rec, cNote))
		if u.Lock != nil {
			u.Lock.At, u.Lock.By, u.Lock.Note = now, actor, cmp.Or(note, importNote)
		}
		if len(errs.errs) == 0 {
			out.Users = append(out.Users, u)
		}
	}
	if err := firstErr(t.ioErr, errs.err()); err != nil {
		return Users{}, err
	}
	return out, nil
}

// checkUsername records why s is not a valid username and reports whether
// it is one. Spaces around it are refused rather than trimmed, since
// usernames are compared exactly.
func checkUsername(errs *collector, line int, s string) bool {
	switch {
	case s == "":
		errs.addf(line, "username is empty")
	case strings.TrimSpace(s) != s:
		errs.addf(line, "username %q has spaces before or after it", s)
	default:
		if err := domain.ValidateUsername(s); err != nil {
			errs.addf(line, "%s", domain.ErrorMessage(err))
			return false
		}
		return true
	}
	return false
}

// checkLock records a bad status or lock_reason and returns the lock a
// locked user gets, with only its Reason set, or nil for an active user.
func checkLock(errs *collector, line int, status, reason string) *domain.Lock {
	status, reason = strings.TrimSpace(status), strings.TrimSpace(reason)
	st := domain.StatusActive
	if status != "" {
		var err error
		if st, err = domain.ParseStatus(status); err != nil {
			errs.addf(line, "%s", domain.ErrorMessage(err))
			return nil
		}
	}
	if st == domain.StatusActive {
		if reason != "" {
			errs.addf(line, "lock_reason %.64q must be empty when the status is active", reason)
		}
		return nil
	}
	if reason == "" {
		errs.addf(line, "status locked needs a lock_reason: %s or %s", domain.LockFailedLogins, domain.LockAdmin)
		return nil
	}
	lr, err := domain.ParseLockReason(reason)
	if err != nil {
		errs.addf(line, "%s", domain.ErrorMessage(err))
		return nil
	}
	return &domain.Lock{Reason: lr}
}

// checkLockNote records a lock_note that breaks domain.CheckNote, or that
// is given for a user who is not locked, and returns it trimmed.
func checkLockNote(errs *collector, line int, locked bool, note string) string {
	note, err := domain.CheckNote(note)
	switch {
	case err != nil:
		errs.addf(line, "lock_%s", domain.ErrorMessage(err))
	case note != "" && !locked:
		errs.addf(line, "lock_note must be empty when the status is active")
	}
	return note
}

// field returns rec[i], or "" when the file has no such column (i < 0).
func field(rec []string, i int) string {
	if i < 0 {
		return ""
	}
	return rec[i]
}

// firstErr returns the first non-nil error.
func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
