package sink

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/rivulet-cdc/rivulet/event"
)

// colKind says how a column's value is rendered. Which kind a column gets
// depends on its type and the configured modes: see the tables in mapping.go.
type colKind uint8

const (
	kInt            colKind = iota // integers, YEAR, DATE (days): JSON integer
	kBool                          // BOOLEAN (from DDL), BIT(1)
	kBits                          // BIT(n>1): io.debezium.data.Bits, little-endian bytes
	kFloat32                       // FLOAT: Float.toString
	kFloat64                       // DOUBLE, FLOAT(M,D): Double.toString
	kDecimalBytes                  // DECIMAL precise: Connect Decimal bytes
	kDecimalDouble                 // DECIMAL double
	kUintDecimal                   // BIGINT UNSIGNED precise: Decimal(20,0)
	kString                        // text, ENUM, SET, JSON
	kBytes                         // binary in bytes mode: base64 in JSON
	kBinBase64                     // binary.handling.mode=base64
	kBinBase64URL                  // binary.handling.mode=base64-url-safe
	kBinHex                        // binary.handling.mode=hex
	kTimeMicros                    // TIME as µs (io.debezium.time.MicroTime)
	kTimeMillis                    // TIME as ms (io.debezium.time.Time, Connect Time)
	kDateTimeMillis                // DATETIME as ms (io.debezium.time.Timestamp, Connect Timestamp)
	kDateTimeMicros                // DATETIME as µs (io.debezium.time.MicroTimestamp)
	kZoned                         // TIMESTAMP: io.debezium.time.ZonedTimestamp string
	kGeometry                      // io.debezium.data.geometry.Geometry {wkb, srid}
	kPoint                         // io.debezium.data.geometry.Point {x, y, wkb, srid}
	kDecimalString                 // DECIMAL string: BigDecimal.toPlainString
	kDateISO                       // DATE as io.debezium.time.IsoDate "2018-06-20Z"
	kTimeISO                       // TIME as io.debezium.time.IsoTime "13:37:03.123Z"
	kDateTimeISO                   // DATETIME as io.debezium.time.IsoTimestamp "2018-06-20T06:37:03Z"
	kTimeNanos                     // TIME as ns (io.debezium.time.NanoTime)
	kDateTimeNanos                 // DATETIME as ns (io.debezium.time.NanoTimestamp)
	kFloatVector                   // MySQL VECTOR: io.debezium.data.FloatVector, array of floats (vector.go)
)

// ConnectSchema is a column's Kafka Connect schema as
// JsonConverter.asJsonSchema writes it: type, fields, optional, name,
// version, doc, parameters, default, then (inside a struct) field. The
// type mapping builds it (Column.Connect); a format that changes a
// column's schema (Debezium JSON's column mappers) changes its copy.
type ConnectSchema struct {
	typ     string
	fields  string // the raw `"fields":[…]` member of a struct, or ""
	name    string
	version int // 0: none
	doc     string
	params  [][2]string
	def     []byte // the "default" member's JSON value, or nil (defaults.go)
}

// Type is the Connect schema type (int32, string, bytes, struct, ...).
func (s *ConnectSchema) Type() string { return s.typ }

// Params are the Connect schema parameters, in order; shared with the
// copies of s: callers must not modify it.
func (s *ConnectSchema) Params() [][2]string { return s.params }

// WithParams returns s with the parameters params.
func (s ConnectSchema) WithParams(params [][2]string) ConnectSchema {
	s.params = params
	return s
}

