package store_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/store"
)

// TestOpenSQLiteNamesThePath: an SQLite file that cannot be opened (its
// folder is missing) fails with the path in the error.
func TestOpenSQLiteNamesThePath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no", "such", "u.db")
	s, err := store.Open(ctx, store.SQLite, path)
	if err == nil {
		s.Close()
		t.Fatal("Open in a missing folder succeeded")
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name %s", err, path)
	}
}

// TestOpenSQLiteOddPath: a "#", "?" or "%" in a plain path is part of the
// file's name, not of a URI: two such paths are two databases.
func TestOpenSQLiteOddPath(t *testing.T) {
	dir := t.TempDir()
	for i, name := range []string{"a#1.db", "a?x=1.db", "a%20b.db", "a"} {
		s, err := store.Open(ctx, store.SQLite, filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("Open %s: %v", name, err)
		}
		if _, err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		slug := fmt.Sprintf("org%d", i)
		if _, err := s.CreateOrg(ctx, domain.Org{Slug: slug, Name: slug, Policy: domain.DefaultPolicy()}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		orgs, err := s.Orgs(ctx)
		s.Close()
		if err != nil || len(orgs) != 1 {
			t.Errorf("%s holds %+v, %v; want only %s", name, orgs, err, slug)
		}
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("no file %s: %v", name, err)
		}
	}
}
