package store

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/unlockd/unlockd/internal/domain"
)

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