// AppendJSON appends s as the schema of a field (field "" for none), as
// JsonConverter.asJsonSchema writes it.
func (s *ConnectSchema) AppendJSON(dst []byte, optional bool, field string) []byte {
	dst = append(dst, `{"type":`...)
	dst = appendJSONStr(dst, s.typ)
	if s.fields != "" {
		dst = append(dst, ',')
		dst = append(dst, s.fields...)
	}
	dst = append(dst, `,"optional":`...)
	dst = strconv.AppendBool(dst, optional)
	if s.name != "" {
		dst = append(dst, `,"name":`...)
		dst = appendJSONStr(dst, s.name)
	}
	if s.version != 0 {
		dst = append(dst, `,"version":`...)
		dst = strconv.AppendInt(dst, int64(s.version), 10)
	}
	if s.doc != "" {
		dst = append(dst, `,"doc":`...)
		dst = appendJSONStr(dst, s.doc)
	}
	if len(s.params) > 0 {
		dst = append(dst, `,"parameters":{`...)
		for i, p := range s.params {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONStr(dst, p[0])
			dst = append(dst, ':')
			dst = appendJSONStr(dst, p[1])
		}
		dst = append(dst, '}')
	}
	if s.def != nil {
		dst = append(dst, `,"default":`...)
		dst = append(dst, s.def...)
	}
	if field != "" {
		dst = append(dst, `,"field":`...)
		dst = appendJSONStr(dst, field)
	}
	return append(dst, '}')
}

// Geometry struct members (io.debezium.data.geometry.Geometry / Point builders).
const (
	geometryFields = `"fields":[{"type":"bytes","optional":false,"field":"wkb"},{"type":"int32","optional":true,"field":"srid"}]`
	pointFields    = `"fields":[{"type":"double","optional":false,"field":"x"},{"type":"double","optional":false,"field":"y"},{"type":"bytes","optional":true,"field":"wkb"},{"type":"int32","optional":true,"field":"srid"}]`
)

// colEnc is one emitted column of a table, prepared once per table version.
type colEnc struct {
	idx  int    // index into the row
	name string // column name
	// key is the `"name":` prefix of the payload member, JSON-escaped.
	key      []byte
	kind     colKind
	nullable bool
	// inDay: a TIME outside 00:00:00-24:00:00 has no value in this mode
	// (connect, isostring); it is written as null when the column is
	// nullable and refused otherwise, as Debezium's converters do.
	inDay  bool
	n      int // kBits: bytes; kBytes & co: BINARY(n) pad length; kZoned: fsp; decimals: scale
	schema ConnectSchema
}

// errOutOfRange is wrapped for temporal values the mode cannot represent.
var errOutOfRange = fmt.Errorf("%w: temporal value out of the range of time.precision.mode", ErrEncode)

// unrepresentable handles a value the mode cannot represent: null for a
// nullable column (Debezium logs and leaves the field unset), an error otherwise.
func (e *colEnc) unrepresentable(dst []byte) ([]byte, error) {
	if e.nullable {
		return append(dst, "null"...), nil
	}
	return dst, errOutOfRange
}

const microsPerDay = 86_400_000_000

// errValue is wrapped into EncodeError for values that do not fit their column.
var errValue = fmt.Errorf("%w: value does not match column type", ErrEncode)

