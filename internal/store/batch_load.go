package store

import (
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/unlockd/unlockd/internal/domain"
)

// markDuplicates finds the inputs decided before: their key in their
// mailbox, or a signature already decided, in the store or earlier in the
// batch.
func (b *batch) markDuplicates() error {
	byMailbox := map[string][]any{}
	var sigs []any
	for _, x := range b.in {
		byMailbox[x.Message.Mailbox] = append(byMailbox[x.Message.Mailbox], text(x.Message.Key))
		for _, k := range x.Message.SignatureKeys {
			sigs = append(sigs, k)
		}
	}
	type keyVerdict struct {
		Key     string `db:"k"`
		Verdict string `db:"verdict"`
	}
	seenKeys := map[string]domain.Verdict{} // mailbox + "\x00" + key
	for _, mailbox := range sortedKeys(byMailbox) {
		var rows []keyVerdict
		if err := selectIn(b.ctx, b.tx, &rows, `SELECT message_key AS k, verdict FROM decisions WHERE mailbox = ? AND message_key IN (?)`,
			[]any{mailbox}, byMailbox[mailbox]); err != nil {
			return fmt.Errorf("store: duplicate check: %w", err)
		}
		for _, r := range rows {
			seenKeys[mailbox+"\x00"+r.Key] = domain.Verdict(r.Verdict)
		}
	}
	seenSigs := map[string]domain.Verdict{}
	if len(sigs) > 0 {
		var rows []keyVerdict
		if err := selectIn(b.ctx, b.tx, &rows, `SELECT k.sig_key AS k, d.verdict FROM signature_keys k
			JOIN decisions d ON d.id = k.decision_id WHERE k.sig_key IN (?)`, nil, sigs); err != nil {
			return fmt.Errorf("store: replay check: %w", err)
		}
		for _, r := range rows {
			seenSigs[r.Key] = domain.Verdict(r.Verdict)
		}
	}
	// Earlier inputs of the batch count as decided: a later copy takes the
	// earlier input's verdict once it is decided (dupOf).
	firstKey, firstSig := map[string]int{}, map[string]int{}
	b.dupOf = make([]int, len(b.in))
	for i, x := range b.in {
		b.dupOf[i] = -1
		key := x.Message.Mailbox + "\x00" + text(x.Message.Key)
		if v, ok := seenKeys[key]; ok {
			b.out[i] = Outcome{Duplicate: true, Verdict: v}
			continue
		}
		for _, k := range x.Message.SignatureKeys {
			if v, ok := seenSigs[k]; ok {
				b.out[i] = Outcome{Duplicate: true, Verdict: v}
			}
		}
		if b.out[i].Duplicate {
			continue
		}
		if j, ok := firstKey[key]; ok {
			b.out[i].Duplicate, b.dupOf[i] = true, j
			continue
		}
		for _, k := range x.Message.SignatureKeys {
			if j, ok := firstSig[k]; ok && !b.out[i].Duplicate {
				b.out[i].Duplicate, b.dupOf[i] = true, j
			}
		}
		if b.out[i].Duplicate {
			continue
		}
		firstKey[key] = i
		for _, k := range x.Message.SignatureKeys {
			firstSig[k] = i
		}
	}
	return nil
}

// load reads, under row locks taken in a fixed order, the state every
// input needs: sender histories (sender_notices rows by address), the
// contacts of the senders, their orgs, the requested users (by id) and the
// hourly counts.
func (b *batch) load() error {
	b.senders, b.contacts = map[string]*senderState{}, map[string][]contactRow{}
	b.orgs, b.users, b.unlocks = map[int64]domain.Org{}, map[userKey]*domain.User{}, map[contactKey]int{}
	names := map[string]bool{}
	for i, x := range b.in {
		if b.needsState(i) {
			b.senders[text(x.Facts.Sender)] = &senderState{}
			for _, n := range x.Facts.Requested() {
				names[n] = true
			}
		}
	}
	if len(b.senders) == 0 {
		return nil
	}
	senders := anys(sortedKeys(b.senders))
	if err := b.loadSenders(senders); err != nil {
		return err
	}
	var contacts []contactRow
	if err := selectIn(b.ctx, b.tx, &contacts, `SELECT id, org_id, email, name FROM contacts WHERE lower(email) IN (?) ORDER BY id`+b.s.forUpdate(),
		nil, senders); err != nil {
		return fmt.Errorf("store: contacts of the batch: %w", err)
	}
	orgIDs := map[int64]bool{}
	for _, c := range contacts {
		// Addresses on record are normalised (internal/address), so the
		// exact comparison decides; lower() only lets the index serve and
		// cannot fold a look-alike into a match.
		if _, ok := b.senders[c.Email]; ok {
			b.contacts[c.Email] = append(b.contacts[c.Email], c)
			orgIDs[c.OrgID] = true
		}
	}
	if len(orgIDs) == 0 {
		return b.loadCounts()
	}
	orgs := anys(sortedKeys(orgIDs))
	var orgRows []orgRow
	if err := selectIn(b.ctx, b.tx, &orgRows, `SELECT `+orgColumns+` FROM orgs WHERE id IN (?)`, nil, orgs); err != nil {
		return fmt.Errorf("store: orgs of the batch: %w", err)
	}
	for _, o := range orgRows {
		b.orgs[o.ID] = o.org()
	}
	var local []any // the orgs on builtin: a remote org's accounts come with the input (Input.Remote)
	for _, id := range sortedKeys(orgIDs) {
		if !b.orgs[id].Remote() {
			local = append(local, id)
		}
	}
	if len(names) > 0 && len(local) > 0 {
		if err := b.loadUsers(local, anys(sortedKeys(names))); err != nil {
			return err
		}
	}
	return b.loadCounts()
}

