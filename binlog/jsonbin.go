package binlog

import (
	"encoding/base64"
	"encoding/binary"
	"math"
	"math/big"
	"strconv"
)

// MySQL stores JSON columns in a binary form (sql-common/json_binary.h):
//
//	doc     ::= type value
//	type    ::= 0x00 small object | 0x01 large object | 0x02 small array |
//	            0x03 large array | 0x04 literal | 0x05 int16 | 0x06 uint16 |
//	            0x07 int32 | 0x08 uint32 | 0x09 int64 | 0x0a uint64 |
//	            0x0b double | 0x0c string | 0x0f opaque
//	object  ::= count size key-entry* value-entry* key* value*
//	array   ::= count size value-entry* value*
//
// count, size and offsets are uint16 in small and uint32 in large containers,
// offsets relative to the container start; a key entry is offset + uint16
// length; a value entry is type + offset, or the value itself when it fits
// (literals and [u]int16 always, [u]int32 in large containers).
//
// appendJSONText renders it as compact JSON text the way Debezium's
// JsonStringFormatter (mysql-binlog-connector-java) does, so documents match
// byte for byte: no whitespace, object members in stored order, control
// characters as \uXXXX, doubles as Java's Double.toString (or the exact
// decimal expansion where Java would use an exponent), opaque DECIMALs as plain
// numbers, dates and times as quoted strings, other opaque values as base64.

const (
	jsonSmallObject = 0x00
	jsonLargeObject = 0x01
	jsonSmallArray  = 0x02
	jsonLargeArray  = 0x03
	jsonLiteral     = 0x04
	jsonInt16       = 0x05
	jsonUint16      = 0x06
	jsonInt32       = 0x07
	jsonUint32      = 0x08
	jsonInt64       = 0x09
	jsonUint64      = 0x0a
	jsonDouble      = 0x0b
	jsonString      = 0x0c
	jsonOpaque      = 0x0f

	jsonMaxDepth = 150 // MySQL allows 100
)

// MySQL field type codes that appear inside JSON opaque values.
const (
	myTypeDecimal    = 0
	myTypeTimestamp  = 7
	myTypeDate       = 10
	myTypeTime       = 11
	myTypeDateTime   = 12
	myTypeNewDate    = 14
	myTypeTimestamp2 = 17
	myTypeDateTime2  = 18
	myTypeTime2      = 19
	myTypeNewDecimal = 246
)

// appendJSONText appends the text form of the binary JSON document doc to dst.
// An empty document (MySQL writes one for an invalid value inserted with
// IGNORE) renders as null.
func appendJSONText(dst, doc []byte) ([]byte, error) {
	if len(doc) == 0 {
		return append(dst, "null"...), nil
	}
	start := len(dst)
	dst, err := appendJSONValue(dst, doc[0], doc, 1, 0)
	if err != nil {
		return dst[:start], err
	}
	return dst, nil
}