// appendValue appends the JSON of *v for column e. NULL is null whatever
// the column; a value of a kind the column cannot hold is an error. v is
// read, never written: it usually points into the event's row. A pointer,
// not a copy: the formats call this once per column, and a copied
// event.Value (40 bytes, in memory) is written with 16-byte moves and then
// read field by field, which stalls store forwarding on every call.
func (e *colEnc) appendValue(dst []byte, v *event.Value) ([]byte, error) {
	if v.Kind == event.KindNull {
		return append(dst, "null"...), nil
	}
	switch e.kind {
	case kInt:
		switch v.Kind {
		case event.KindInt, event.KindUint:
			return appendInt(dst, v.I), nil
		case event.KindDate:
			return appendInt(dst, adjustDays(v.I)), nil
		}
	case kBool:
		switch v.Kind {
		case event.KindInt, event.KindUint:
			return strconv.AppendBool(dst, v.I != 0), nil
		case event.KindBits:
			// BitSet.get(0): the lowest bit, in the last big-endian byte.
			return strconv.AppendBool(dst, len(v.B) > 0 && v.B[len(v.B)-1]&1 != 0), nil
		}
	case kBits:
		var tmp [8]byte
		var src []byte
		switch v.Kind {
		case event.KindBits:
			src = v.B
		case event.KindInt, event.KindUint:
			binary.BigEndian.PutUint64(tmp[:], uint64(v.I))
			src = tmp[:]
		default:
			return dst, errValue
		}
		return appendBitsLE(dst, src, e.n), nil
	case kFloat32:
		switch v.Kind {
		case event.KindFloat, event.KindDouble:
			return appendJavaFloat(dst, float64(float32(v.Float64())), 32), nil
		}
	case kFloat64:
		switch v.Kind {
		case event.KindFloat, event.KindDouble:
			return appendJavaFloat(dst, v.Float64(), 64), nil
		}
	case kDecimalBytes:
		if v.Kind == event.KindDecimal {
			var out [33]byte
			b, ok := decimalUnscaled(&out, v.B, e.n)
			if !ok {
				return dst, fmt.Errorf("%w: decimal %q does not fit scale %d", errValue, v.B, e.n)
			}
			return appendBase64(dst, b), nil
		}
	case kDecimalDouble:
		if v.Kind == event.KindDecimal {
			f, err := strconv.ParseFloat(string(v.B), 64)
			if err != nil && !errors.Is(err, strconv.ErrRange) {
				return dst, fmt.Errorf("%w: decimal %q: %v", errValue, v.B, err)
			}
			return appendJavaFloat(dst, f, 64), nil
		}
	case kUintDecimal:
		switch v.Kind {
		case event.KindUint, event.KindInt:
			var out [33]byte
			return appendBase64(dst, uintUnscaled(&out, uint64(v.I))), nil
		}
	case kString:
		switch v.Kind {
		case event.KindString, event.KindJSON, event.KindBytes:
			return appendJSONString(dst, v.B), nil
		}
	case kBytes, kBinBase64, kBinBase64URL, kBinHex:
		switch v.Kind {
		case event.KindBytes, event.KindString:
			return e.appendBinary(dst, v.B), nil
		}
	case kDecimalString:
		if v.Kind == event.KindDecimal {
			var ok bool
			if dst, ok = appendPlainDecimal(dst, v.B, e.n); !ok {
				return dst, fmt.Errorf("%w: decimal %q is malformed", errValue, v.B)
			}
			return dst, nil
		}
	case kTimeMicros:
		if v.Kind == event.KindTime {
			return appendInt(dst, v.I), nil
		}
	case kTimeMillis:
		if v.Kind == event.KindTime {
			if e.inDay && (v.I < 0 || v.I > microsPerDay) {
				return e.unrepresentable(dst)
			}
			// Time.toMilliOfDay: (int) Duration.toMillis(), which wraps past
			// 596:31:23.647 (MySQL allows 838:59:59).
			return appendInt(dst, int64(int32(floorDiv(v.I, 1000)))), nil
		}
	case kTimeNanos:
		if v.Kind == event.KindTime {
			return appendInt(dst, v.I*1000), nil
		}
	case kTimeISO:
		if v.Kind == event.KindTime {
			if v.I < 0 || v.I > microsPerDay {
				return e.unrepresentable(dst)
			}
			return appendISOTime(dst, v.I), nil
		}
	case kDateISO:
		if v.Kind == event.KindDate {
			return appendISODate(dst, adjustDays(v.I)), nil
		}
	case kDateTimeISO:
		if v.Kind == event.KindDateTime || v.Kind == event.KindTimestamp {
			return appendISOTimestamp(dst, adjustMicros(v.I)), nil
		}
	case kDateTimeNanos:
		if v.Kind == event.KindDateTime || v.Kind == event.KindTimestamp {
			ns, ok := epochNanos(adjustMicros(v.I))
			if !ok {
				return e.unrepresentable(dst) // NanoTimestamp: outside 1677-2262
			}
			return appendInt(dst, ns), nil
		}
	case kDateTimeMillis:
		if v.Kind == event.KindDateTime || v.Kind == event.KindTimestamp {
			return appendInt(dst, floorDiv(adjustMicros(v.I), 1000)), nil
		}
	case kDateTimeMicros:
		if v.Kind == event.KindDateTime || v.Kind == event.KindTimestamp {
			return appendInt(dst, adjustMicros(v.I)), nil
		}
	case kZoned:
		if v.Kind == event.KindTimestamp && v.I == 0 {
			// The zero TIMESTAMP ('0000-00-00 00:00:00', stored as 0: a real
			// TIMESTAMP starts at 1970-01-01 00:00:01 UTC) has no instant:
			// Debezium converts it to null, which a NOT NULL column replaces
			// by its schema default (Debezium 3.6.1 wrote the DEFAULT
			// '2000-01-01 00:00:00' of a NOT NULL column, seen by the
			// differential suite); without a default the epoch stays.
			if e.nullable {
				return append(dst, "null"...), nil
			}
			if e.schema.def != nil {
				return append(dst, e.schema.def...), nil
			}
		}
		if v.Kind == event.KindTimestamp || v.Kind == event.KindDateTime {
			return appendZoned(dst, adjustMicros(v.I), e.n), nil
		}
	case kGeometry, kPoint:
		if v.Kind == event.KindBytes {
			return e.appendGeometry(dst, v.B)
		}
	case kFloatVector:
		return appendFloatVector(dst, v)
	}
	return dst, errValue
}

