package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/password"
)

// Confirmation links (SPEC §3.5): a decision that asks for one
// (domain.Decision.Confirm) gets a link in its reply, written in its
// transaction by writeConfirmations (batch_confirm.go). Using the link
// applies domain.ConfirmLink.Confirm to its items in one transaction.

// FollowUpConfirmed is the kind of the answer to a request its contact
// confirmed by link; FollowUp.Items says what became of each item.
const FollowUpConfirmed = "confirmed"

// SourceConfirmLink is the audit source of what a confirmation link does.
const SourceConfirmLink = "confirm-link"

// Confirmation is what a confirmation link would do, or did.
type Confirmation struct {
	Link domain.ConfirmLink
	// Contact is the address on record the link was sent to.
	Contact string
	// Subject is the request message's subject.
	Subject string
	// Authenticated is set when the request's sender was authenticated
	// (the org asks for a link on every request).
	Authenticated bool
	// Items are the link's open items as using the link leaves them
	// (domain.ConfirmLink.Confirm): applied, or still pending with why.
	Items []domain.Confirmed
}

// Unlocked counts the users the link unlocks.
func (c Confirmation) Unlocked() int { return c.count(domain.ItemApplied) }

// Applying counts the users the link has a remote directory unlock: the
// apply worker calls it after the commit, and the answer follows its
// reply (SPEC §5).
func (c Confirmation) Applying() int { return c.count(domain.ItemApplying) }

// count counts the link's items left in state.
func (c Confirmation) count(state domain.ItemState) int {
	n := 0
	for _, it := range c.Items {
		if it.Item.State == state {
			n++
		}
	}
	return n
}

// newConfirmToken returns a new link token, 256 bits from crypto/rand in
// base64url (43 characters), and its hash for storage.
func newConfirmToken() (token, hash string) {
	var b [domain.ConfirmTokenBytes]byte
	rand.Read(b[:])
	token = base64.RawURLEncoding.EncodeToString(b[:])
	return token, password.HashToken(token)
}

// confirmTokenLen is the length of every token newConfirmToken makes.
var confirmTokenLen = base64.RawURLEncoding.EncodedLen(domain.ConfirmTokenBytes)

// errUnknownLink answers a token no link has: a malformed one is never
// looked up.
var errUnknownLink = domain.Errorf(domain.CodeNotFound,
	"this link is not valid: check that the whole address from the email was opened")

// PreviewConfirmation returns what using the link of token would do now,
// and changes nothing: mail scanners fetch every link in a message, so
// opening it must not act. An unknown token is not found; a used, expired
// or already decided link is gone (domain.CodeGone).
func (s *Store) PreviewConfirmation(ctx context.Context, token string) (Confirmation, error) {
	var out Confirmation
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		c, accounts, items, err := s.loadConfirmation(ctx, tx, token, "")
		if err != nil {
			return err
		}
		link := c.Link
		if c.Items, err = link.Confirm(accounts, items, emailActor(c.Contact), s.now()); err != nil {
			return err
		}
		out = c
		return nil
	})
	return out, err
}

// Confirm uses the link of token, from source (the client, for the audit
// note): in one transaction it locks the link, its items, the contact and
// the users, applies domain.ConfirmLink.Confirm, saves the unlocked users
// and the items, marks the link used, writes an audit entry per item
// (source SourceConfirmLink) and queues the threaded answer render makes
// (nil: none). Concurrent uses wait on the link's row lock and find it
// used: a link unlocks once. Errors are as for PreviewConfirmation, and
// change nothing.
func (s *Store) Confirm(ctx context.Context, token, source string, render FollowUpRenderer) (Confirmation, error) {
	var out Confirmation
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		c, accounts, items, err := s.loadConfirmation(ctx, tx, token, s.forUpdate())
		if err != nil {
			return err
		}
		now := s.now()
		if c.Items, err = c.Link.Confirm(accounts, items, emailActor(c.Contact), now); err != nil {
			return err
		}
		if err := s.useLink(ctx, tx, c.Link, source); err != nil {
			return err
		}
		for _, it := range c.Items {
			if err := s.saveConfirmed(ctx, tx, c, it, source); err != nil {
				return err
			}
		}
		out = c
		return s.queueConfirmed(ctx, tx, render, c)
	})
	return out, err
}

