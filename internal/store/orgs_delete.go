package store

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/unlockd/unlockd/internal/domain"
)

// OrgDeleted counts what went with a deleted org.
type OrgDeleted struct {
	Users, Contacts, Pending int
}

// DeleteOrg deletes an organisation with its users, contacts, request
// items (queued ones included), API tokens and admin operators (the
// foreign keys cascade). Its audit entries stay, keeping the org's slug
// (audit.org_slug), and one more records the deletion with what went. A
// missing org is not found.
func (s *Store) DeleteOrg(ctx context.Context, slug, actor, source string) (OrgDeleted, error) {
	var out OrgDeleted
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		org, err := s.orgBySlug(ctx, tx, slug, s.forUpdate())
		if err != nil {
			return err
		}
		if err := tx.QueryRowxContext(ctx, tx.Rebind(`SELECT
			(SELECT count(*) FROM users WHERE org_id = ?),
			(SELECT count(*) FROM contacts WHERE org_id = ?),
			(SELECT count(*) FROM request_items WHERE org_id = ? AND state = 'pending')`), org.ID, org.ID, org.ID).
			Scan(&out.Users, &out.Contacts, &out.Pending); err != nil {
			return fmt.Errorf("store: count org %s: %w", slug, err)
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE audit SET org_slug = ? WHERE org_id = ?`), org.Slug, org.ID); err != nil {
			return fmt.Errorf("store: keep audit of org %s: %w", slug, err)
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM orgs WHERE id = ?`), org.ID); err != nil {
			return fmt.Errorf("store: delete org %s: %w", slug, err)
		}
		note := fmt.Sprintf("%q with %d users, %d contacts, %d queued requests", org.Name, out.Users, out.Contacts, out.Pending)
		if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO audit (org_id, org_slug, actor, action, target, source, note, at)
			VALUES (NULL, ?, ?, ?, ?, ?, ?, ?)`), org.Slug, actor, string(domain.ActionOrgDelete), org.Slug, source, note, s.now()); err != nil {
			return fmt.Errorf("store: audit %s %s: %w", domain.ActionOrgDelete, slug, err)
		}
		return nil
	})
	return out, err
}