// appendBinary writes binary data per binary.handling.mode, right-padding
// BINARY(n) with zero bytes (BinlogValueConverters.normalizeBinaryData).
func (e *colEnc) appendBinary(dst, b []byte) []byte {
	pad := 0
	if e.n > len(b) {
		pad = e.n - len(b)
	}
	if pad > 0 {
		// Rare (the binlog strips trailing zeros of BINARY only in some
		// versions): build the padded copy.
		p := make([]byte, e.n)
		copy(p, b)
		b = p
	}
	switch e.kind {
	case kBinBase64:
		dst = append(dst, '"')
		dst = appendB64(dst, b, false)
		return append(dst, '"')
	case kBinBase64URL:
		dst = append(dst, '"')
		dst = appendB64(dst, b, true)
		return append(dst, '"')
	case kBinHex:
		// HexConverter.convertToHexString: lower-case hex digits (Debezium
		// 3.6.1 writes "00ff10" for X'00FF10', seen by the differential suite).
		dst = append(dst, '"')
		for _, c := range b {
			dst = append(dst, hexLower[c>>4], hexLower[c&0xF])
		}
		return append(dst, '"')
	}
	return appendBase64(dst, b)
}

// appendBitsLE writes a BIT(n) value held big-endian (as MySQL stores it) as
// the little-endian byte[] of numBytes bytes Debezium emits
// (JdbcValueConverters.convertBits: BitSet.toByteArray, padLittleEndian).
func appendBitsLE(dst, be []byte, numBytes int) []byte {
	var tmp [8]byte
	var le []byte
	if numBytes <= len(tmp) {
		le = tmp[:numBytes]
	} else {
		le = make([]byte, numBytes)
	}
	for i := 0; i < numBytes && i < len(be); i++ {
		le[i] = be[len(be)-1-i]
	}
	return appendBase64(dst, le)
}

