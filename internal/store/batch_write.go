package store

import (
	"database/sql"
	"fmt"
	"slices"

	"github.com/jmoiron/sqlx"

	"github.com/unlockd/unlockd/internal/domain"
)

var (
	decisionColumns = []string{"mailbox", "message_key", "message_id", "uidvalidity", "uid", "sender", "subject",
		"verdict", "reason", "authenticated", "auth_reason", "contact_id", "received_at", "decided_at"}
	itemColumns = []string{"decision_id", "org_id", "user_id", "username", "state", "reason", "unverified_sender",
		"decided_by", "decided_at", "confirm"}
	auditColumns = []string{"org_id", "actor", "action", "target", "source", "note", "at"}
)

// remoteItemColumns are the columns of request_items that only items of
// remote directories fill (migration 00014), in remoteItemArgs order.
var remoteItemColumns = []string{"note", "directory", "lock_reason", "lock_at", "lock_expires_at", "lock_mark",
	"apply_for", "apply_since", "apply_due_at"}

// remoteItemArgs are it's values of remoteItemColumns: for an item of a
// remote directory, the directory and the lock to lift; an applying one is
// due for the apply worker now.
func (b *batch) remoteItemArgs(it domain.Item) []any {
	args := []any{it.Note, it.Directory, "", sql.NullTime{}, sql.NullTime{}, "", "", sql.NullTime{}, sql.NullTime{}}
	if l := it.Lock; l != nil {
		args[2], args[3], args[4], args[5] = string(l.Reason), nullTime(l.At), nullTime(l.Expires), l.Mark
	}
	if it.State == domain.ItemApplying {
		args[6], args[7], args[8] = ApplyForDecision, b.now, b.now
	}
	return args
}

// unlockUsers is what domain.User.Unlock leaves in a user's row.
const unlockUsers = `UPDATE users SET lock_reason = NULL, locked_at = NULL, locked_by = '', lock_note = '',
	lock_expires_at = NULL, failed_logins = 0, last_failed_at = NULL, updated_at = ? WHERE id IN (?)`

// write stores what the batch decided: decisions (whose ids the rest
// need), items, unlocks, audit entries, signatures, sender notices, and,
// when there is a renderer to send them, confirmation links and the mail
// render returns.
func (b *batch) write(w *writes, render Renderer) error {
	if len(w.decisions) == 0 {
		return nil
	}
	if err := b.insertDecisions(w); err != nil {
		return err
	}
	var items, sigs [][]any
	remote := false // any item applying or explained: write the columns of remote directories too
	for _, p := range w.decisions {
		x, id := b.in[p.index], b.out[p.index].ID
		for _, it := range p.decision.Items {
			var at sql.NullTime
			if it.State != domain.ItemPending {
				at = nullTime(it.DecidedAt)
			}
			row := []any{id, nullID(it.OrgID), nullID(it.UserID), it.Username, string(it.State),
				string(it.Reason), it.UnverifiedSender, it.DecidedBy, at, it.Confirmable}
			items = append(items, append(row, b.remoteItemArgs(it)...))
			remote = remote || it.Directory != "" || it.Note != ""
		}
		for _, k := range slices.Compact(slices.Sorted(slices.Values(x.Message.SignatureKeys))) {
			sigs = append(sigs, []any{k, id})
		}
	}
	columns := itemColumns
	if remote {
		columns = append(slices.Clone(itemColumns), remoteItemColumns...)
	} else {
		for i := range items {
			items[i] = items[i][:len(itemColumns)]
		}
	}
	if err := insertRows(b.ctx, b.tx, "request_items", columns, items, "", nil); err != nil {
		return err
	}
	if err := insertRows(b.ctx, b.tx, "signature_keys", []string{"sig_key", "decision_id"}, sigs, "", nil); err != nil {
		return err
	}
	if len(w.unlocked) > 0 {
		q, args, err := sqlx.In(unlockUsers, b.now, w.unlocked)
		if err != nil {
			return fmt.Errorf("store: unlock users: %w", err)
		}
		if _, err := b.tx.ExecContext(b.ctx, b.tx.Rebind(q), args...); err != nil {
			return fmt.Errorf("store: unlock users: %w", err)
		}
	}
	audit := make([][]any, len(w.audit))
	for i, e := range w.audit {
		audit[i] = []any{nullID(e.OrgID), e.Actor, string(e.Action), e.Target, text(e.Source), e.Note, b.now}
	}
	if err := insertRows(b.ctx, b.tx, "audit", auditColumns, audit, "", nil); err != nil {
		return err
	}
	if err := b.writeNotices(w); err != nil {
		return err
	}
	if render == nil {
		return nil
	}
	links, err := b.writeConfirmations(w) // batch_confirm.go
	if err != nil {
		return err
	}
	var mails []domain.Mail
	for _, p := range w.decisions {
		x, out := b.in[p.index], b.out[p.index]
		d := out.Decision
		if d.Applying() {
			d.ReplyTo = "" // written with the directory's last answer (SPEC §5); notifications go now
		}
		ms, err := render(DecisionMail{DecisionID: out.ID, Message: x.Message, Facts: x.Facts, Decision: d,
			Confirm: links[p.index]})
		if err != nil {
			return fmt.Errorf("store: render mail for decision %d: %w", out.ID, err)
		}
		for _, m := range ms {
			m.DecisionID = out.ID
			mails = append(mails, m)
		}
	}
	return b.s.queueMails(b.ctx, b.tx, mails)
}

