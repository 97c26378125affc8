package config

import (
	"regexp"
	"strings"
)

// Encoding holds the keys that choose how column values are rendered
// (DEBEZIUM-REFERENCE §3; sink/mapping.go, sink/propagate.go). Modes are
// lower-cased Debezium values; "" is Debezium's default.
type Encoding struct {
	// DecimalHandlingMode is `decimal.handling.mode`: precise (default),
	// double or string.
	DecimalHandlingMode string
	// TimePrecisionMode is `time.precision.mode`: adaptive_time_microseconds
	// (default), adaptive, connect, isostring, microseconds or nanoseconds.
	TimePrecisionMode string
	// BigIntUnsignedHandlingMode is `bigint.unsigned.handling.mode`: long
	// (default) or precise.
	BigIntUnsignedHandlingMode string
	// BinaryHandlingMode is `binary.handling.mode`: bytes (default), base64,
	// base64-url-safe or hex.
	BinaryHandlingMode string
	// PropagateSourceTypeColumns is `column.propagate.source.type` and
	// PropagateSourceTypeDatatypes `datatype.propagate.source.type`: the
	// keys' regular expression lists as written (matched against
	// "db.table.column" resp. "db.table.TYPENAME").
	PropagateSourceTypeColumns   string
	PropagateSourceTypeDatatypes string
}

// encodingKeys are the keys parseEncoding reads (for SupportedKeys).
var encodingKeys = []string{"decimal.handling.mode", "time.precision.mode", "bigint.unsigned.handling.mode",
	"binary.handling.mode", "column.propagate.source.type", "datatype.propagate.source.type"}

var encodingModes = []struct {
	key    string
	values []string
	dst    func(*Encoding) *string
}{
	{"decimal.handling.mode", []string{"precise", "double", "string"}, func(e *Encoding) *string { return &e.DecimalHandlingMode }},
	{"time.precision.mode", []string{"adaptive_time_microseconds", "adaptive", "connect", "isostring", "microseconds", "nanoseconds"},
		func(e *Encoding) *string { return &e.TimePrecisionMode }},
	{"bigint.unsigned.handling.mode", []string{"long", "precise"}, func(e *Encoding) *string { return &e.BigIntUnsignedHandlingMode }},
	{"binary.handling.mode", []string{"bytes", "base64", "base64-url-safe", "hex"}, func(e *Encoding) *string { return &e.BinaryHandlingMode }},
}

func (l *loader) parseEncoding(c *Config) {
	for _, m := range encodingModes {
		v, ok := l.lower(m.key)
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch {
		case m.key == "time.precision.mode" && v == "structured":
			l.fail(unsupported(m.key, v, "structured (Debezium 3.7) is not implemented yet; use one of "+strings.Join(m.values, ", ")))
		case !contains(m.values, v):
			l.fail(invalid(m.key, v, "is not a known mode", "use one of "+strings.Join(m.values, ", ")))
		default:
			*m.dst(&c.Encoding) = v
		}
	}
	for key, dst := range map[string]*string{
		"column.propagate.source.type":   &c.Encoding.PropagateSourceTypeColumns,
		"datatype.propagate.source.type": &c.Encoding.PropagateSourceTypeDatatypes,
	} {
		v, ok := l.take(key)
		if !ok {
			continue
		}
		for _, p := range splitRegexList(v) {
			if _, err := regexp.Compile(`(?i)^(?:` + p + `)$`); err != nil {
				l.fail(invalid(key, v, "holds an invalid regular expression "+p, "fix the expression ("+err.Error()+")"))
			}
		}
		*dst = v
	}
}

func contains(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}
