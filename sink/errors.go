package sink

import (
	"errors"
	"fmt"

	"github.com/rivulet-cdc/rivulet/schema"
)

// Sentinel errors callers can branch on with errors.Is.
var (
	// ErrConfig marks an invalid or unsupported configuration.
	ErrConfig = errors.New("invalid sink configuration")
	// ErrEncode marks an event that cannot be encoded (a value that does not
	// fit its column, a row that does not match its table).
	ErrEncode = errors.New("cannot encode change event")
	// ErrFailed is returned by Send after an earlier record failed: the sink
	// stops accepting events so that nothing is written past a lost record.
	ErrFailed = errors.New("sink failed earlier")
	// ErrClosed is returned by Send after Close.
	ErrClosed = errors.New("sink closed")
)

// EncodeError says which table and column could not be encoded.
type EncodeError struct {
	Table  string // db.table
	Column string // empty when the problem is the row as a whole
	Err    error
}

func (e *EncodeError) Error() string {
	if e.Column == "" {
		return fmt.Sprintf("encode %s: %v", e.Table, e.Err)
	}
	return fmt.Sprintf("encode %s column %s: %v", e.Table, e.Column, e.Err)
}

// Unwrap returns the cause (which wraps ErrEncode).
func (e *EncodeError) Unwrap() error { return e.Err }

// ProduceError is a record Kafka did not accept: a final (non-retryable)
// broker error, or the client being closed before the acknowledgement.
type ProduceError struct {
	Topic     string
	Partition int32 // -1 when the record never reached a partition
	Err       error
	// Hint tells the user what to change, when the cause is known.
	Hint string
}

func (e *ProduceError) Error() string {
	msg := fmt.Sprintf("produce to topic %s", e.Topic)
	if e.Partition >= 0 {
		msg += fmt.Sprintf(" partition %d", e.Partition)
	}
	msg += ": " + e.Err.Error()
	if e.Hint != "" {
		msg += " (" + e.Hint + ")"
	}
	return msg
}

// Unwrap returns the client or broker error (kerr codes compare with errors.Is).
func (e *ProduceError) Unwrap() error { return e.Err }

// fillTable names t in err when err is an *EncodeError without a table.
func fillTable(err error, t *schema.Table) error {
	if ee, ok := err.(*EncodeError); ok && ee.Table == "" {
		ee.Table = t.DB + "." + t.Name
	}
	return err
}
