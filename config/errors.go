package config

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalid matches every configuration problem returned by Load, Parse,
// FromMap and Validate, so that a command can exit with a usage status.
var ErrInvalid = errors.New("invalid configuration")

// ErrUnsupported matches values Rivulet understands but does not implement
// yet (an Avro converter, transforms, ...). It also matches ErrInvalid.
var ErrUnsupported = fmt.Errorf("%w: not supported yet", ErrInvalid)

// FieldError is one problem with one configuration key.
type FieldError struct {
	Key   string // the Debezium/Connect key, e.g. "database.port"
	Value string // the offending value as written (secrets as "****"); "" if unset
	// Problem and Fix are lowercase phrases: Problem follows the quoted
	// value ("is not a port number"), Fix says what to set instead.
	Problem string
	Fix     string
	Err     error // ErrInvalid or ErrUnsupported
}

// Error renders `key: "value" problem; fix`.
func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString(e.Key)
	b.WriteString(": ")
	if e.Value != "" {
		fmt.Fprintf(&b, "%q ", e.Value)
	}
	b.WriteString(e.Problem)
	if e.Fix != "" {
		b.WriteString("; ")
		b.WriteString(e.Fix)
	}
	return b.String()
}

// Unwrap returns ErrInvalid or ErrUnsupported.
func (e *FieldError) Unwrap() error {
	if e.Err == nil {
		return ErrInvalid
	}
	return e.Err
}

func invalid(key, value, problem, fix string) *FieldError {
	return &FieldError{Key: key, Value: value, Problem: problem, Fix: fix, Err: ErrInvalid}
}

func unsupported(key, value, fix string) *FieldError {
	return &FieldError{Key: key, Value: value, Problem: "is not supported yet", Fix: fix, Err: ErrUnsupported}
}

// Warning is a configuration finding that does not stop Rivulet: keys with
// no effect, deprecated names, a generated server id. The caller logs it.
type Warning struct {
	Keys    []string // the keys concerned, sorted
	Message string   // what was found and what to do, one sentence
}

// String returns the message.
func (w Warning) String() string { return w.Message }