// appendJSONValue renders the value of type t stored at data[off:].
func appendJSONValue(dst []byte, t byte, data []byte, off int, depth int) ([]byte, error) {
	if off < 0 || off > len(data) {
		return dst, errTruncated
	}
	b := data[off:]
	switch t {
	case jsonSmallObject, jsonLargeObject:
		return appendJSONContainer(dst, b, t == jsonLargeObject, true, depth)
	case jsonSmallArray, jsonLargeArray:
		return appendJSONContainer(dst, b, t == jsonLargeArray, false, depth)
	case jsonLiteral:
		if len(b) < 1 {
			return dst, errTruncated
		}
		return appendJSONLiteral(dst, b[0])
	case jsonInt16:
		if len(b) < 2 {
			return dst, errTruncated
		}
		return strconv.AppendInt(dst, int64(int16(binary.LittleEndian.Uint16(b))), 10), nil
	case jsonUint16:
		if len(b) < 2 {
			return dst, errTruncated
		}
		return strconv.AppendUint(dst, uint64(binary.LittleEndian.Uint16(b)), 10), nil
	case jsonInt32:
		if len(b) < 4 {
			return dst, errTruncated
		}
		return strconv.AppendInt(dst, int64(int32(binary.LittleEndian.Uint32(b))), 10), nil
	case jsonUint32:
		if len(b) < 4 {
			return dst, errTruncated
		}
		return strconv.AppendUint(dst, uint64(binary.LittleEndian.Uint32(b)), 10), nil
	case jsonInt64:
		if len(b) < 8 {
			return dst, errTruncated
		}
		return strconv.AppendInt(dst, int64(binary.LittleEndian.Uint64(b)), 10), nil
	case jsonUint64:
		if len(b) < 8 {
			return dst, errTruncated
		}
		return strconv.AppendUint(dst, binary.LittleEndian.Uint64(b), 10), nil
	case jsonDouble:
		if len(b) < 8 {
			return dst, errTruncated
		}
		f := math.Float64frombits(binary.LittleEndian.Uint64(b))
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return dst, corrupt("json double %v", f)
		}
		return appendJavaDouble(dst, f), nil
	case jsonString:
		n, m, err := jsonVarLen(b)
		if err != nil {
			return dst, err
		}
		if len(b)-m < n {
			return dst, errTruncated
		}
		return appendJSONString(dst, b[m:m+n]), nil
	case jsonOpaque:
		return appendJSONOpaque(dst, b)
	}
	return dst, corrupt("json value type %#x", t)
}

func appendJSONLiteral(dst []byte, v byte) ([]byte, error) {
	switch v {
	case 0x00:
		return append(dst, "null"...), nil
	case 0x01:
		return append(dst, "true"...), nil
	case 0x02:
		return append(dst, "false"...), nil
	}
	return dst, corrupt("json literal %#x", v)
}

// appendJSONContainer renders an object or array whose header starts at b[0].
func appendJSONContainer(dst, b []byte, large, object bool, depth int) ([]byte, error) {
	if depth >= jsonMaxDepth {
		return dst, corrupt("json nesting deeper than %d", jsonMaxDepth)
	}
	w := 2 // width of count, size and offsets
	if large {
		w = 4
	}
	if len(b) < 2*w {
		return dst, errTruncated
	}
	count := readJSONUint(b, w)
	size := readJSONUint(b[w:], w)
	if size > uint64(len(b)) {
		return dst, errTruncated
	}
	b = b[:size] // offsets are relative to the container and must stay inside it
	keyEntry := w + 2
	valEntry := 1 + w
	hdr := uint64(2 * w)
	if object {
		hdr += count * uint64(keyEntry)
	}
	if hdr+count*uint64(valEntry) > size {
		return dst, errTruncated
	}
	open, closing := byte('['), byte(']')
	if object {
		open, closing = '{', '}'
	}
	dst = append(dst, open)
	valBase := int(hdr)
	for i := 0; i < int(count); i++ {
		if i > 0 {
			dst = append(dst, ',')
		}
		if object {
			ke := 2*w + i*keyEntry
			koff := readJSONUint(b[ke:], w)
			klen := uint64(binary.LittleEndian.Uint16(b[ke+w:]))
			if koff+klen > size {
				return dst, errTruncated
			}
			dst = append(dst, '"')
			dst = appendEscaped(dst, b[koff:koff+klen])
			dst = append(dst, '"', ':')
		}
		ve := valBase + i*valEntry
		t := b[ve]
		field := b[ve+1 : ve+1+w]
		var err error
		switch {
		case t == jsonLiteral:
			dst, err = appendJSONLiteral(dst, field[0])
		case t == jsonInt16:
			dst = strconv.AppendInt(dst, int64(int16(binary.LittleEndian.Uint16(field))), 10)
		case t == jsonUint16:
			dst = strconv.AppendUint(dst, uint64(binary.LittleEndian.Uint16(field)), 10)
		case large && t == jsonInt32:
			dst = strconv.AppendInt(dst, int64(int32(binary.LittleEndian.Uint32(field))), 10)
		case large && t == jsonUint32:
			dst = strconv.AppendUint(dst, uint64(binary.LittleEndian.Uint32(field)), 10)
		default:
			voff := readJSONUint(field, w)
			if voff >= size {
				return dst, errTruncated
			}
			dst, err = appendJSONValue(dst, t, b, int(voff), depth+1)
		}
		if err != nil {
			return dst, err
		}
	}
	return append(dst, closing), nil
}

