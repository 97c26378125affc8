package snapshot

import "errors"

// Sentinel errors.
var (
	// ErrConfig is an invalid Config.
	ErrConfig = errors.New("invalid snapshot configuration")
	// ErrProgress is a stored progress that cannot be read.
	ErrProgress = errors.New("invalid snapshot progress")
	// ErrValue is a column value the snapshot cannot convert.
	ErrValue = errors.New("unconvertible snapshot value")
)
