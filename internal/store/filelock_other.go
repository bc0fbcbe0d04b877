//go:build !unix

package store

import "os"

// lockExclusive is a no-op where flock does not exist: run one instance.
func lockExclusive(*os.File) error { return nil }