func readJSONUint(b []byte, w int) uint64 {
	if w == 2 {
		return uint64(binary.LittleEndian.Uint16(b))
	}
	return uint64(binary.LittleEndian.Uint32(b))
}

// jsonVarLen reads the variable-length length used by strings and opaque
// values: 7 bits per byte, high bit set on all but the last, at most 5 bytes.
func jsonVarLen(b []byte) (n, width int, err error) {
	var v uint64
	for i := 0; i < 5; i++ {
		if i >= len(b) {
			return 0, 0, errTruncated
		}
		v |= uint64(b[i]&0x7F) << (7 * i)
		if b[i]&0x80 == 0 {
			if v > math.MaxInt32 {
				return 0, 0, corrupt("json length %d", v)
			}
			return int(v), i + 1, nil
		}
	}
	return 0, 0, corrupt("json length longer than 5 bytes")
}

const hexUpper = "0123456789ABCDEF"

// appendEscaped appends s escaped as Debezium's JsonStringFormatter does:
// '"' and '\\' with a backslash, \b \t \f \n \r by name, other control
// characters as \u00XX; everything else (including non-ASCII) verbatim.
func appendEscaped(dst, s []byte) []byte {
	for _, c := range s {
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c >= 0x20:
			dst = append(dst, c)
		case c == '\b':
			dst = append(dst, '\\', 'b')
		case c == '\t':
			dst = append(dst, '\\', 't')
		case c == '\f':
			dst = append(dst, '\\', 'f')
		case c == '\n':
			dst = append(dst, '\\', 'n')
		case c == '\r':
			dst = append(dst, '\\', 'r')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexUpper[c>>4], hexUpper[c&0xF])
		}
	}
	return dst
}

func appendJSONString(dst, s []byte) []byte {
	dst = append(dst, '"')
	dst = appendEscaped(dst, s)
	return append(dst, '"')
}

// appendJSONOpaque renders an opaque value: custom-type data-length data.
func appendJSONOpaque(dst, b []byte) ([]byte, error) {
	if len(b) < 1 {
		return dst, errTruncated
	}
	typ := b[0]
	n, m, err := jsonVarLen(b[1:])
	if err != nil {
		return dst, err
	}
	b = b[1+m:]
	if len(b) < n {
		return dst, errTruncated
	}
	v := b[:n]
	switch typ {
	case myTypeNewDecimal, myTypeDecimal:
		if len(v) < 2 {
			return dst, errTruncated
		}
		d, _, err := appendDecimal(dst, v[2:], int(v[0]), int(v[1]))
		return d, err
	case myTypeDate, myTypeNewDate, myTypeTime, myTypeTime2,
		myTypeDateTime, myTypeDateTime2, myTypeTimestamp, myTypeTimestamp2:
		if len(v) < 8 {
			return dst, errTruncated
		}
		packed := int64(binary.LittleEndian.Uint64(v))
		dst = append(dst, '"')
		switch typ {
		case myTypeDate, myTypeNewDate:
			y, mo, d, _, _, _, _ := unpackDateTime(packed)
			dst = appendYMD(dst, y, mo, d)
		case myTypeTime, myTypeTime2:
			dst = appendPackedTime(dst, packed)
		default:
			y, mo, d, h, mi, s, us := unpackDateTime(packed)
			dst = appendYMD(dst, y, mo, d)
			dst = append(dst, ' ')
			dst = appendHMS(dst, h, mi, s, us)
		}
		return append(dst, '"'), nil
	}
	dst = append(dst, '"')
	dst = base64.StdEncoding.AppendEncode(dst, v)
	return append(dst, '"'), nil
}

