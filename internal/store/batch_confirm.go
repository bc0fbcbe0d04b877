package store

// confirmColumns are the columns a new confirmation link writes.
var confirmColumns = []string{"decision_id", "token_hash", "created_at", "expires_at"}

// writeConfirmations creates, in the batch's transaction, the one-time
// link of each decision that asks for one (domain.Decision.Confirm) and
// is replied to now (not Applying: confirm_apply.go), and
// returns each link's token by input index, for the reply to carry: the
// store keeps only its hash, so the link exists exactly when the reply
// that carries it is queued. With ConfirmTTL unset, there are none.
func (b *batch) writeConfirmations(w *writes) (map[int]*ConfirmMail, error) {
	ttl := b.s.ConfirmTTL
	if ttl <= 0 {
		return nil, nil
	}
	links := map[int]*ConfirmMail{}
	var rows [][]any
	for _, p := range w.decisions {
		if !p.decision.Confirm || p.decision.Applying() {
			continue // an applying decision's link comes with its reply (replyLink)
		}
		token, hash := newConfirmToken()
		expires := b.now.Add(ttl)
		links[p.index] = &ConfirmMail{Token: token, ExpiresAt: expires, TTL: ttl}
		rows = append(rows, []any{b.out[p.index].ID, hash, b.now, expires})
	}
	if err := insertRows(b.ctx, b.tx, "confirmations", confirmColumns, rows, "", nil); err != nil {
		return nil, err
	}
	return links, nil
}