// loadSenders locks the senders' notice rows, creating the missing ones.
func (b *batch) loadSenders(senders []any) error {
	rows := make([][]any, len(senders))
	for i, s := range senders {
		rows[i] = []any{s}
	}
	if err := insertRows(b.ctx, b.tx, "sender_notices", []string{"sender"}, rows, "ON CONFLICT (sender) DO NOTHING", nil); err != nil {
		return err
	}
	var notices []struct {
		Sender   string       `db:"sender"`
		Notified sql.NullTime `db:"notified_at"`
	}
	if err := selectIn(b.ctx, b.tx, &notices, `SELECT sender, notified_at FROM sender_notices WHERE sender IN (?) ORDER BY sender`+b.s.forUpdate(),
		nil, senders); err != nil {
		return fmt.Errorf("store: lock senders: %w", err)
	}
	for _, n := range notices {
		b.senders[n.Sender].history.NotifiedAt = timeOf(n.Notified)
	}
	return nil
}

// loadCounts counts, for each sender, the unverified requests (or, for a
// stranger, the "not authorised" answers) of the last hour, and for each
// contact its unlocks by email, each only up to the largest limit that can
// apply: beyond it the number decides nothing, and a flood of thousands
// must not cost thousands of rows per message. A limit of 0 needs no count.
func (b *batch) loadCounts() error {
	since := b.now.Add(-time.Hour)
	for _, sender := range sortedKeys(b.senders) {
		st := b.senders[sender]
		q, limit := `SELECT count(*) FROM (SELECT 1 FROM decisions WHERE sender = ? AND NOT authenticated
			AND verdict IN ('accepted', 'no_username') AND decided_at > ? LIMIT ?) x`, 0
		counter := &st.history.Unverified
		for _, c := range b.contacts[sender] {
			limit = max(limit, b.orgs[c.OrgID].Policy.MaxUnverifiedPerHour)
		}
		if len(b.contacts[sender]) == 0 {
			q, limit = `SELECT count(*) FROM (SELECT 1 FROM decisions WHERE sender = ? AND authenticated
				AND verdict = 'rejected' AND decided_at > ? LIMIT ?) x`, domain.MaxNotAuthorisedPerHour
			counter = &st.history.NotAuthorised
		}
		if limit == 0 {
			continue
		}
		if err := b.tx.GetContext(b.ctx, counter, b.tx.Rebind(q), sender, since, limit); err != nil {
			return fmt.Errorf("store: recent requests of %s: %w", sender, err)
		}
	}
	for _, sender := range sortedKeys(b.contacts) {
		for _, c := range b.contacts[sender] {
			limit := b.orgs[c.OrgID].Policy.MaxRequestsPerHour
			if limit == 0 {
				continue
			}
			n, err := recentByEmail(b.ctx, b.tx, b.orgs[c.OrgID], c.Email, since, limit) // confirm.go
			if err != nil {
				return err
			}
			b.unlocks[contactKey{c.OrgID, c.Email}] = n
		}
	}
	return nil
}

// loadUsers locks the requested users of the batch's orgs, in id order.
// Users of orgs where no sender is a contact are never read.
func (b *batch) loadUsers(orgs, names []any) error {
	var rows []userRow
	// The name list is the one chunked: orgs are few.
	orgList := strings.TrimSuffix(strings.Repeat("?, ", len(orgs)), ", ")
	if err := selectIn(b.ctx, b.tx, &rows, `SELECT `+userColumns+` FROM users WHERE username IN (?) AND org_id IN (`+
		orgList+`) ORDER BY id`+b.s.forUpdate(), nil, names, orgs...); err != nil {
		return fmt.Errorf("store: users of the batch: %w", err)
	}
	for _, r := range rows {
		u := r.user()
		b.users[userKey{u.OrgID, u.Username}] = &u
	}
	return nil
}