// useLink marks the link used, once.
func (s *Store) useLink(ctx context.Context, tx *sqlx.Tx, l domain.ConfirmLink, source string) error {
	res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE confirmations SET used_at = ?, used_from = ? WHERE id = ? AND used_at IS NULL`),
		l.UsedAt, text(source), l.ID)
	if err != nil {
		return fmt.Errorf("store: use confirmation link: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		// The row lock makes this unreachable; never unlock twice if not.
		return domain.Errorf(domain.CodeGone, "this link was already used: it works once")
	}
	return nil
}

// saveConfirmed writes one item as confirming left it, its user when
// unlocked, and the audit entry.
func (s *Store) saveConfirmed(ctx context.Context, tx *sqlx.Tx, c Confirmation, it domain.Confirmed, source string) error {
	e := domain.AuditEntry{OrgID: it.Org.ID, Actor: emailActor(c.Contact), Target: it.Item.Username, Source: SourceConfirmLink}
	note := fmt.Sprintf("request %d confirmed by link (%s)", it.Item.ID, source)
	if it.Item.State == domain.ItemApplying {
		if err := s.markApplying(ctx, tx, it.Item, ApplyForConfirm); err != nil {
			return err
		}
		e.Action, e.Note = domain.ActionConfirm, fmt.Sprintf("%s; unlocking in directory %s", note, it.Item.Directory)
		return s.audit(ctx, tx, e)
	}
	if it.Item.State == domain.ItemApplied {
		if err := s.saveUser(ctx, tx, it.User); err != nil {
			return err
		}
		if err := s.setItemState(ctx, tx, []int64{it.Item.ID}, it.Item); err != nil {
			return err
		}
		e.Action, e.Note = domain.ActionUnlock, note
		return s.audit(ctx, tx, e)
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE request_items SET reason = ? WHERE id = ? AND state = 'pending'`),
		string(it.Item.Reason), it.Item.ID); err != nil {
		return fmt.Errorf("store: update request %d: %w", it.Item.ID, err)
	}
	e.Action, e.Note = domain.ActionConfirm, note+", still queued: "+string(it.Item.Reason)
	return s.audit(ctx, tx, e)
}

// queueConfirmed queues the threaded answer saying what the link did;
// when it made items applying in a remote directory, the answer waits for
// the directory's (queueLinkApplied).
func (s *Store) queueConfirmed(ctx context.Context, tx *sqlx.Tx, render FollowUpRenderer, c Confirmation) error {
	if render == nil || c.Applying() > 0 {
		return nil
	}
	var messageID string
	if err := tx.GetContext(ctx, &messageID, tx.Rebind(`SELECT message_id FROM decisions WHERE id = ?`), c.Link.DecisionID); err != nil {
		return fmt.Errorf("store: request of confirmation link: %w", err)
	}
	items := make([]domain.Item, len(c.Items))
	for i, it := range c.Items {
		items[i] = it.Item
	}
	return s.queueLinkAnswer(ctx, tx, render, FollowUp{Kind: FollowUpConfirmed, DecisionID: c.Link.DecisionID, To: c.Contact,
		Subject: c.Subject, MessageID: messageID}, items)
}

