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

// Request is one requested username of a request message (a request item)
// with the evidence a reviewer needs: who sent it, whether the sender was
// authenticated and why, and the message it came in.
type Request struct {
	domain.Item
	OrgSlug       string // empty for an unknown user
	DecisionID    int64
	Mailbox       string
	Sender        string
	Authenticated bool
	AuthReason    string
	Subject       string
	MessageID     string
	ReceivedAt    time.Time
	// CreatedAt is when the request message was decided; request_ttl runs
	// from it.
	CreatedAt time.Time
	// ContactEmail is the requesting contact's address on record, where
	// every answer goes; empty once the contact is removed.
	ContactEmail string
	// Link is the confirmation link bound to the item: when it was sent,
	// until when it works, and when it was used; nil when none was sent.
	Link *domain.ConfirmLink
}

// Kinds of follow-up answers: the domain's resolutions, by name.
const (
	FollowUpApproved = string(domain.ResolveApprove) // a reviewer approved: the user is unlocked
	FollowUpDeclined = string(domain.ResolveDecline) // a reviewer declined, with a note
	FollowUpExpired  = string(domain.ResolveExpire)  // nobody decided within request_ttl
	FollowUpClosed   = string(domain.ResolveClose)   // the user was unlocked by other means meanwhile
)

// FollowUp is a later answer to a request message, for some of its items.
type FollowUp struct {
	// Kind is one of the FollowUp* kinds.
	Kind       string
	DecisionID int64
	// To is the contact's address on record.
	To string
	// Subject and MessageID are the request message's, for threading.
	Subject   string
	MessageID string
	Usernames []string
	// Note is the reviewer's note on a declined request.
	Note string
	// Items, for FollowUpConfirmed, are the items as the link left them:
	// applied, or still pending with the reason (for FollowUpApplied and
	// FollowUpRequeued: see there).
	Items []domain.Item
	// Sender is the requesting contact's address, for FollowUpRequeued.
	Sender string
	// Confirm, for FollowUpApplied, is the request's confirmation link,
	// made in the transaction that queues the reply carrying it; nil when
	// the decision asked for none or nothing waits for it any more.
	Confirm *ConfirmMail
}

// FollowUpRenderer renders a follow-up inside the transaction that resolves
// the items, so the answer is queued exactly when they change. It must do no
// I/O. A nil FollowUpRenderer queues nothing.
type FollowUpRenderer func(FollowUp) (domain.Mail, error)

type requestRow struct {
	ID               int64          `db:"id"`
	OrgID            sql.NullInt64  `db:"org_id"`
	UserID           sql.NullInt64  `db:"user_id"`
	Username         string         `db:"username"`
	State            string         `db:"state"`
	Reason           string         `db:"reason"`
	UnverifiedSender bool           `db:"unverified_sender"`
	DecidedBy        string         `db:"decided_by"`
	Note             string         `db:"note"`
	DecidedAt        sql.NullTime   `db:"decided_at"`
	OrgSlug          sql.NullString `db:"org_slug"`
	DecisionID       int64          `db:"decision_id"`
	Mailbox          string         `db:"mailbox"`
	Sender           string         `db:"sender"`
	Authenticated    bool           `db:"authenticated"`
	AuthReason       string         `db:"auth_reason"`
	Subject          string         `db:"subject"`
	MessageID        string         `db:"message_id"`
	ReceivedAt       sql.NullTime   `db:"received_at"`
	CreatedAt        time.Time      `db:"created_at"`
	ContactEmail     sql.NullString `db:"contact_email"`
	Confirm          bool           `db:"confirm"`
	LinkID           sql.NullInt64  `db:"link_id"`
	LinkSentAt       sql.NullTime   `db:"link_sent_at"`
	LinkExpiresAt    sql.NullTime   `db:"link_expires_at"`
	LinkUsedAt       sql.NullTime   `db:"link_used_at"`
}

const selectRequests = `SELECT ri.id, ri.org_id, ri.user_id, ri.username, ri.state, ri.reason, ri.unverified_sender,
	ri.decided_by, ri.note, ri.decided_at, o.slug AS org_slug, d.id AS decision_id, d.mailbox, d.sender,
	d.authenticated, d.auth_reason, d.subject, d.message_id, d.received_at, d.decided_at AS created_at,
	c.email AS contact_email, ri.confirm, cf.id AS link_id, cf.created_at AS link_sent_at,
	cf.expires_at AS link_expires_at, cf.used_at AS link_used_at
	FROM request_items ri JOIN decisions d ON d.id = ri.decision_id
	LEFT JOIN orgs o ON o.id = ri.org_id LEFT JOIN contacts c ON c.id = d.contact_id
	LEFT JOIN confirmations cf ON cf.decision_id = ri.decision_id AND ri.confirm`

