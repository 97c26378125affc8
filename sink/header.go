package sink

import (
	"strconv"

	"github.com/rivulet-cdc/rivulet/event"
)

// Header names Debezium puts on the records of a primary-key change
// (RelationalChangeRecordEmitter: PK_UPDATE_NEWKEY_FIELD, PK_UPDATE_OLDKEY_FIELD).
const (
	HeaderNewKey = "__debezium.newkey"
	HeaderOldKey = "__debezium.oldkey"
)

// appendConnectKey renders a key struct the way Kafka Connect's default
// header converter does: SimpleHeaderConverter.fromConnectHeader calls
// Values.convertToString, whose append() writes a Struct as
// {"field":value,...} — strings quoted with only '\' and '"' escaped,
// numbers with Java's toString, BigDecimal with toString, bytes as quoted
// base64, null as null (apache/kafka connect/api …/data/Values.java).
// appendKeyChangeHeaders appends the headers of a primary-key change
// (RelationalChangeRecordEmitter.emitUpdateAsPrimaryKeyChangeRecord): the
// delete and its tombstone carry the new key, the create the old one.
func appendKeyChangeHeaders(buf []byte, te *tableEnc, ev *event.ChangeEvent) (_ []byte, newKeyHdr, oldKeyHdr []Header) {
	start := len(buf)
	buf = appendConnectKey(buf, te.keyCols, ev.After)
	newKeyHdr = []Header{{Key: HeaderNewKey, Value: buf[start:len(buf):len(buf)]}}
	start = len(buf)
	buf = appendConnectKey(buf, te.keyCols, ev.Before)
	oldKeyHdr = []Header{{Key: HeaderOldKey, Value: buf[start:len(buf):len(buf)]}}
	return buf, newKeyHdr, oldKeyHdr
}

func appendConnectKey(dst []byte, cols []colEnc, row []event.Value) []byte {
	dst = append(dst, '{')
	for i := range cols {
		c := &cols[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendConnectString(dst, []byte(c.name))
		dst = append(dst, ':')
		dst = c.appendConnectValue(dst, row[c.idx])
	}
	return append(dst, '}')
}

// appendConnectString is Values.append of an embedded String.
func appendConnectString(dst, s []byte) []byte {
	dst = append(dst, '"')
	for _, c := range s {
		if c == '\\' || c == '"' {
			dst = append(dst, '\\')
		}
		dst = append(dst, c)
	}
	return append(dst, '"')
}

// appendJavaNumber writes a float the way Values.append does (Number.toString:
// non-finite values unquoted).
func appendJavaNumber(dst []byte, f float64, bitSize int) []byte {
	start := len(dst)
	dst = appendJavaFloat(dst, f, bitSize)
	if len(dst) > start && dst[start] == '"' {
		n := copy(dst[start:], dst[start+1:len(dst)-1])
		dst = dst[:start+n]
	}
	return dst
}

func (e *colEnc) appendConnectValue(dst []byte, v event.Value) []byte {
	if v.Kind == event.KindNull {
		return append(dst, "null"...)
	}
	switch e.kind {
	case kFloat32:
		return appendJavaNumber(dst, float64(float32(v.Float64())), 32)
	case kFloat64:
		return appendJavaNumber(dst, v.Float64(), 64)
	case kDecimalBytes:
		return appendBigDecimalString(dst, v.B, e.n)
	case kDecimalDouble:
		f, _ := strconv.ParseFloat(string(v.B), 64)
		return appendJavaNumber(dst, f, 64)
	case kUintDecimal:
		return strconv.AppendUint(dst, uint64(v.I), 10)
	case kString:
		return appendConnectString(dst, v.B)
	case kBinBase64, kBinBase64URL, kBinHex, kZoned:
		// Values that are Strings in Connect: render as JSON text, then
		// re-quote with Connect's escaping.
		var tmp [64]byte
		s, err := e.appendValue(tmp[:0], &v)
		if err != nil || len(s) < 2 {
			return append(dst, "null"...)
		}
		return appendConnectString(dst, s[1:len(s)-1])
	case kGeometry, kPoint:
		// A nested Struct is written like the key itself; the JSON form has
		// the same bytes here (quoted base64, numbers, null).
		out, err := e.appendValue(dst, &v)
		if err != nil {
			return append(dst, "null"...)
		}
		return out
	}
	// Integers, booleans, dates and times, bits and bytes (quoted base64):
	// the JSON form is Connect's form.
	out, err := e.appendValue(dst, &v)
	if err != nil {
		return append(dst, "null"...)
	}
	return out
}
