package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/unlockd/unlockd/internal/domain"
)

// ImportResult says what Import wrote.
type ImportResult struct {
	OrgCreated bool
	Contacts   int
	Users      int
}

// importBatch is the number of rows per multi-row INSERT: 14 columns × 500
// rows stays far below both engines' limits on bound parameters.
const importBatch = 500

// Import is ImportNamed with no name: an org it creates is named after
// its slug.
func (s *Store) Import(ctx context.Context, slug string, contacts []domain.Contact, users []domain.User, actor, source string) (ImportResult, error) {
	return s.ImportNamed(ctx, slug, "", contacts, users, actor, source)
}

// ImportNamed adds contacts and users to the org named by slug, creating the
// org with the default policy when it does not exist. A name, when given,
// is the name of the org it creates, or the new name of the existing one
// (audited as a policy change, like any change of name). It is all or nothing: a
// contact or username already on record is a conflict naming it, and nothing
// is written. Every contact and user is checked as one added alone would be
// (domain.Contact.Normalize, domain.User.Normalize); callers that name rows
// (csvimport) check them first with the same rules. Rows already on record
// are all named, in an *ImportConflicts.
func (s *Store) ImportNamed(ctx context.Context, slug, name string, contacts []domain.Contact, users []domain.User, actor, source string) (ImportResult, error) {
	return s.ImportOrg(ctx, ImportTarget{Slug: slug, Name: name}, contacts, users, actor, source)
}

// ImportTarget names the org an import goes into and what it sets on it:
// the name and the directory (empty: unchanged, or the defaults for an org
// created). The directory must be builtin or configured; that is the
// caller's check (config.Config.HasDirectory).
type ImportTarget struct {
	Slug, Name, Directory string
}

// ImportOrg is ImportNamed that may also set the org's directory, in the
// same transaction.
func (s *Store) ImportOrg(ctx context.Context, t ImportTarget, contacts []domain.Contact, users []domain.User, actor, source string) (ImportResult, error) {
	slug, name := t.Slug, t.Name
	var res ImportResult
	for i := range contacts {
		var err error
		if contacts[i], err = normalizeContact(contacts[i]); err != nil {
			return res, err
		}
	}
	for i := range users {
		if err := users[i].Normalize(); err != nil {
			return res, err
		}
	}
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		lock := ""
		if name != "" || t.Directory != "" {
			lock = s.forUpdate() // a rename must not lose a concurrent ChangeOrg
		}
		org, err := s.orgBySlug(ctx, tx, slug, lock)
		if errors.Is(err, domain.ErrNotFound) {
			org = domain.Org{Slug: slug, Name: cmp.Or(name, slug), Policy: domain.DefaultPolicy(), Directory: t.Directory}
			if err = org.Normalize(); err != nil {
				return err
			}
			org.ID, err = s.createOrg(ctx, tx, org)
			res.OrgCreated = true
		} else if err == nil && name != "" {
			err = s.renameOrg(ctx, tx, org, name, actor, source)
		}
		if err == nil && !res.OrgCreated && t.Directory != "" {
			err = s.moveOrg(ctx, tx, org, t.Directory, actor, source)
		}
		if err != nil {
			return err
		}
		if err := s.checkImportConflicts(ctx, tx, org.ID, contacts, users); err != nil {
			return err
		}
		if err := s.insertContacts(ctx, tx, org.ID, contacts); err != nil {
			return err
		}
		if err := s.insertUsers(ctx, tx, org.ID, users); err != nil {
			return err
		}
		res.Contacts, res.Users = len(contacts), len(users)
		return s.audit(ctx, tx, domain.AuditEntry{OrgID: org.ID, Actor: actor, Action: domain.ActionImport, Target: slug,
			Source: source, Note: fmt.Sprintf("%d contacts, %d users", len(contacts), len(users))})
	})
	if err != nil {
		return ImportResult{}, err
	}
	return res, nil
}

// checkImportConflicts names every contact and user already on record, so
// that the caller can point at each row.
func (s *Store) checkImportConflicts(ctx context.Context, tx *sqlx.Tx, orgID int64, contacts []domain.Contact, users []domain.User) error {
	var found ImportConflicts
	if len(contacts) > 0 {
		var existing []string
		if err := sqlx.SelectContext(ctx, tx, &existing, tx.Rebind(`SELECT lower(email) FROM contacts WHERE org_id = ?`), orgID); err != nil {
			return fmt.Errorf("store: existing contacts: %w", err)
		}
		known := toSet(existing)
		for _, c := range contacts {
			if known[c.Email] {
				found.Conflicts = append(found.Conflicts, &ImportConflict{Contact: c.Email})
			}
		}
	}
	if len(users) > 0 {
		var existing []string
		if err := sqlx.SelectContext(ctx, tx, &existing, tx.Rebind(`SELECT username FROM users WHERE org_id = ?`), orgID); err != nil {
			return fmt.Errorf("store: existing users: %w", err)
		}
		known := toSet(existing)
		for _, u := range users {
			if known[u.Username] {
				found.Conflicts = append(found.Conflicts, &ImportConflict{Username: u.Username})
			}
		}
	}
	if len(found.Conflicts) > 0 {
		return &found
	}
	return nil
}