// loadConfirmation reads the link of token and everything its use
// decides on, with suffix (FOR UPDATE or nothing) locking, in order, the
// link, its items, the sender's contacts and the items' users: the
// order DecideBatch (contacts, then users) and approving (items, then
// users) keep too, so none of them can deadlock with another.
func (s *Store) loadConfirmation(ctx context.Context, tx *sqlx.Tx, token, suffix string) (Confirmation, []domain.Account, []domain.Item, error) {
	var c Confirmation
	if len(token) != confirmTokenLen || strings.Trim(token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
		return c, nil, nil, errUnknownLink
	}
	var link struct {
		ID         int64        `db:"id"`
		DecisionID int64        `db:"decision_id"`
		CreatedAt  time.Time    `db:"created_at"`
		ExpiresAt  time.Time    `db:"expires_at"`
		UsedAt     sql.NullTime `db:"used_at"`
		Sender     string       `db:"sender"`
		Subject    string       `db:"subject"`
		Auth       bool         `db:"authenticated"`
	}
	err := tx.GetContext(ctx, &link, tx.Rebind(`SELECT cf.id, cf.decision_id, cf.created_at, cf.expires_at, cf.used_at, d.sender, d.subject,
		d.authenticated FROM confirmations cf JOIN decisions d ON d.id = cf.decision_id WHERE cf.token_hash = ?`+lockOf(suffix, "cf")),
		password.HashToken(token))
	if errors.Is(err, sql.ErrNoRows) {
		return c, nil, nil, errUnknownLink
	}
	if err != nil {
		return c, nil, nil, fmt.Errorf("store: confirmation link: %w", err)
	}
	c.Link = domain.ConfirmLink{ID: link.ID, DecisionID: link.DecisionID, CreatedAt: link.CreatedAt.UTC(),
		ExpiresAt: link.ExpiresAt.UTC(), UsedAt: timeOf(link.UsedAt)}
	c.Contact, c.Subject, c.Authenticated = link.Sender, link.Subject, link.Auth
	var looked []lookedUpRow
	if err := tx.SelectContext(ctx, &looked, tx.Rebind(`SELECT id, directory, lock_reason, lock_at, lock_expires_at, lock_mark
		FROM request_items WHERE decision_id = ? AND confirm ORDER BY id`+suffix), link.DecisionID); err != nil {
		return c, nil, nil, fmt.Errorf("store: items of confirmation link: %w", err)
	}
	var rows []requestRow
	if err := tx.SelectContext(ctx, &rows, tx.Rebind(selectRequests+` WHERE ri.decision_id = ? AND ri.confirm ORDER BY ri.id`),
		link.DecisionID); err != nil {
		return c, nil, nil, fmt.Errorf("store: items of confirmation link: %w", err)
	}
	if len(rows) != len(looked) {
		return c, nil, nil, fmt.Errorf("store: items of confirmation link %d changed while read", link.ID)
	}
	items := make([]domain.Item, len(rows))
	for i, r := range rows {
		items[i] = looked[i].fill(r.request().Item)
	}
	accounts, err := s.confirmAccounts(ctx, tx, link.Sender, items, suffix)
	return c, accounts, items, err
}

// lookedUpRow is what a request item of a remote directory keeps of its
// lookup: the directory and the lock found.
type lookedUpRow struct {
	ID         int64        `db:"id"`
	Directory  string       `db:"directory"`
	LockReason string       `db:"lock_reason"`
	LockAt     sql.NullTime `db:"lock_at"`
	LockExpiry sql.NullTime `db:"lock_expires_at"`
	LockMark   string       `db:"lock_mark"`
}

// fill sets it's directory and looked-up lock; an item of builtin has
// neither.
func (r lookedUpRow) fill(it domain.Item) domain.Item {
	if !(domain.Org{Directory: r.Directory}).Remote() {
		return it
	}
	it.Directory = r.Directory
	if r.LockReason != "" {
		it.Lock = &domain.Lock{Reason: domain.LockReason(r.LockReason), At: timeOf(r.LockAt), Expires: timeOf(r.LockExpiry), Mark: r.LockMark}
	}
	return it
}

