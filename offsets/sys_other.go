//go:build !unix

package offsets

// lockFile is a no-op where flock is unavailable: Save is still atomic,
// but processes sharing one file may lose each other's updates.
func lockFile(string) (func(), error) { return func() {}, nil }

// syncDir is a no-op where directories cannot be opened for sync.
func syncDir(string) error { return nil }
