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

// Answer is what became of an applying item (domain.ApplyOutcome).
type Answer struct {
	State  domain.ItemState
	Reason domain.QueueReason
	Note   string
}

// RecordApply records the directory's answer for owner's applying item a,
// in one transaction: the item's new state, the audit entry naming the
// directory, and the reply when it is due — for a decision, once no item
// of the request is applying any more (all its items, FollowUpApplied,
// with the request's link if it asked for one); for an approval that was
// applied, the "approved" answer; for a use of the request's link, once
// none of the items it made applying is (FollowUpConfirmed). An item queued
// again (the lock changed, the directory refused) gets no answer of its
// own: staff are told (FollowUpRequeued) and decide it, as any queued
// item. ErrClaimLost when the item is no longer owner's.
func (s *Store) RecordApply(ctx context.Context, owner string, a Applying, ans Answer, render FollowUpRenderer) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		now := s.now()
		res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE request_items SET state = ?, reason = ?, note = ?, decided_at = ?,
			apply_claimed_by = NULL, apply_due_at = NULL WHERE id = ? AND state = 'applying' AND apply_claimed_by = ?`),
			string(ans.State), string(ans.Reason), text(joinNote(a.Note, ans.Note)), now, a.ID, owner)
		if err != nil {
			return fmt.Errorf("store: record apply of item %d: %w", a.ID, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("store: record apply of item %d: %w", a.ID, err)
		} else if n == 0 {
			return ErrClaimLost
		}
		// Answers for items of one decision take turns, so that the last
		// one sees every other and writes the reply (PostgreSQL; SQLite
		// writes one transaction at a time).
		var id int64
		if err := tx.GetContext(ctx, &id, tx.Rebind(`SELECT id FROM decisions WHERE id = ?`+s.forUpdate()), a.DecisionID); err != nil {
			return fmt.Errorf("store: decision of item %d: %w", a.ID, err)
		}
		r, err := s.request(ctx, tx, a.ID, "")
		if err != nil {
			return err
		}
		if err := s.audit(ctx, tx, applyAudit(a, ans, r.MessageID)); err != nil {
			return err
		}
		if ans.State == domain.ItemPending && render != nil {
			it := r.Item
			m, err := render(FollowUp{Kind: FollowUpRequeued, DecisionID: r.DecisionID, Subject: r.Subject,
				MessageID: r.MessageID, Sender: r.Sender, Items: []domain.Item{it}})
			if err != nil {
				return fmt.Errorf("store: render the notice of request %d: %w", r.ID, err)
			}
			m.DecisionID = r.DecisionID
			if err := s.queueMail(ctx, tx, m); err != nil {
				return err
			}
		}
		switch {
		case a.For == ApplyForApproval && ans.State == domain.ItemApplied:
			return s.queueFollowUp(ctx, tx, render, r, domain.ResolveApprove, a.Note, a.Username)
		case a.For == ApplyForDecision:
			return s.queueAppliedReply(ctx, tx, render, r)
		case a.For == ApplyForConfirm:
			return s.queueLinkApplied(ctx, tx, render, r)
		}
		return nil
	})
}

// applyAudit is the audit entry of a directory's answer: an unlock when
// the lock was lifted, otherwise what happened instead.
func applyAudit(a Applying, ans Answer, messageID string) domain.AuditEntry {
	e := domain.AuditEntry{OrgID: a.Org.ID, Actor: a.DecidedBy, Action: domain.ActionUnlock, Target: a.Username,
		Source: "message-id:" + messageID}
	switch a.For {
	case ApplyForApproval:
		e.Source = fmt.Sprintf("request:%d", a.ID)
	case ApplyForConfirm:
		e.Source = SourceConfirmLink
	}
	switch ans.State {
	case domain.ItemApplied:
		e.Note = fmt.Sprintf("unlocked in directory %s (lock %s)", a.Directory, a.Lock.Reason)
		switch a.For {
		case ApplyForDecision:
			e.Note = "verified email request; " + e.Note
		case ApplyForConfirm:
			e.Note = "request confirmed by link; " + e.Note
		}
	case domain.ItemNotLocked:
		e.Note = fmt.Sprintf("directory %s: the account was not locked any more; nothing to lift", a.Directory)
	default:
		e.Action, e.Actor = domain.ActionConfirm, domain.ActorSystem
		e.Note = fmt.Sprintf("directory %s: nothing lifted, queued for review (%s): %s", a.Directory, ans.Reason, ans.Note)
	}
	return e
}

// queueAppliedReply queues the reply to request r's message once none of
// its items is applying any more: every item as it ended, and the
// request's confirmation link when it asked for one (replyLink).
func (s *Store) queueAppliedReply(ctx context.Context, tx *sqlx.Tx, render FollowUpRenderer, r Request) error {
	var rows []requestRow
	if err := sqlx.SelectContext(ctx, tx, &rows, tx.Rebind(selectRequests+` WHERE ri.decision_id = ? ORDER BY ri.id`), r.DecisionID); err != nil {
		return fmt.Errorf("store: items of decision %d: %w", r.DecisionID, err)
	}
	items := make([]domain.Item, len(rows))
	for i, row := range rows {
		items[i] = row.request().Item
		if items[i].State == domain.ItemApplying {
			return nil // the reply waits for the last answer
		}
	}
	if render == nil || r.ContactEmail == "" {
		return nil
	}
	link, err := s.replyLink(ctx, tx, r.DecisionID, items) // confirm_apply.go
	if err != nil {
		return err
	}
	m, err := render(FollowUp{Kind: FollowUpApplied, DecisionID: r.DecisionID, To: r.ContactEmail, Subject: r.Subject,
		MessageID: r.MessageID, Items: items, Confirm: link})
	if err != nil {
		return fmt.Errorf("store: render the reply to decision %d: %w", r.DecisionID, err)
	}
	m.DecisionID = r.DecisionID
	return s.queueMail(ctx, tx, m)
}

// itemDirectory returns the remote directory of request r's org (the one
// the item was decided in, else the org's), or "" for builtin.
func (s *Store) itemDirectory(ctx context.Context, tx *sqlx.Tx, r Request) (string, error) {
	if r.OrgID == 0 {
		return "", nil
	}
	var row struct {
		Item string `db:"item"`
		Org  string `db:"org"`
	}
	if err := tx.GetContext(ctx, &row, tx.Rebind(`SELECT ri.directory AS item, o.directory AS org FROM request_items ri
		JOIN orgs o ON o.id = ri.org_id WHERE ri.id = ?`), r.ID); err != nil {
		return "", fmt.Errorf("store: directory of request %d: %w", r.ID, err)
	}
	for _, d := range []string{row.Item, row.Org} {
		if o := (domain.Org{Directory: d}); o.Remote() {
			return d, nil
		}
	}
	return "", nil
}

// approveRemote approves pending request r of a remote directory: the
// item becomes applying for the apply worker (domain.Item.ApproveRemote),
// with the audit entry of the approval; the unlock and the "approved"
// answer follow the directory's answer (RecordApply).
func (s *Store) approveRemote(ctx context.Context, tx *sqlx.Tx, r *Request, dir, note, actor, source string) error {
	if err := r.Item.ApproveRemote(actor, note, s.now()); err != nil {
		return err
	}
	r.Item.Directory = dir
	if err := s.markApplying(ctx, tx, r.Item, ApplyForApproval); err != nil {
		return err
	}
	return s.audit(ctx, tx, domain.AuditEntry{OrgID: r.OrgID, Actor: actor, Action: domain.ActionApprove, Target: r.Username,
		Source: source, Note: joinNote(fmt.Sprintf("request %d; unlocking in directory %s", r.ID, dir), r.Note)})
}

// markApplying saves pending item it, made applying in its directory
// (domain.Item.ApproveRemote), for what: due for the apply worker now,
// with no tries or calls yet.
func (s *Store) markApplying(ctx context.Context, tx *sqlx.Tx, it domain.Item, what string) error {
	res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE request_items SET state = 'applying', reason = '', decided_by = ?,
		note = ?, decided_at = ?, directory = ?, apply_for = ?, apply_since = ?, apply_due_at = ?, apply_tries = 0,
		apply_calls = 0, apply_error = '', apply_claimed_by = NULL WHERE id = ? AND state = 'pending'`),
		it.DecidedBy, it.Note, it.DecidedAt, it.Directory, what, it.DecidedAt, it.DecidedAt, it.ID)
	if err != nil {
		return fmt.Errorf("store: make request %d applying: %w", it.ID, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return domain.Errorf(domain.CodeConflict, "request %d is no longer pending", it.ID)
	}
	return nil
}

// RemoteOrgs returns, by sender address (normalised, as on record), the
// orgs with a remote directory in which the sender is a contact: intake
// asks those directories before deciding a batch (Input.Remote).
func (s *Store) RemoteOrgs(ctx context.Context, senders []string) (map[string][]domain.Org, error) {
	out := map[string][]domain.Org{}
	if len(senders) == 0 {
		return out, nil
	}
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	var rows []struct {
		Email string `db:"email"`
		orgRow
	}
	list := make([]any, len(senders))
	for i, x := range senders {
		list[i] = text(x)
	}
	if err := selectIn(ctx, s.db, &rows, `SELECT c.email, `+qualified("o", orgColumns, "")+` FROM contacts c
		JOIN orgs o ON o.id = c.org_id WHERE lower(c.email) IN (?) AND o.directory <> 'builtin' ORDER BY o.id`, nil, list); err != nil {
		return nil, fmt.Errorf("store: remote orgs of senders: %w", err)
	}
	for _, r := range rows {
		out[r.Email] = append(out[r.Email], r.org())
	}
	return out, nil
}