func (r requestRow) request() Request {
	var link *domain.ConfirmLink
	if r.LinkID.Valid {
		link = &domain.ConfirmLink{ID: r.LinkID.Int64, DecisionID: r.DecisionID, CreatedAt: timeOf(r.LinkSentAt),
			ExpiresAt: timeOf(r.LinkExpiresAt), UsedAt: timeOf(r.LinkUsedAt)}
	}
	return Request{
		Item: domain.Item{ID: r.ID, OrgID: r.OrgID.Int64, UserID: r.UserID.Int64, Username: r.Username,
			State: domain.ItemState(r.State), Reason: domain.QueueReason(r.Reason), UnverifiedSender: r.UnverifiedSender,
			Confirmable: r.Confirm, DecidedBy: r.DecidedBy, Note: r.Note, DecidedAt: timeOf(r.DecidedAt)},
		Link:    link,
		OrgSlug: r.OrgSlug.String, DecisionID: r.DecisionID, Mailbox: r.Mailbox, Sender: r.Sender,
		Authenticated: r.Authenticated, AuthReason: r.AuthReason, Subject: r.Subject, MessageID: r.MessageID,
		ReceivedAt: timeOf(r.ReceivedAt), CreatedAt: r.CreatedAt.UTC(), ContactEmail: r.ContactEmail.String,
	}
}

// RequestFilter narrows ListRequests. Zero fields match everything.
type RequestFilter struct {
	// OrgSlug limits the list to one org's requests.
	OrgSlug string
	State   domain.ItemState
	// AfterID pages forwards: only requests with a larger id.
	AfterID int64
	Limit   int
}

// ListRequests returns request items, oldest first.
func (s *Store) ListRequests(ctx context.Context, f RequestFilter) ([]Request, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	q := selectRequests + ` WHERE ri.id > ?`
	args := []any{f.AfterID}
	if f.OrgSlug != "" {
		q += ` AND o.slug = ?`
		args = append(args, f.OrgSlug)
	}
	if f.State != "" {
		q += ` AND ri.state = ?`
		args = append(args, string(f.State))
	}
	q += ` ORDER BY ri.id LIMIT ?`
	args = append(args, limitOrDefault(f.Limit))
	var rows []requestRow
	if err := s.db.SelectContext(ctx, &rows, s.db.Rebind(q), args...); err != nil {
		return nil, fmt.Errorf("store: list requests: %w", err)
	}
	out := make([]Request, len(rows))
	for i, r := range rows {
		out[i] = r.request()
	}
	return out, nil
}

// Request returns one request item. With a non-empty orgSlug, an item of
// another org is not found, exactly like a missing one.
func (s *Store) Request(ctx context.Context, id int64, orgSlug string) (Request, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	return s.request(ctx, s.db, id, orgSlug)
}

func (s *Store) request(ctx context.Context, q queryer, id int64, orgSlug string) (Request, error) {
	var r requestRow
	err := sqlx.GetContext(ctx, q, &r, q.Rebind(selectRequests+` WHERE ri.id = ?`), id)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && orgSlug != "" && r.OrgSlug.String != orgSlug) {
		return Request{}, domain.Errorf(domain.CodeNotFound, "request %d not found", id)
	}
	if err != nil {
		return Request{}, fmt.Errorf("store: request %d: %w", id, err)
	}
	return r.request(), nil
}

// ApproveRequest approves a pending request (domain.Item.Resolve): its
// user is unlocked if still locked, the item marked applied with the
// reviewer's note (may be empty), the audit entries written and the
// "approved" answer queued, in one transaction. orgSlug scopes the lookup
// as in Request. A request no longer pending is a conflict, so approving
// twice unlocks once.
func (s *Store) ApproveRequest(ctx context.Context, id int64, orgSlug, note, actor, source string, render FollowUpRenderer) (Request, error) {
	return s.resolve(ctx, id, orgSlug, domain.ResolveApprove, note, actor, source, render)
}

// RejectRequest declines a pending request with the reviewer's note
// (required), writes the audit entry and queues the "declined" answer, in
// one transaction. The user stays locked.
func (s *Store) RejectRequest(ctx context.Context, id int64, orgSlug, note, actor, source string, render FollowUpRenderer) (Request, error) {
	return s.resolve(ctx, id, orgSlug, domain.ResolveDecline, note, actor, source, render)
}

