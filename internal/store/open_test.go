package store_test

import (
	"path/filepath"
	"strings"
	"testing"

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
