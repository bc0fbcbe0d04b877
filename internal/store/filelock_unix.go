//go:build unix

package store

import (
	"os"
	"syscall"
)

// lockExclusive takes f's exclusive advisory lock without waiting.
func lockExclusive(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
}
