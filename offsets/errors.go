package offsets

import "errors"

// ErrCorrupt matches an offset value or offsets file that cannot be read
// back: not JSON, not an object, a mandatory key missing, a number out of
// range. Errors from FileStore name the file and the fix.
var ErrCorrupt = errors.New("corrupt offsets")

// ErrInvalidPosition matches a Position that cannot be stored (no binlog
// file: Debezium requires "file" on load, so it could not be read back).
var ErrInvalidPosition = errors.New("invalid position")