func (s *Store) resolve(ctx context.Context, id int64, orgSlug string, res domain.Resolution, note, actor, source string, render FollowUpRenderer) (Request, error) {
	var out Request
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := s.lockItems(ctx, tx, []int64{id}); err != nil {
			return err
		}
		r, err := s.request(ctx, tx, id, orgSlug)
		if err != nil {
			return err
		}
		if res == domain.ResolveApprove {
			if dir, err := s.itemDirectory(ctx, tx, r); err != nil {
				return err
			} else if dir != "" {
				out = r
				return s.approveRemote(ctx, tx, &out, dir, note, actor, source)
			}
		}
		u, err := s.itemUser(ctx, tx, r, s.forUpdate())
		if err != nil {
			return err
		}
		now := s.now()
		lifted, err := r.Item.Resolve(res, u, actor, note, now)
		if err != nil {
			return err
		}
		if lifted != "" {
			if err := s.saveUser(ctx, tx, *u); err != nil {
				return err
			}
			if err := s.audit(ctx, tx, domain.AuditEntry{OrgID: r.OrgID, Actor: actor, Action: domain.ActionUnlock,
				Target: u.Username, Source: source, Note: fmt.Sprintf("approved request %d, lock reason %s", r.ID, lifted)}); err != nil {
				return err
			}
		}
		if err := s.setItemState(ctx, tx, []int64{id}, r.Item); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, domain.AuditEntry{OrgID: r.OrgID, Actor: actor, Action: res.Action(), Target: r.Username,
			Source: source, Note: joinNote(fmt.Sprintf("request %d", id), r.Note)}); err != nil {
			return err
		}
		out = r
		return s.queueFollowUp(ctx, tx, render, r, res, r.Note, r.Username)
	})
	return out, err
}

// itemUser returns the user of a request item as it stands, or nil when it
// no longer exists (or the item never had one); suffix may lock the row.
func (s *Store) itemUser(ctx context.Context, tx *sqlx.Tx, r Request, suffix string) (*domain.User, error) {
	if r.UserID == 0 {
		return nil, nil
	}
	u, err := s.userByName(ctx, tx, r.OrgID, r.Username, suffix)
	if errors.Is(err, domain.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &u, nil
}

// lockItems takes the row locks of request items (PostgreSQL; SQLite's
// transaction already holds the write lock).
func (s *Store) lockItems(ctx context.Context, tx *sqlx.Tx, ids []int64) error {
	if s.dialect != Postgres {
		return nil
	}
	q, args, err := sqlx.In(`SELECT id FROM request_items WHERE id IN (?) ORDER BY id FOR UPDATE`, ids)
	if err != nil {
		return fmt.Errorf("store: lock requests: %w", err)
	}
	var got []int64
	if err := tx.SelectContext(ctx, &got, tx.Rebind(q), args...); err != nil {
		return fmt.Errorf("store: lock requests: %w", err)
	}
	return nil
}

// setItemState saves, on the items of ids still pending, the resolution
// Item.Resolve gave it: its state, decider, note and time.
func (s *Store) setItemState(ctx context.Context, tx *sqlx.Tx, ids []int64, it domain.Item) error {
	q, args, err := sqlx.In(`UPDATE request_items SET state = ?, decided_by = ?, note = ?, decided_at = ?
		WHERE id IN (?) AND state = 'pending'`, string(it.State), it.DecidedBy, it.Note, it.DecidedAt, ids)
	if err != nil {
		return fmt.Errorf("store: update requests: %w", err)
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind(q), args...); err != nil {
		return fmt.Errorf("store: update requests: %w", err)
	}
	return nil
}

// queueFollowUp renders and queues the answer for items of one request
// message; nothing when there is no renderer or no contact on record.
func (s *Store) queueFollowUp(ctx context.Context, tx *sqlx.Tx, render FollowUpRenderer, r Request, res domain.Resolution, note string, usernames ...string) error {
	kind := string(res)
	if render == nil || r.ContactEmail == "" {
		return nil
	}
	m, err := render(FollowUp{Kind: kind, DecisionID: r.DecisionID, To: r.ContactEmail, Subject: r.Subject,
		MessageID: r.MessageID, Usernames: usernames, Note: note})
	if err != nil {
		return fmt.Errorf("store: render %s answer to request %d: %w", kind, r.ID, err)
	}
	m.DecisionID = r.DecisionID
	return s.queueMail(ctx, tx, m)
}

func joinNote(a, b string) string {
	if b == "" {
		return a
	}
	return a + ": " + b
}
