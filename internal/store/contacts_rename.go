package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/unlockd/unlockd/internal/address"
	"github.com/unlockd/unlockd/internal/domain"
)

// RenameContact changes the name of the org's contact with the address
// email (in any case); the name passes domain.Contact.Normalize. A missing
// contact is not found.
func (s *Store) RenameContact(ctx context.Context, slug, email, name, actor, source string) (domain.Contact, error) {
	norm, err := address.Normalize(email)
	if err != nil {
		return domain.Contact{}, domain.Errorf(domain.CodeNotFound, "contact %q not found", email)
	}
	var c domain.Contact
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		org, err := s.orgBySlug(ctx, tx, slug, "")
		if err != nil {
			return err
		}
		var r contactRow
		err = tx.GetContext(ctx, &r, tx.Rebind(`SELECT id, org_id, email, name FROM contacts
			WHERE org_id = ? AND lower(email) = ?`+s.forUpdate()), org.ID, norm)
		if errors.Is(err, sql.ErrNoRows) {
			return domain.Errorf(domain.CodeNotFound, "contact %q not found", email)
		}
		if err != nil {
			return fmt.Errorf("store: contact %s: %w", norm, err)
		}
		c = r.contact()
		shares, err := contactShares(ctx, tx, org.ID, c.Email)
		if err != nil {
			return err
		}
		c.SharedWith = shares[c.Email]
		old := c.Name
		c.Name = name
		if err := c.Normalize(); err != nil {
			return err
		}
		if c.Name == old {
			return nil
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE contacts SET name = ? WHERE id = ?`), c.Name, c.ID); err != nil {
			return fmt.Errorf("store: rename contact %s: %w", c.Email, err)
		}
		return s.audit(ctx, tx, domain.AuditEntry{OrgID: org.ID, Actor: actor, Action: domain.ActionContactRename,
			Target: c.Email, Source: source, Note: fmt.Sprintf("from %q to %q", old, c.Name)})
	})
	return c, err
}
