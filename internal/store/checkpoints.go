package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Checkpoint returns the highest UID decided in mailbox under uidvalidity,
// or 0 when none was.
func (s *Store) Checkpoint(ctx context.Context, mailbox string, uidvalidity uint32) (uint32, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	var uid int64
	err := s.db.GetContext(ctx, &uid, s.db.Rebind(`SELECT last_uid FROM mailbox_checkpoints WHERE mailbox = ? AND uidvalidity = ?`),
		mailbox, int64(uidvalidity))
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: checkpoint %s: %w", mailbox, err)
	}
	return uint32(uid), nil
}

const upsertCheckpoint = `INSERT INTO mailbox_checkpoints (mailbox, uidvalidity, last_uid, updated_at) VALUES (?, ?, ?, ?)
	ON CONFLICT (mailbox, uidvalidity) DO UPDATE SET last_uid = excluded.last_uid, updated_at = excluded.updated_at
	WHERE mailbox_checkpoints.last_uid < excluded.last_uid`

// SetCheckpoint records that every UID up to uid has been decided. It never
// moves a checkpoint backwards.
func (s *Store) SetCheckpoint(ctx context.Context, mailbox string, uidvalidity, uid uint32) error {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	if _, err := s.db.ExecContext(ctx, s.db.Rebind(upsertCheckpoint), mailbox, int64(uidvalidity), int64(uid), s.now()); err != nil {
		return fmt.Errorf("store: set checkpoint %s: %w", mailbox, err)
	}
	return nil
}
