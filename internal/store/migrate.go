package store

import (
	"context"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/unlockd/unlockd/migrations"
)

// Migrate applies every pending migration and returns how many it applied.
// On PostgreSQL a session lock keeps concurrent instances from migrating at
// once.
func (s *Store) Migrate(ctx context.Context) (int, error) {
	fsys, err := fs.Sub(migrations.FS, s.dialect)
	if err != nil {
		return 0, fmt.Errorf("store: migrations: %w", err)
	}
	var opts []goose.ProviderOption
	dialect := goose.DialectSQLite3
	if s.dialect == Postgres {
		dialect = goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return 0, fmt.Errorf("store: migration lock: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(dialect, s.db.DB, fsys, opts...)
	if err != nil {
		return 0, fmt.Errorf("store: migrations: %w", err)
	}
	// A migration's statement may run long without a word from the server.
	s.migrating.Store(true)
	defer s.migrating.Store(false)
	results, err := p.Up(ctx)
	if err != nil {
		return len(results), fmt.Errorf("store: migrate: %w", err)
	}
	return len(results), nil
}
