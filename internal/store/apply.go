package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/unlockd/unlockd/internal/domain"
)

// What an applying item was decided by (request_items.apply_for).
const (
	// ApplyForDecision: the request's own decision unlocked; the reply
	// to the request waits for the directory's answers.
	ApplyForDecision = "decision"
	// ApplyForApproval: a reviewer approved a queued item; the
	// "approved" answer waits for the directory's.
	ApplyForApproval = "approval"
	// ApplyForConfirm: the contact confirmed the request by its link; the
	// "confirmed" answer waits for the directory's answers to every item
	// the link made applying.
	ApplyForConfirm = "confirm"
)

// FollowUpRequeued is the kind of the notice to staff that an item the
// directory did not unlock (its lock changed, it refused, it stayed
// unreachable) waits for review: FollowUp.Items holds it, FollowUp.Sender
// is the requesting contact; the mail goes to every staff operator.
const FollowUpRequeued = "requeued"

// FollowUpApplied is the kind of the reply to a request whose unlocks
// waited for a remote directory (SPEC §5): written once every applying
// item has its answer; FollowUp.Items are all the request's items as they
// ended.
const FollowUpApplied = "applied"

// Applying is an item to be unlocked in a remote directory, as the apply
// worker claims it.
type Applying struct {
	ID         int64
	DecisionID int64
	Org        domain.Org
	Username   string
	Directory  string
	// Lock is the lock the lookup returned (zero Reason: none is known,
	// as for an approved item whose directory could not be asked).
	Lock domain.Lock
	// For is ApplyForDecision or ApplyForApproval.
	For string
	// Since is when the item became applying: limits.directory_apply_max_age
	// runs from it.
	Since time.Time
	// Tries counts the calls that failed temporarily so far.
	Tries int
	// Calls counts the unlock calls begun (CallingUnlock) before this
	// claim: when it is above 0, an earlier call may have lifted the lock
	// without its answer being recorded.
	Calls     int
	DecidedBy string
	Note      string
}

type applyRow struct {
	ID         int64         `db:"id"`
	DecisionID int64         `db:"decision_id"`
	OrgID      sql.NullInt64 `db:"org_id"`
	Username   string        `db:"username"`
	Directory  string        `db:"directory"`
	LockReason string        `db:"lock_reason"`
	LockAt     sql.NullTime  `db:"lock_at"`
	LockExpiry sql.NullTime  `db:"lock_expires_at"`
	LockMark   string        `db:"lock_mark"`
	For        string        `db:"apply_for"`
	Since      sql.NullTime  `db:"apply_since"`
	Tries      int           `db:"apply_tries"`
	Calls      int           `db:"apply_calls"`
	DecidedBy  string        `db:"decided_by"`
	Note       string        `db:"note"`
}

const applyColumns = `id, decision_id, org_id, username, directory, lock_reason, lock_at, lock_expires_at, lock_mark,
	apply_for, apply_since, apply_tries, apply_calls, decided_by, note`

func (r applyRow) applying(o domain.Org) Applying {
	return Applying{ID: r.ID, DecisionID: r.DecisionID, Org: o, Username: r.Username, Directory: r.Directory,
		Lock: domain.Lock{Reason: domain.LockReason(r.LockReason), At: timeOf(r.LockAt), Expires: timeOf(r.LockExpiry),
			Mark: r.LockMark},
		For: r.For, Since: timeOf(r.Since), Tries: r.Tries, Calls: r.Calls, DecidedBy: r.DecidedBy, Note: r.Note}
}

// ClaimApplying returns up to limit due applying items, oldest first,
// claimed by owner until ttl from now (the outbox's claims: claims.go),
// each with its org as it stands.
func (s *Store) ClaimApplying(ctx context.Context, owner string, limit int, ttl time.Duration) ([]Applying, error) {
	var out []Applying
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		var rows []applyRow
		err := s.claim(ctx, tx, applyClaims, applyColumns, owner, limit, ttl, &rows, func() []int64 {
			ids := make([]int64, len(rows))
			for i, r := range rows {
				ids[i] = r.ID
			}
			return ids
		})
		if err != nil || len(rows) == 0 {
			return err
		}
		orgs := map[int64]domain.Org{}
		for _, r := range rows {
			orgs[r.OrgID.Int64] = domain.Org{}
		}
		var orgRows []orgRow
		if err := selectIn(ctx, tx, &orgRows, `SELECT `+orgColumns+` FROM orgs WHERE id IN (?)`, nil, anys(sortedKeys(orgs))); err != nil {
			return fmt.Errorf("store: orgs of applying items: %w", err)
		}
		for _, o := range orgRows {
			orgs[o.ID] = o.org()
		}
		for _, r := range rows {
			out = append(out, r.applying(orgs[r.OrgID.Int64]))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RenewApplyClaims extends owner's claims on the applying items ids to ttl
// from now and returns the ids it still holds.
func (s *Store) RenewApplyClaims(ctx context.Context, owner string, ids []int64, ttl time.Duration) ([]int64, error) {
	return s.renew(ctx, applyClaims, owner, ids, ttl)
}

// ReleaseApplying hands owner's claims on the applying items ids back,
// due at once.
func (s *Store) ReleaseApplying(ctx context.Context, owner string, ids []int64) error {
	return s.release(ctx, applyClaims, owner, ids)
}

// NextApplyDue returns when the earliest applying item is due (or its
// claim runs out); ok is false when none is applying.
func (s *Store) NextApplyDue(ctx context.Context) (time.Time, bool, error) {
	return s.nextDue(ctx, applyClaims)
}

// recentApplying is recentUnlocks for the unlocks a contact's requests
// (decided, or confirmed by link) for a remote directory that still wait
// for its answer.
const recentApplying = `SELECT count(*) FROM (SELECT 1 FROM request_items
	WHERE org_id = ? AND decided_by = ? AND state = 'applying' AND apply_for IN ('decision', 'confirm') AND decided_at > ? LIMIT ?) x`

// ErrClaimLost is returned when a worker records an item whose claim is no
// longer its own: another worker has it, or recorded it already.
var ErrClaimLost = errors.New("store: the claim was lost; another worker has the item")

// ApplyRetry records a temporary failure of owner's call for item id: it
// is due again at retryAt, with the cause kept for staff.
func (s *Store) ApplyRetry(ctx context.Context, owner string, id int64, cause string, retryAt time.Time) error {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	res, err := s.db.ExecContext(ctx, s.db.Rebind(`UPDATE request_items SET apply_tries = apply_tries + 1, apply_error = ?,
		apply_due_at = ?, apply_claimed_by = NULL WHERE id = ? AND state = 'applying' AND apply_claimed_by = ?`),
		text(cause), retryAt.UTC(), id, owner)
	if err != nil {
		return fmt.Errorf("store: apply retry of item %d: %w", id, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return ErrClaimLost
	}
	return nil
}

// CallingUnlock records, before owner calls the directory for item id,
// that a call begins: should its answer never be recorded, the next
// worker knows the lock may be gone by our hand (Applying.Calls).
func (s *Store) CallingUnlock(ctx context.Context, owner string, id int64) error {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	res, err := s.db.ExecContext(ctx, s.db.Rebind(`UPDATE request_items SET apply_calls = apply_calls + 1
		WHERE id = ? AND state = 'applying' AND apply_claimed_by = ?`), id, owner)
	if err != nil {
		return fmt.Errorf("store: note the unlock call of item %d: %w", id, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return ErrClaimLost
	}
	return nil
}
