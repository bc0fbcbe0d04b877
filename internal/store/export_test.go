package store

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"
)

// SetAfterCallRead makes f run between the read and the write of an API
// call's change on PostgreSQL (changeUserAsRead), until the test ends.
func SetAfterCallRead(t interface{ Cleanup(func()) }, f func()) {
	prev := afterCallRead
	afterCallRead = f
	t.Cleanup(func() { afterCallRead = prev })
}

// InsertRows inserts rows into table in a transaction of its own, as the
// batch writes do (insertRows).
func InsertRows(ctx context.Context, s *Store, table string, columns []string, rows [][]any) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error { return insertRows(ctx, tx, table, columns, rows, "", nil) })
}

// AuditRowsOf returns the actor, target, note and time of every audit
// entry of action, in id order, as the database holds them.
func AuditRowsOf(ctx context.Context, s *Store, action string) ([][4]string, error) {
	var rows []struct {
		Actor, Target, Note string
		At                  time.Time
	}
	if err := s.db.SelectContext(ctx, &rows, s.db.Rebind(`SELECT actor, target, note, at FROM audit WHERE action = ? ORDER BY id`), action); err != nil {
		return nil, err
	}
	out := make([][4]string, len(rows))
	for i, r := range rows {
		out[i] = [4]string{r.Actor, r.Target, r.Note, r.At.UTC().Format(time.RFC3339Nano)}
	}
	return out, nil
}
