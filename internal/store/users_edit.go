package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/unlockd/unlockd/internal/domain"
)

// UserChange is a change of a user's details; a nil field is left as it
// is. An empty Email clears the address.
type UserChange struct {
	DisplayName *string
	// Email must be normalised already (address.Check), or empty.
	Email *string
}

// UpdateUser changes a user's display name or address under a row lock and
// audits what changed; the result must pass domain.User.Normalize. A
// change that changes nothing writes nothing.
func (s *Store) UpdateUser(ctx context.Context, slug, username string, c UserChange, actor, source string) (domain.User, error) {
	return s.changeUser(ctx, slug, username, caller{actor: actor}, func(_ domain.Org, u *domain.User, _ time.Time) (*domain.AuditEntry, error) {
		before := *u
		if c.DisplayName != nil {
			u.DisplayName = *c.DisplayName
		}
		if c.Email != nil {
			u.Email = *c.Email
		}
		if err := u.Normalize(); err != nil {
			return nil, err
		}
		var changed []string
		if u.DisplayName != before.DisplayName {
			changed = append(changed, fmt.Sprintf("display_name %q", u.DisplayName))
		}
		if u.Email != before.Email {
			changed = append(changed, fmt.Sprintf("email %q", u.Email))
		}
		if len(changed) == 0 {
			return nil, nil
		}
		return &domain.AuditEntry{Actor: actor, Action: domain.ActionUserUpdate, Source: source, Note: strings.Join(changed, ", ")}, nil
	})
}

// DeleteUser deletes a user of the org. Its request items stay, without a
// user: a queued one can be declined, or expires (approving it is a
// conflict, as for any vanished user).
func (s *Store) DeleteUser(ctx context.Context, slug, username, actor, source string) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		org, u, err := s.userInOrg(ctx, tx, slug, username, s.forUpdateOfUser())
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM users WHERE id = ?`), u.ID); err != nil {
			return fmt.Errorf("store: delete user %q: %w", username, err)
		}
		note := "status " + string(u.Status(s.now()))
		return s.audit(ctx, tx, domain.AuditEntry{OrgID: org.ID, Actor: actor, Action: domain.ActionUserDelete,
			Target: u.Username, Source: source, Note: note})
	})
}