// appendGeometry writes the Geometry or Point struct from MySQL's internal
// geometry format: 4-byte little-endian SRID, then WKB (BinlogGeometry.fromBytes;
// SRID 0 means unset and is written as null).
func (e *colEnc) appendGeometry(dst, b []byte) ([]byte, error) {
	if len(b) < 4 {
		return dst, fmt.Errorf("%w: geometry shorter than its SRID", errValue)
	}
	srid := int32(binary.LittleEndian.Uint32(b))
	wkb := b[4:]
	if e.kind == kPoint {
		x, y, ok := parseWKBPoint(wkb)
		if !ok {
			return dst, fmt.Errorf("%w: POINT column holds a WKB that is not a 2D point", errValue)
		}
		dst = append(dst, `{"x":`...)
		dst = appendJavaFloat(dst, x, 64)
		dst = append(dst, `,"y":`...)
		dst = appendJavaFloat(dst, y, 64)
		dst = append(dst, ',')
	} else {
		dst = append(dst, '{')
	}
	dst = append(dst, `"wkb":`...)
	dst = appendBase64(dst, wkb)
	dst = append(dst, `,"srid":`...)
	if srid == 0 {
		dst = append(dst, "null"...)
	} else {
		dst = strconv.AppendInt(dst, int64(srid), 10)
	}
	return append(dst, '}'), nil
}

// parseWKBPoint reads a 2D WKB point (io.debezium.data.geometry.Point.parseWKBPoint).
func parseWKBPoint(wkb []byte) (x, y float64, ok bool) {
	if len(wkb) != 21 {
		return 0, 0, false
	}
	var bo binary.ByteOrder = binary.BigEndian
	if wkb[0] != 0 {
		bo = binary.LittleEndian
	}
	if bo.Uint32(wkb[1:]) != 1 {
		return 0, 0, false
	}
	return math.Float64frombits(bo.Uint64(wkb[5:])), math.Float64frombits(bo.Uint64(wkb[13:])), true
}

// appendB64 is base64 without quotes, standard or URL-safe alphabet with padding
// (java.util.Base64.getEncoder / getUrlEncoder).
func appendB64(dst, b []byte, url bool) []byte {
	if url {
		return b64URL.AppendEncode(dst, b)
	}
	return b64Std.AppendEncode(dst, b)
}

// epochNanos converts micros since the epoch to nanos the way
// NanoTimestamp.toEpochNanos does: Math.multiplyExact(epochDay,
// NANOSECONDS_PER_DAY) then Math.addExact of the nano of day; ok is false
// where Java throws.
func epochNanos(us int64) (int64, bool) {
	day := floorDiv(us, microsPerDay)
	inDay := (us - day*microsPerDay) * 1000
	const nsPerDay = microsPerDay * 1000
	if day > math.MaxInt64/nsPerDay || day < math.MinInt64/nsPerDay {
		return 0, false
	}
	base := day * nsPerDay
	if base > math.MaxInt64-inDay {
		return 0, false
	}
	return base + inDay, true
}

// Debezium's temporal adjuster (enable.time.adjuster, default true;
// BinlogValueConverters.adjustTemporal), applied by the value converters to
// every DATE, DATETIME and TIMESTAMP: a year 0-69 is 2000-2069, 70-99 is
// 1970-1999 (MySQL's two-digit years). Values from year 100 on pass one
// comparison.
var (
	minUnadjustedMicros = time.Date(100, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	minUnadjustedDays   = floorDiv(minUnadjustedMicros, microsPerDay)
)

func adjustMicros(us int64) int64 {
	if us >= minUnadjustedMicros {
		return us
	}
	t := time.UnixMicro(us).UTC()
	switch y := t.Year(); {
	case y >= 0 && y <= 69:
		return t.AddDate(2000, 0, 0).UnixMicro()
	case y >= 70 && y <= 99:
		return t.AddDate(1900, 0, 0).UnixMicro()
	}
	return us
}

func adjustDays(days int64) int64 {
	if days >= minUnadjustedDays {
		return days
	}
	return floorDiv(adjustMicros(days*microsPerDay), microsPerDay)
}

// optional is Column.Nullable: the row schema's field optionality.
func (c *colEnc) optional() bool { return c.nullable }