// unpackDateTime splits a DATETIME packed as in TIME_to_longlong_datetime_packed.
func unpackDateTime(packed int64) (year, month, day, hour, minute, sec, us int64) {
	if packed < 0 {
		packed = -packed
	}
	us = packed % (1 << 24)
	ymdhms := packed >> 24
	ymd := ymdhms >> 17
	ym := ymd >> 5
	hms := ymdhms % (1 << 17)
	return ym / 13, ym % 13, ymd % (1 << 5), hms >> 12, hms >> 6 % (1 << 6), hms % (1 << 6), us
}

func appendPackedTime(dst []byte, packed int64) []byte {
	if packed < 0 {
		dst = append(dst, '-')
		packed = -packed
	}
	us := packed % (1 << 24)
	hms := packed >> 24
	return appendHMS(dst, hms>>12%(1<<10), hms>>6%(1<<6), hms%(1<<6), us)
}

func appendYMD(dst []byte, y, m, d int64) []byte {
	dst = appendPadded(dst, uint32(y%10000), 4)
	dst = append(dst, '-')
	dst = appendPadded(dst, uint32(m%100), 2)
	dst = append(dst, '-')
	return appendPadded(dst, uint32(d%100), 2)
}

// appendHMS appends hh:mm:ss and, when us != 0, '.' and the microseconds
// with trailing zeros removed (JsonStringFormatter.appendTime).
func appendHMS(dst []byte, h, m, s, us int64) []byte {
	if h < 100 {
		dst = appendPadded(dst, uint32(h), 2)
	} else {
		dst = appendUint(dst, uint64(h))
	}
	dst = append(dst, ':')
	dst = appendPadded(dst, uint32(m%100), 2)
	dst = append(dst, ':')
	dst = appendPadded(dst, uint32(s%100), 2)
	if us != 0 {
		us %= 1000000
		dst = append(dst, '.')
		start := len(dst)
		dst = appendPadded(dst, uint32(us), 6)
		for len(dst) > start+1 && dst[len(dst)-1] == '0' {
			dst = dst[:len(dst)-1]
		}
	}
	return dst
}

// appendJavaDouble formats f as Java's Double.toString does for magnitudes in
// [1e-3, 1e7) (shortest round-trip digits, at least one fractional digit) and
// otherwise as new BigDecimal(f).toPlainString(): the exact decimal value of
// the double without an exponent, which is what JsonStringFormatter emits.
func appendJavaDouble(dst []byte, f float64) []byte {
	a := math.Abs(f)
	if f == 0 {
		if math.Signbit(f) {
			return append(dst, "-0.0"...)
		}
		return append(dst, "0.0"...)
	}
	if a >= 1e-3 && a < 1e7 {
		start := len(dst)
		dst = strconv.AppendFloat(dst, f, 'f', -1, 64)
		for _, c := range dst[start:] {
			if c == '.' {
				return dst
			}
		}
		return append(dst, '.', '0')
	}
	// Exact expansion: f = mant × 2^exp.
	mant, exp := math.Frexp(a) // a = mant × 2^exp, mant in [0.5, 1)
	m := uint64(mant * (1 << 53))
	exp -= 53
	for m&1 == 0 && exp < 0 { // reduce to the smallest scale
		m >>= 1
		exp++
	}
	if f < 0 {
		dst = append(dst, '-')
	}
	if exp >= 0 {
		v := new(big.Int).Lsh(new(big.Int).SetUint64(m), uint(exp))
		return v.Append(dst, 10)
	}
	// m / 2^k = m × 5^k / 10^k
	k := -exp
	v := new(big.Int).Mul(new(big.Int).SetUint64(m), new(big.Int).Exp(big.NewInt(5), big.NewInt(int64(k)), nil))
	digits := v.Append(nil, 10)
	if len(digits) <= k {
		dst = append(dst, '0', '.')
		for range k - len(digits) {
			dst = append(dst, '0')
		}
		return append(dst, digits...)
	}
	dst = append(dst, digits[:len(digits)-k]...)
	dst = append(dst, '.')
	return append(dst, digits[len(digits)-k:]...)
}
