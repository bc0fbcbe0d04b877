package store_test

import (
	"testing"

	"github.com/unlockd/unlockd/internal/password"
)

// mustHash hashes with cheap parameters; production uses password.Default.
func mustHash(t *testing.T, pw string) string {
	t.Helper()
	h, err := password.Hash(pw, password.Params{Time: 1, Memory: 1024, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	return h
}
