package avro

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/rivulet-cdc/rivulet/sink"
)

// NameAdjustment is schema.name.adjustment.mode (and field.name.adjustment.mode):
// how Debezium makes Connect schema names valid Avro full names
// (io.debezium.schema.SchemaNameAdjuster). The zero value is Debezium 2.x+'s
// default, none.
type NameAdjustment uint8

// Name adjustment modes.
const (
	NameAdjustNone        NameAdjustment = iota // "none": names as they are
	NameAdjustAvro                              // "avro": invalid characters become '_'
	NameAdjustAvroUnicode                       // "avro_unicode": invalid characters (and '_') become _uXXXX
)

var nameAdjustNames = [...]string{NameAdjustNone: "none", NameAdjustAvro: "avro", NameAdjustAvroUnicode: "avro_unicode"}

func (m NameAdjustment) String() string { return sink.ModeName(nameAdjustNames[:], int(m)) }

// ParseNameAdjustment parses a schema.name.adjustment.mode value.
func ParseNameAdjustment(s string) (NameAdjustment, error) {
	i, err := sink.ParseMode("schema.name.adjustment.mode", nameAdjustNames[:], s)
	return NameAdjustment(i), err
}

// adjust applies the mode to a schema full name, as SchemaNameAdjuster.validFullname
// does: the first character must be [A-Za-z_] ([A-Za-z] for avro_unicode,
// where '_' is the escape character), the others [A-Za-z0-9_.]
// ([A-Za-z0-9.]). Java works on UTF-16 units, so a character outside the
// BMP is two replacements.
func (m NameAdjustment) adjust(name string) string {
	if m == NameAdjustNone || name == "" {
		return name
	}
	valid := func(c rune, first bool) bool {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
			return true
		case c == '_':
			return m == NameAdjustAvro
		case c == '.' || (c >= '0' && c <= '9'):
			return !first
		}
		return false
	}
	ok := true
	for i, c := range name {
		if !valid(c, i == 0) {
			ok = false
			break
		}
	}
	if ok {
		return name
	}
	var b strings.Builder
	first := true
	for _, c := range name {
		if valid(c, first) {
			b.WriteRune(c)
			first = false
			continue
		}
		first = false
		units := []uint16{uint16(c)}
		if c > 0xFFFF {
			units = utf16.Encode([]rune{c})
		}
		for _, u := range units {
			if m == NameAdjustAvro {
				b.WriteByte('_')
				continue
			}
			// UnicodeReplacementFunction: Integer.toHexString, "00"-padded
			// when it has at most two digits.
			hex := strconv.FormatUint(uint64(u), 16)
			if len(hex) <= 2 {
				hex = "00" + hex
			}
			b.WriteString("_u")
			b.WriteString(hex)
		}
	}
	return b.String()
}

// checkAvroFullName reports a full name Avro refuses (org.apache.avro.Schema.Name:
// every dot-separated part is [A-Za-z_][A-Za-z0-9_]*).
func checkAvroFullName(name, what string) error {
	if name == "" {
		return fmt.Errorf("%w: empty Avro name for %s", sink.ErrEncode, what)
	}
	for part := range strings.SplitSeq(name, ".") {
		if err := checkAvroName(part); err != nil {
			return fmt.Errorf("%w: %s %q is not a valid Avro name (%v); set schema.name.adjustment.mode=avro", sink.ErrEncode, what, name, err)
		}
	}
	return nil
}

// checkAvroName checks one simple Avro name (a field or a name part).
func checkAvroName(s string) error {
	if s == "" {
		return fmt.Errorf("empty name part")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return fmt.Errorf("illegal character %q", s[i:i+1])
		}
	}
	return nil
}

// splitFullName splits an Avro full name into namespace and name.
func splitFullName(full string) (namespace, name string) {
	if i := strings.LastIndexByte(full, '.'); i >= 0 {
		return full[:i], full[i+1:]
	}
	return "", full
}
