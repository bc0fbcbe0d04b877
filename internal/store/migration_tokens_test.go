package store_test

import (
	"database/sql"
	"fmt"
	"io/fs"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/storetest"
	"github.com/unlockd/unlockd/migrations"
)

// TestMigrationRenamesDuplicateTokenNames: a database that has live tokens
// sharing a name in one org, from before names were unique, migrates: the
// oldest keeps the name, the others get " #<id>"; revoked tokens and other
// orgs' tokens keep theirs.
func TestMigrationRenamesDuplicateTokenNames(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			dsn := storetest.DSN(t, e)
			driver, dialect := "sqlite", goose.DialectSQLite3
			if e.Name == store.Postgres {
				driver, dialect = "postgres", goose.DialectPostgres
			}
			db, err := sql.Open(driver, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			fsys, err := fs.Sub(migrations.FS, e.Name)
			if err != nil {
				t.Fatal(err)
			}
			p, err := goose.NewProvider(dialect, db, fsys)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.UpTo(ctx, 9); err != nil {
				t.Fatal(err)
			}
			now := time.Now().UTC()
			exec := func(q string, args ...any) {
				t.Helper()
				if _, err := db.Exec(q, args...); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			insert := `INSERT INTO api_tokens (id, name, role, org_id, token_hash, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?)`
			if e.Name == store.Postgres {
				insert = `INSERT INTO api_tokens (id, name, role, org_id, token_hash, created_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`
			}
			exec(`INSERT INTO orgs (id, slug, name, max_failed_logins, lockout_duration_s, failure_window_s, auto_unlock, max_requests_per_hour, created_at)
				VALUES (1, 'acme', 'Acme', 5, 0, 0, true, 10, '2026-01-01T00:00:00Z'), (2, 'globex', 'Globex', 5, 0, 0, true, 10, '2026-01-01T00:00:00Z')`)
			for _, tok := range []struct {
				id      int64
				name    string
				org     any
				role    string
				revoked any
			}{
				{1, "app", 1, "service", nil},
				{2, "app", 1, "service", nil},
				{3, "app", 1, "admin", nil},
				{4, "app", 1, "service", now}, // revoked: keeps its name
				{5, "app", 2, "service", nil}, // another org
				{6, "ops", nil, "staff", nil},
				{7, "ops", nil, "staff", nil},
			} {
				exec(insert, tok.id, tok.name, tok.role, tok.org, fmt.Sprintf("hash%d", tok.id), now, tok.revoked)
			}
			if _, err := p.Up(ctx); err != nil {
				t.Fatal(err)
			}
			rows, err := db.Query(`SELECT id, name FROM api_tokens ORDER BY id`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			want := map[int64]string{1: "app", 2: "app #2", 3: "app #3", 4: "app", 5: "app", 6: "ops", 7: "ops #7"}
			for rows.Next() {
				var id int64
				var name string
				if err := rows.Scan(&id, &name); err != nil {
					t.Fatal(err)
				}
				if want[id] != name {
					t.Errorf("token %d is named %q, want %q", id, name, want[id])
				}
			}
			if _, err := db.Exec(insert, 8, "app", "service", 1, "hash8", now, nil); err == nil {
				t.Error("a second live token named app in acme was accepted after the migration")
			}
		})
	}
}
