package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/unlockd/unlockd/internal/address"
	"github.com/unlockd/unlockd/internal/domain"
)

// normalizeContact puts a contact's address in canonical form
// (address.Check) and checks the contact (domain.Contact.Normalize).
func normalizeContact(c domain.Contact) (domain.Contact, error) {
	if c.Email = strings.TrimSpace(c.Email); c.Email != "" {
		email, err := address.Check("email", c.Email)
		if err != nil {
			return c, err
		}
		c.Email = email
	}
	return c, c.Normalize()
}

const insertContact = `INSERT INTO contacts (org_id, email, name, created_at) VALUES (?, ?, ?, ?) RETURNING id`

// AddContact adds an authorised contact to the org. The address is stored
// normalised; one already on record for the org (in any case) is a conflict.
// The answer's SharedWith names the other orgs that have the address too.
func (s *Store) AddContact(ctx context.Context, slug string, c domain.Contact, actor, source string) (domain.Contact, error) {
	c, err := normalizeContact(c)
	if err != nil {
		return c, err
	}
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		org, err := s.orgBySlug(ctx, tx, slug, "")
		if err != nil {
			return err
		}
		c.OrgID = org.ID
		if c.ID, err = s.addContact(ctx, tx, c); err != nil {
			return err
		}
		shares, err := contactShares(ctx, tx, org.ID, c.Email)
		if err != nil {
			return err
		}
		c.SharedWith = shares[c.Email]
		return s.audit(ctx, tx, domain.AuditEntry{OrgID: org.ID, Actor: actor, Action: domain.ActionContactAdd, Target: c.Email, Source: source})
	})
	return c, err
}

func (s *Store) addContact(ctx context.Context, tx *sqlx.Tx, c domain.Contact) (int64, error) {
	id, err := insertID(ctx, tx, insertContact, c.OrgID, c.Email, c.Name, s.now())
	if isUnique(err) {
		return 0, domain.Errorf(domain.CodeConflict, "contact %s is already on record", c.Email)
	}
	if err != nil {
		return 0, fmt.Errorf("store: insert contact: %w", err)
	}
	return id, nil
}

type contactRow struct {
	ID    int64  `db:"id"`
	OrgID int64  `db:"org_id"`
	Email string `db:"email"`
	Name  string `db:"name"`
}

func (r contactRow) contact() domain.Contact {
	return domain.Contact{ID: r.ID, OrgID: r.OrgID, Email: r.Email, Name: r.Name}
}

// Contacts lists the org's authorised contacts by address.
func (s *Store) Contacts(ctx context.Context, slug string) ([]domain.Contact, error) {
	return s.listContacts(ctx, slug, ContactFilter{})
}

// ContactFilter pages ListContacts.
type ContactFilter struct {
	// AfterEmail pages forward: only addresses sorting after it.
	AfterEmail string
	Limit      int
}

// ListContacts lists the org's authorised contacts by address, one page at
// a time, each with the other orgs that share its address.
func (s *Store) ListContacts(ctx context.Context, slug string, f ContactFilter) ([]domain.Contact, error) {
	f.Limit = limitOrDefault(f.Limit)
	return s.listContacts(ctx, slug, f)
}

// listContacts lists contacts after f.AfterEmail; a zero f.Limit lists all.
func (s *Store) listContacts(ctx context.Context, slug string, f ContactFilter) ([]domain.Contact, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	org, err := s.orgBySlug(ctx, s.db, slug, "")
	if err != nil {
		return nil, err
	}
	q := `SELECT id, org_id, email, name FROM contacts WHERE org_id = ? AND email > ? ORDER BY email`
	args := []any{org.ID, f.AfterEmail}
	if f.Limit > 0 {
		q += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	var rows []contactRow
	if err := s.db.SelectContext(ctx, &rows, s.db.Rebind(q), args...); err != nil {
		return nil, fmt.Errorf("store: list contacts: %w", err)
	}
	shares, err := contactShares(ctx, s.db, org.ID, "")
	if err != nil {
		return nil, err
	}
	out := make([]domain.Contact, len(rows))
	for i, r := range rows {
		out[i] = r.contact()
		out[i].SharedWith = shares[r.Email]
	}
	return out, nil
}

// contactShares maps each contact of the org that is also a contact of
// other orgs to those orgs' slugs, sorted; contacts of this org alone are
// left out. A non-empty email (normalised) limits it to that address.
func contactShares(ctx context.Context, q queryer, orgID int64, email string) (map[string][]string, error) {
	query := `SELECT mine.email AS email, o.slug AS slug FROM contacts mine
		JOIN contacts other ON lower(other.email) = lower(mine.email) AND other.org_id <> mine.org_id
		JOIN orgs o ON o.id = other.org_id
		WHERE mine.org_id = ?`
	args := []any{orgID}
	if email != "" {
		query += ` AND lower(mine.email) = ?`
		args = append(args, email)
	}
	query += ` ORDER BY mine.email, o.slug`
	var rows []struct {
		Email string `db:"email"`
		Slug  string `db:"slug"`
	}
	if err := sqlx.SelectContext(ctx, q, &rows, q.Rebind(query), args...); err != nil {
		return nil, fmt.Errorf("store: contact shares: %w", err)
	}
	shares := map[string][]string{}
	for _, r := range rows {
		shares[r.Email] = append(shares[r.Email], r.Slug)
	}
	return shares, nil
}

// RemoveContact deletes an authorised contact; domain.ErrNotFound when the
// org has no such contact.
func (s *Store) RemoveContact(ctx context.Context, slug, email, actor, source string) error {
	norm, err := address.Normalize(email)
	if err != nil {
		return domain.Errorf(domain.CodeNotFound, "contact %q not found", email)
	}
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		org, err := s.orgBySlug(ctx, tx, slug, "")
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM contacts WHERE org_id = ? AND lower(email) = ?`), org.ID, norm)
		if err != nil {
			return fmt.Errorf("store: delete contact: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return domain.Errorf(domain.CodeNotFound, "contact %q not found", email)
		}
		return s.audit(ctx, tx, domain.AuditEntry{OrgID: org.ID, Actor: actor, Action: domain.ActionContactRemove, Target: norm, Source: source})
	})
}

// IsContact reports whether addr, a normalised address, is an authorised
// contact of any organisation.
func (s *Store) IsContact(ctx context.Context, addr string) (bool, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	var n int
	if err := s.db.GetContext(ctx, &n, s.db.Rebind(`SELECT count(*) FROM contacts WHERE lower(email) = ? AND email = ?`), addr, addr); err != nil {
		return false, fmt.Errorf("store: is %s a contact: %w", addr, err)
	}
	return n > 0, nil
}