// confirmAccounts returns the accounts of the items' orgs where sender is
// still a contact, with the items' users (by id, so that a user made
// again under the same name is another) and the contact's unlocks by email
// in the last hour, counted up to the org's max_requests_per_hour.
func (s *Store) confirmAccounts(ctx context.Context, tx *sqlx.Tx, sender string, items []domain.Item, suffix string) ([]domain.Account, error) {
	orgIDs, userIDs := map[int64]bool{}, map[int64]bool{}
	for _, it := range items {
		switch {
		case it.OrgID == 0:
		case it.Directory != "": // the user is the lookup's (domain.ConfirmLink.Confirm)
			orgIDs[it.OrgID] = true
		case it.UserID != 0:
			orgIDs[it.OrgID], userIDs[it.UserID] = true, true
		}
	}
	if len(orgIDs) == 0 || sender == "" {
		return nil, nil
	}
	orgs := anys(sortedKeys(orgIDs))
	var contacts []contactRow
	if err := selectIn(ctx, tx, &contacts, `SELECT id, org_id, email, name FROM contacts WHERE org_id IN (?) AND lower(email) = ? ORDER BY id`+suffix,
		nil, orgs, sender); err != nil {
		return nil, fmt.Errorf("store: contacts of confirmation link: %w", err)
	}
	var orgRows []orgRow
	if err := selectIn(ctx, tx, &orgRows, `SELECT `+orgColumns+` FROM orgs WHERE id IN (?)`, nil, orgs); err != nil {
		return nil, fmt.Errorf("store: orgs of confirmation link: %w", err)
	}
	byID := map[int64]domain.Org{}
	for _, o := range orgRows {
		byID[o.ID] = o.org()
	}
	var users []userRow
	if len(userIDs) > 0 {
		if err := selectIn(ctx, tx, &users, `SELECT `+userColumns+` FROM users WHERE id IN (?) ORDER BY id`+suffix,
			nil, anys(sortedKeys(userIDs))); err != nil {
			return nil, fmt.Errorf("store: users of confirmation link: %w", err)
		}
	}
	since := s.now().Add(-time.Hour)
	var out []domain.Account
	for _, cr := range contacts {
		if cr.Email != sender { // exact, as DecideBatch compares
			continue
		}
		a := domain.Account{Org: byID[cr.OrgID], Contact: cr.contact(), Users: map[string]domain.User{}}
		for _, r := range users {
			if u := r.user(); u.OrgID == cr.OrgID {
				a.Users[u.Username] = u
			}
		}
		if limit := a.Org.Policy.MaxRequestsPerHour; limit > 0 {
			n, err := recentByEmail(ctx, tx, a.Org, cr.Email, since, limit)
			if err != nil {
				return nil, err
			}
			a.RecentUnlocks = n
		}
		out = append(out, a)
	}
	return out, nil
}

// recentUnlocks counts a contact's unlocks by email in an org since a
// time, up to a limit: what max_requests_per_hour limits.
const recentUnlocks = `SELECT count(*) FROM (SELECT 1 FROM request_items
	WHERE org_id = ? AND decided_by = ? AND state = 'applied' AND decided_at > ? LIMIT ?) x`

// recentByEmail counts contact email's unlocks by email in org since a
// time, up to limit: in a remote directory, those still waiting for its
// answer count too.
func recentByEmail(ctx context.Context, tx *sqlx.Tx, org domain.Org, email string, since time.Time, limit int) (int, error) {
	var n int
	if err := tx.GetContext(ctx, &n, tx.Rebind(recentUnlocks), org.ID, emailActor(email), since, limit); err != nil {
		return 0, fmt.Errorf("store: recent unlocks of %s: %w", email, err)
	}
	if org.Remote() && n < limit {
		var m int
		if err := tx.GetContext(ctx, &m, tx.Rebind(recentApplying), org.ID, emailActor(email), since, limit-n); err != nil {
			return 0, fmt.Errorf("store: recent unlocks of %s: %w", email, err)
		}
		n += m
	}
	return n, nil
}

// lockOf narrows a FOR UPDATE suffix to the rows of one table of a join.
func lockOf(suffix, alias string) string {
	if suffix == "" {
		return ""
	}
	return suffix + " OF " + alias
}
