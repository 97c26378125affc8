package event

import (
	"bytes"
	"math"
)

// Kind says how a Value is to be read. The kinds are MySQL semantics; how they
// are rendered (Debezium modes) is decided by sink.
type Kind uint8

// Value kinds.
const (
	KindNull Kind = iota
	// KindInt: I holds a signed integer (all signed ints, YEAR, unsigned that fit, ENUM index unused).
	KindInt
	// KindUint: I holds the bits of an unsigned 64-bit integer (BIGINT UNSIGNED).
	KindUint
	// KindFloat: I holds math.Float64bits of a FLOAT (single precision value widened).
	KindFloat
	// KindDouble: I holds math.Float64bits of a DOUBLE.
	KindDouble
	// KindDecimal: B holds the decimal as ASCII text, e.g. "-12.3400" (always Column.Scale digits after the point).
	KindDecimal
	// KindString: B holds UTF-8 text (CHAR, VARCHAR, TEXT, ENUM and SET members joined by ',').
	KindString
	// KindBytes: B holds raw bytes (BINARY, VARBINARY, BLOB, GEOMETRY as WKB with SRID prefix).
	KindBytes
	// KindBits: B holds a BIT(n) value, big-endian as MySQL stores it, (n+7)/8 bytes.
	KindBits
	// KindJSON: B holds the JSON document as text.
	KindJSON
	// KindDate: I holds days since 1970-01-01.
	KindDate
	// KindTime: I holds microseconds (may be negative or beyond 24h).
	KindTime
	// KindDateTime: I holds microseconds since the epoch, wall clock read as UTC.
	KindDateTime
	// KindTimestamp: I holds microseconds since the epoch (a true instant, UTC).
	KindTimestamp
)

// Value is one column value. It is small and passed by value; B may point into
// a buffer shared by the whole rows event and must not be modified.
type Value struct {
	Kind Kind
	I    int64
	B    []byte
}

// Equal reports whether v and o hold the same value, as Objects.equals on
// the Connect values they become (a NULL equals only a NULL).
func (v Value) Equal(o Value) bool {
	return v.Kind == o.Kind && v.I == o.I && bytes.Equal(v.B, o.B)
}

// Null is the NULL value.
var Null = Value{}

// Int returns a KindInt value.
func Int(v int64) Value { return Value{Kind: KindInt, I: v} }

// Uint returns a KindUint value.
func Uint(v uint64) Value { return Value{Kind: KindUint, I: int64(v)} }

// Float returns a KindFloat value.
func Float(v float32) Value { return Value{Kind: KindFloat, I: int64(math.Float64bits(float64(v)))} }

// Double returns a KindDouble value.
func Double(v float64) Value { return Value{Kind: KindDouble, I: int64(math.Float64bits(v))} }

// Bytes returns a value of kind k holding b.
func Bytes(k Kind, b []byte) Value { return Value{Kind: k, B: b} }

// Float64 returns the number held by a KindFloat or KindDouble value.
func (v Value) Float64() float64 { return math.Float64frombits(uint64(v.I)) }

// IsNull reports whether v is NULL.
func (v Value) IsNull() bool { return v.Kind == KindNull }
