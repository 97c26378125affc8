package config

import (
	"fmt"
	"log/slog"
)

const redacted = "****"

// Secret holds a password. Every way of printing it (fmt verbs including
// %v, %+v, %#v, %s, %q, %x; slog; encoding/json and other text marshalers)
// yields "****"; Reveal returns the value for the one place that needs it.
type Secret struct {
	v string
}

// NewSecret wraps s.
func NewSecret(s string) Secret { return Secret{v: s} }

// Reveal returns the secret value. Call it only where the value is used
// (the database connection), never to print it.
func (s Secret) Reveal() string { return s.v }

// IsZero reports whether no secret is set.
func (s Secret) IsZero() bool { return s.v == "" }

// Equal reports whether s and o hold the same value (used by go-cmp).
func (s Secret) Equal(o Secret) bool { return s.v == o.v }

// String returns "****".
func (Secret) String() string { return redacted }

// GoString returns "****", for %#v.
func (Secret) GoString() string { return redacted }

// Format writes "****" for every verb, so no fmt verb can reveal the value.
func (Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }

// LogValue returns "****", for log/slog.
func (Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalText returns "****", so encoders never write the value.
func (Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }
