package store

import (
	"fmt"
	"os"
	"strings"
)

// LockFile makes this process the only one serving an SQLite database: it
// takes an exclusive lock on the file "<database>.lock" beside it, held
// until Close. The kernel drops the lock when the process dies, however it
// dies, so the next holder knows that every outbox claim it finds belongs
// to a dead process (ReleaseClaims). It fails at once when another process
// holds the lock. PostgreSQL stores and in-memory databases need no lock.
func (s *Store) LockFile() error {
	if s.dialect != SQLite || s.path == "" {
		return nil
	}
	name := s.path + ".lock"
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("store: lock file: %w", err)
	}
	if err := lockExclusive(f); err != nil {
		f.Close()
		return fmt.Errorf("store: %s is in use by another unlockd process (its lock file %s is held): %w", s.path, name, err)
	}
	s.lockFile = f
	return nil
}

// sqlitePath returns the database file a SQLite DSN names, or "" for an
// in-memory database.
func sqlitePath(dsn string) string {
	path, query, _ := strings.Cut(strings.TrimPrefix(dsn, "file:"), "?")
	if path == "" || path == ":memory:" || strings.Contains(query, "mode=memory") {
		return ""
	}
	return path
}
