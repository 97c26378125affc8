//go:build !unix

package offsets

import (
	"errors"
	"os"
)

// lockFile is a no-op where flock is unavailable: Save is still atomic,
// but processes sharing one file may lose each other's updates.
func lockFile(string) (func(), error) { return func() {}, nil }

// syncDir is a no-op where directories cannot be opened for sync.
func syncDir(string) error { return nil }

var errWouldBlock = errors.New("lock held by another process")

// tryLockFile only opens path where flock is unavailable: Lock cannot
// exclude a second process there.
func tryLockFile(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
}
