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
	p, err := s.migrations()
	if err != nil {
		return 0, err
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

// migrations returns the goose provider of the dialect's embedded
// migrations.
func (s *Store) migrations() (*goose.Provider, error) {
	fsys, err := fs.Sub(migrations.FS, s.dialect)
	if err != nil {
		return nil, fmt.Errorf("store: migrations: %w", err)
	}
	var opts []goose.ProviderOption
	dialect := goose.DialectSQLite3
	if s.dialect == Postgres {
		dialect = goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, fmt.Errorf("store: migration lock: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(dialect, s.db.DB, fsys, opts...)
	if err != nil {
		return nil, fmt.Errorf("store: migrations: %w", err)
	}
	return p, nil
}

// PendingMigrations returns the database's migration version and how
// many embedded migrations it lacks, without applying any or waiting for
// the migration lock. (goose creates its empty version table on a database
// that has none.)
func (s *Store) PendingMigrations(ctx context.Context) (version int64, pending int, err error) {
	p, err := s.migrations()
	if err != nil {
		return 0, 0, err
	}
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	version, _, err = p.GetVersions(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("store: migration version: %w", err)
	}
	for _, src := range p.ListSources() {
		if src.Version > version {
			pending++
		}
	}
	return version, pending, nil
}