// ImportConflicts lists every contact and user of an import that is
// already on record: contacts first, each in the order given. errors.As
// finds the first *ImportConflict in it.
type ImportConflicts struct {
	Conflicts []*ImportConflict
}

func (e *ImportConflicts) Error() string {
	msgs := make([]string, len(e.Conflicts))
	for i, c := range e.Conflicts {
		msgs[i] = c.Error()
	}
	return strings.Join(msgs, "; ")
}

// Unwrap returns each conflict.
func (e *ImportConflicts) Unwrap() []error {
	out := make([]error, len(e.Conflicts))
	for i, c := range e.Conflicts {
		out[i] = c
	}
	return out
}

// ImportConflict names a contact or user that is already on record.
type ImportConflict struct {
	Contact  string
	Username string
}

func (e *ImportConflict) Error() string {
	if e.Contact != "" {
		return fmt.Sprintf("contact %s is already on record", e.Contact)
	}
	return fmt.Sprintf("user %q already exists", e.Username)
}

// Is makes an ImportConflict a domain conflict for errors.Is.
func (e *ImportConflict) Is(target error) bool { return target == domain.ErrConflict }

func toSet(xs []string) map[string]bool {
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}

func (s *Store) insertContacts(ctx context.Context, tx *sqlx.Tx, orgID int64, contacts []domain.Contact) error {
	now := s.now()
	return batches(len(contacts), func(lo, hi int) error {
		args := make([]any, 0, (hi-lo)*4)
		for _, c := range contacts[lo:hi] {
			args = append(args, orgID, c.Email, c.Name, now)
		}
		q := `INSERT INTO contacts (org_id, email, name, created_at) VALUES ` + placeholders(hi-lo, 4)
		if _, err := tx.ExecContext(ctx, tx.Rebind(q), args...); err != nil {
			return fmt.Errorf("store: import contacts: %w", mapErr(err))
		}
		return nil
	})
}

func (s *Store) insertUsers(ctx context.Context, tx *sqlx.Tx, orgID int64, users []domain.User) error {
	now := s.now()
	return batches(len(users), func(lo, hi int) error {
		args := make([]any, 0, (hi-lo)*14)
		for _, u := range users[lo:hi] {
			reason, at, by, note, expires := lockArgs(u.Lock)
			args = append(args, orgID, u.Username, u.DisplayName, u.Email, u.PasswordHash,
				reason, at, by, note, expires, u.FailedLogins, nullTime(u.LastFailedAt), now, now)
		}
		q := `INSERT INTO users (org_id, username, display_name, email, password_hash, lock_reason,
			locked_at, locked_by, lock_note, lock_expires_at, failed_logins, last_failed_at, created_at, updated_at)
			VALUES ` + placeholders(hi-lo, 14)
		if _, err := tx.ExecContext(ctx, tx.Rebind(q), args...); err != nil {
			return fmt.Errorf("store: import users: %w", mapErr(err))
		}
		return nil
	})
}

// batches calls fn for consecutive [lo, hi) ranges of at most importBatch.
func batches(n int, fn func(lo, hi int) error) error {
	for lo := 0; lo < n; lo += importBatch {
		if err := fn(lo, min(lo+importBatch, n)); err != nil {
			return err
		}
	}
	return nil
}

// placeholders returns "(?, ?), (?, ?)" for rows × cols.
func placeholders(rows, cols int) string {
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")"
	return strings.TrimSuffix(strings.Repeat(row+", ", rows), ", ")
}

// renameOrg gives org a new name (domain.Org.Normalize) with an audit
// entry, unless it has that name already.
func (s *Store) renameOrg(ctx context.Context, tx *sqlx.Tx, org domain.Org, name, actor, source string) error {
	old := org.Name
	org.Name = name
	if err := org.Normalize(); err != nil || org.Name == old {
		return err
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE orgs SET name = ? WHERE id = ?`), org.Name, org.ID); err != nil {
		return fmt.Errorf("store: rename org %s: %w", org.Slug, err)
	}
	return s.audit(ctx, tx, domain.AuditEntry{OrgID: org.ID, Actor: actor, Action: domain.ActionPolicyChange,
		Target: org.Slug, Source: source, Note: fmt.Sprintf("name from %q to %q", old, org.Name)})
}

// moveOrg sets an existing org's directory, with an audit entry.
func (s *Store) moveOrg(ctx context.Context, tx *sqlx.Tx, org domain.Org, dir, actor, source string) error {
	old := org.Directory
	org.Directory = dir
	if err := org.Normalize(); err != nil || org.Directory == old {
		return err
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE orgs SET directory = ? WHERE id = ?`), org.Directory, org.ID); err != nil {
		return fmt.Errorf("store: set the directory of org %s: %w", org.Slug, err)
	}
	return s.audit(ctx, tx, domain.AuditEntry{OrgID: org.ID, Actor: actor, Action: domain.ActionPolicyChange,
		Target: org.Slug, Source: source, Note: fmt.Sprintf("directory from %q to %q", old, org.Directory)})
}
