package offsets

import "errors"

// ErrCorrupt matches an offset value or offsets file that cannot be read
// back: not JSON, not an object, a mandatory key missing, a number out of
// range. Errors from FileStore name the file and the fix.
var ErrCorrupt = errors.New("corrupt offsets")

// ErrInvalidPosition matches a Position that cannot be stored (no binlog
// file: Debezium requires "file" on load, so it could not be read back).
var ErrInvalidPosition = errors.New("invalid position")

// ErrLocked matches a Lock refused because another process runs the same
// connector (it holds the file lock or the Kafka lease). The message names
// that process where it is known.
var ErrLocked = errors.New("offsets locked by another process")

// ErrFenced matches a KafkaStore write refused because another process
// initialized the connector's transactional producer after this one: that
// process is now the writer, and this one must stop.
var ErrFenced = errors.New("offsets writer fenced")