// insertDecisions writes the decision rows and fills in their ids.
func (b *batch) insertDecisions(w *writes) error {
	rows := make([][]any, len(w.decisions))
	at := map[string]int{} // mailbox + "\x00" + key → input index
	for i, p := range w.decisions {
		m, f, d := b.in[p.index].Message, b.in[p.index].Facts, p.decision
		rows[i] = []any{m.Mailbox, text(m.Key), text(m.MessageID), int64(m.UIDValidity), int64(m.UID), text(f.Sender),
			text(m.Subject), string(d.Verdict), text(d.Reason), d.Authenticated, text(d.AuthReason), nullID(p.contactID),
			nullTime(m.ReceivedAt), b.now}
		at[m.Mailbox+"\x00"+text(m.Key)] = p.index
	}
	return insertRows(b.ctx, b.tx, "decisions", decisionColumns, rows, "RETURNING id, mailbox, message_key", func(r *sqlx.Rows) error {
		var id int64
		var mailbox, key string
		if err := r.Scan(&id, &mailbox, &key); err != nil {
			return err
		}
		b.out[at[mailbox+"\x00"+key]].ID = id
		return nil
	})
}

// writeNotices records, per sender, that staff and admins were told in
// this batch (through the last decision that told them), or that
// decisions wait for the next combined notice.
func (b *batch) writeNotices(w *writes) error {
	through := map[*senderState]int64{}
	for _, p := range w.decisions {
		d := p.decision
		if p.sender != nil && !d.Authenticated && !d.Digest && (d.NotifyStaff || len(d.NotifyAdmins) > 0) {
			through[p.sender] = b.out[p.index].ID
		}
	}
	for _, sender := range sortedKeys(b.senders) {
		st := b.senders[sender]
		if id, ok := through[st]; ok {
			if _, err := b.tx.ExecContext(b.ctx, b.tx.Rebind(`UPDATE sender_notices SET notified_at = ?, noticed_through = ? WHERE sender = ?`),
				b.now, id, sender); err != nil {
				return fmt.Errorf("store: note notices for %s: %w", sender, err)
			}
		}
		if st.pending {
			if _, err := b.tx.ExecContext(b.ctx, b.tx.Rebind(`UPDATE sender_notices SET pending_since = coalesce(pending_since, ?) WHERE sender = ?`),
				b.now, sender); err != nil {
				return fmt.Errorf("store: note notices for %s: %w", sender, err)
			}
		}
	}
	return nil
}
