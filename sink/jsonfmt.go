package sink

import (
	"encoding/base64"
	"math"
	"math/bits"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// This file holds the byte-level formatting rules of the JSON that Kafka's
// JsonConverter writes through Jackson (com.fasterxml.jackson.core
// UTF8JsonGenerator, default features): strings, floats, base64.

// jsonEscape[c] is 0 for ASCII bytes written as they are, the character after
// '\' for the short escapes, and 'u' for \u00XX. Jackson's
// CharTypes.sOutputEscapes128: control characters, '"' and '\\'; '/' and DEL
// are not escaped, non-ASCII is written as UTF-8 but for characters outside
// the BMP, written as two \u escapes (appendJSONStringBody).
var jsonEscape = func() (t [utf8.RuneSelf]byte) {
	for i := 0; i < 0x20; i++ {
		t[i] = 'u'
	}
	t['"'] = '"'
	t['\\'] = '\\'
	t['\b'] = 'b'
	t['\t'] = 't'
	t['\f'] = 'f'
	t['\n'] = 'n'
	t['\r'] = 'r'
	return t
}()

// Jackson's CharTypes.HC: upper-case hex digits in \u00XX escapes.
const hexUpper = "0123456789ABCDEF"

// appendJSONString appends s as a quoted JSON string the way Jackson writes
// it. Invalid UTF-8 is replaced by U+FFFD, one per invalid byte, as Java
// would have decoded the bytes into a String before Jackson saw them.
func appendJSONString(dst, s []byte) []byte {
	dst = append(dst, '"')
	dst = appendJSONStringBody(dst, s)
	return append(dst, '"')
}

// appendJSONStr is appendJSONString for a string, without copying it.
func appendJSONStr(dst []byte, s string) []byte {
	return appendJSONString(dst, unsafe.Slice(unsafe.StringData(s), len(s)))
}

func appendJSONStringBody(dst, s []byte) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			e := jsonEscape[c]
			if e == 0 {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			if e == 'u' {
				dst = append(dst, '\\', 'u', '0', '0', hexUpper[c>>4], hexUpper[c&0xF])
			} else {
				dst = append(dst, '\\', e)
			}
			i++
			start = i
			continue
		}
		r, n := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && n == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, "\uFFFD"...)
			i++
			start = i
			continue
		}
		if n == 4 {
			// A character outside the BMP is a surrogate pair in the Java
			// String, and UTF8JsonGenerator escapes each half (its
			// COMBINE_UNICODE_SURROGATES_IN_UTF8 feature is off by default;
			// Debezium 3.6.1 through Kafka 4.3's JsonConverter writes 😀 as
			// \uD83D\uDE00, seen by the differential suite).
			dst = append(dst, s[start:i]...)
			hi, lo := utf16.EncodeRune(r)
			dst = appendUEscape(dst, hi)
			dst = appendUEscape(dst, lo)
			i += n
			start = i
			continue
		}
		i += n
	}
	return append(dst, s[start:]...)
}

// appendUEscape appends \uXXXX with upper-case hex digits (Jackson's HC).
func appendUEscape(dst []byte, r rune) []byte {
	return append(dst, '\\', 'u', hexUpper[r>>12&0xF], hexUpper[r>>8&0xF], hexUpper[r>>4&0xF], hexUpper[r&0xF])
}

// hexLower are the digits of binary.handling.mode=hex.
const hexLower = "0123456789abcdef"

var (
	b64Std = base64.StdEncoding
	b64URL = base64.URLEncoding
)

// appendBase64 appends b as a quoted base64 string: Jackson's default
// Base64Variant is MIME_NO_LINEFEEDS, the standard alphabet with padding.
func appendBase64(dst, b []byte) []byte {
	dst = append(dst, '"')
	dst = base64.StdEncoding.AppendEncode(dst, b)
	return append(dst, '"')
}

// appendJavaFloat appends f formatted as Java's Float.toString (bitSize 32)
// or Double.toString (bitSize 64) do since JDK 19 (the shortest decimal that
// rounds to f; Jackson's writeNumber(float/double) prints exactly that).
// Non-finite values are quoted, as Jackson's default WRITE_NAN_AS_STRINGS does.
func appendJavaFloat(dst []byte, f float64, bitSize int) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(dst, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(dst, `"-Infinity"`...)
	case f == 0:
		if math.Signbit(f) {
			return append(dst, "-0.0"...)
		}
		return append(dst, "0.0"...)
	}
	var tmp [32]byte
	e := strconv.AppendFloat(tmp[:0], f, 'e', -1, bitSize)
	if mant := mantissaLen(e); mant == 1 {
		// Java's spec: when one digit suffices, the closest decimal of
		// length 1 or 2 is chosen (Double.MIN_VALUE prints 4.9E-324).
		e2 := strconv.AppendFloat(tmp[16:16], f, 'e', 1, bitSize)
		if back, err := strconv.ParseFloat(string(e2), bitSize); err == nil && back == f {
			e = e2
		}
	}
	// e is [-]d[.ddd]e±XX
	neg := e[0] == '-'
	if neg {
		e = e[1:]
		dst = append(dst, '-')
	}
	var digits [24]byte
	nd := 0
	i := 0
	for ; i < len(e) && e[i] != 'e'; i++ {
		if e[i] != '.' {
			digits[nd] = e[i]
			nd++
		}
	}
	for nd > 1 && digits[nd-1] == '0' {
		nd--
	}
	exp, _ := strconv.Atoi(string(e[i+1:]))
	d := digits[:nd]
	if exp >= -3 && exp < 7 {
		if exp >= 0 {
			if nd <= exp+1 {
				dst = append(dst, d...)
				for k := nd; k <= exp; k++ {
					dst = append(dst, '0')
				}
				return append(dst, '.', '0')
			}
			dst = append(dst, d[:exp+1]...)
			dst = append(dst, '.')
			return append(dst, d[exp+1:]...)
		}
		dst = append(dst, '0', '.')
		for k := -1; k > exp; k-- {
			dst = append(dst, '0')
		}
		return append(dst, d...)
	}
	dst = append(dst, d[0], '.')
	if nd > 1 {
		dst = append(dst, d[1:]...)
	} else {
		dst = append(dst, '0')
	}
	dst = append(dst, 'E')
	return strconv.AppendInt(dst, int64(exp), 10)
}

func mantissaLen(e []byte) int {
	n := 0
	for _, c := range e {
		switch {
		case c == 'e':
			return n
		case c >= '0' && c <= '9':
			n++
		}
	}
	return n
}

// maxDecimalDigits bounds the digits decimalUnscaled accepts: MySQL allows 65,
// 76 decimal digits always fit in the 256-bit accumulator.
const maxDecimalDigits = 76

// decimalUnscaled converts the ASCII text of a decimal ("-12.34", "5", ".5")
// into the big-endian two's-complement bytes of its unscaled value at the
// given scale, as java.math.BigInteger.toByteArray() returns them for
// BigDecimal.unscaledValue() (org.apache.kafka.connect.data.Decimal.fromLogical):
// the minimal number of bytes that keeps the sign bit. The result is written
// into out (which must hold 33 bytes) and returned as a sub-slice. ok is false
// for malformed text, more fractional digits than scale, or too many digits.
func decimalUnscaled(out *[33]byte, text []byte, scale int) (b []byte, ok bool) {
	if b, ok, done := decimalUnscaledSmall(out, text, scale); done {
		return b, ok
	}
	var acc [4]uint64 // little-endian limbs
	i := 0
	neg := false
	if i < len(text) && (text[i] == '-' || text[i] == '+') {
		neg = text[i] == '-'
		i++
	}
	ndigits, nfrac := 0, 0
	seenDot, any := false, false
	mul := func(d uint64) {
		carry := d
		for k := range acc {
			hi, lo := bits.Mul64(acc[k], 10)
			lo, c := bits.Add64(lo, carry, 0)
			acc[k] = lo
			carry = hi + c
		}
	}
	for ; i < len(text); i++ {
		c := text[i]
		switch {
		case c >= '0' && c <= '9':
			any = true
			if ndigits > 0 || c != '0' {
				ndigits++
			}
			if seenDot {
				nfrac++
			}
			mul(uint64(c - '0'))
		case c == '.' && !seenDot:
			seenDot = true
		default:
			return nil, false
		}
	}
	if !any || nfrac > scale {
		return nil, false
	}
	for ; nfrac < scale; nfrac++ {
		if ndigits > 0 {
			ndigits++
		}
		mul(0)
	}
	if ndigits > maxDecimalDigits {
		return nil, false
	}
	if neg && acc != [4]uint64{} {
		// two's complement over 256 bits
		var c uint64 = 1
		for k := range acc {
			acc[k], c = bits.Add64(^acc[k], 0, c)
		}
	}
	// big-endian into out[1:33]
	for k := 0; k < 4; k++ {
		v := acc[3-k]
		for j := 0; j < 8; j++ {
			out[1+k*8+j] = byte(v >> (56 - 8*j))
		}
	}
	s := 1
	if neg && out[1]&0x80 != 0 {
		for s < 32 && out[s] == 0xFF && out[s+1]&0x80 != 0 {
			s++
		}
	} else {
		for s < 32 && out[s] == 0 && out[s+1]&0x80 == 0 {
			s++
		}
	}
	return out[s:33], true
}

// decimalUnscaledSmall is the fast path of decimalUnscaled for values whose
// unscaled form has at most 18 digits (fits an int64); done is false when the
// text needs the general path.
func decimalUnscaledSmall(out *[33]byte, text []byte, scale int) (b []byte, ok, done bool) {
	if len(text) > 18 || scale > 18 {
		return nil, false, false
	}
	i := 0
	neg := false
	if i < len(text) && (text[i] == '-' || text[i] == '+') {
		neg = text[i] == '-'
		i++
	}
	var v int64
	nfrac, any, seenDot := 0, false, false
	for ; i < len(text); i++ {
		c := text[i]
		switch {
		case c >= '0' && c <= '9':
			any = true
			v = v*10 + int64(c-'0')
			if seenDot {
				nfrac++
			}
		case c == '.' && !seenDot:
			seenDot = true
		default:
			return nil, false, true
		}
	}
	if !any || nfrac > scale {
		return nil, false, true
	}
	for ; nfrac < scale; nfrac++ {
		if v > math.MaxInt64/10 {
			return nil, false, false
		}
		v *= 10
	}
	if neg {
		v = -v
	}
	for j := 0; j < 8; j++ {
		out[25+j] = byte(v >> (56 - 8*j))
	}
	s := 25
	if v < 0 {
		for s < 32 && out[s] == 0xFF && out[s+1]&0x80 != 0 {
			s++
		}
	} else {
		for s < 32 && out[s] == 0 && out[s+1]&0x80 == 0 {
			s++
		}
	}
	return out[s:33], true, true
}

// uintUnscaled writes v as BigInteger.toByteArray would (BIGINT UNSIGNED in
// bigint.unsigned.handling.mode=precise, Decimal scale 0).
func uintUnscaled(out *[33]byte, v uint64) []byte {
	for j := 0; j < 8; j++ {
		out[25+j] = byte(v >> (56 - 8*j))
	}
	out[24] = 0
	s := 24
	for s < 32 && out[s] == 0 && out[s+1]&0x80 == 0 {
		s++
	}
	return out[s:33]
}

// appendBigDecimalString appends the decimal text the way
// java.math.BigDecimal.toString() prints the value with that scale: plain
// unless the adjusted exponent is below -6 (then "1.23E-7"). It is used where
// Kafka Connect prints a BigDecimal with toString (SimpleHeaderConverter).
func appendBigDecimalString(dst, text []byte, scale int) []byte {
	neg := len(text) > 0 && text[0] == '-'
	// collect the unscaled digits without leading zeros
	var buf [96]byte
	n := 0
	nfrac := 0
	seenDot := false
	for _, c := range text {
		switch {
		case c == '.':
			seenDot = true
		case c >= '0' && c <= '9':
			if seenDot {
				nfrac++
			}
			if n == 0 && c == '0' {
				continue
			}
			if n < len(buf) {
				buf[n] = c
				n++
			}
		}
	}
	for ; nfrac < scale && n > 0 && n < len(buf); nfrac++ {
		buf[n] = '0'
		n++
	}
	digits := buf[:n]
	if n == 0 {
		digits = []byte{'0'}
		n = 1
	}
	adjusted := -scale + (n - 1)
	if scale >= 0 && adjusted >= -6 {
		if neg && !(n == 1 && digits[0] == '0') {
			dst = append(dst, '-')
		}
		if scale == 0 {
			return append(dst, digits...)
		}
		if n > scale {
			dst = append(dst, digits[:n-scale]...)
			dst = append(dst, '.')
			return append(dst, digits[n-scale:]...)
		}
		dst = append(dst, '0', '.')
		for k := n; k < scale; k++ {
			dst = append(dst, '0')
		}
		return append(dst, digits...)
	}
	if neg {
		dst = append(dst, '-')
	}
	dst = append(dst, digits[0])
	if n > 1 {
		dst = append(dst, '.')
		dst = append(dst, digits[1:]...)
	}
	dst = append(dst, 'E')
	if adjusted >= 0 {
		dst = append(dst, '+')
	}
	return strconv.AppendInt(dst, int64(adjusted), 10)
}

// floorDiv divides rounding towards negative infinity, as Java's
// Math.floorDiv (Instant.toEpochMilli of dates before 1970).
func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// zonedLayouts[fsp] formats io.debezium.time.ZonedTimestamp: ISO-8601 in UTC
// with 'Z' and exactly fsp fractional digits when fsp > 0 (ZonedTimestamp's
// getDateTimeFormatter, DBZ-5996); ISO_OFFSET_DATE_TIME without fraction at 0.
var zonedLayouts = [7]string{
	"2006-01-02T15:04:05Z",
	"2006-01-02T15:04:05.0Z",
	"2006-01-02T15:04:05.00Z",
	"2006-01-02T15:04:05.000Z",
	"2006-01-02T15:04:05.0000Z",
	"2006-01-02T15:04:05.00000Z",
	"2006-01-02T15:04:05.000000Z",
}

// appendZoned appends the quoted ZonedTimestamp text for micros since the epoch.
func appendZoned(dst []byte, micros int64, fsp int) []byte {
	if fsp < 0 || fsp > 6 {
		fsp = 0
	}
	dst = append(dst, '"')
	dst = time.UnixMicro(micros).UTC().AppendFormat(dst, zonedLayouts[fsp])
	return append(dst, '"')
}

// appendPlainDecimal appends the quoted decimal text as
// BigDecimal.toPlainString prints it at the given scale
// (decimal.handling.mode=string): no exponent, no leading zeros, the
// fraction padded to scale digits, no sign on zero. ok is false for text
// that is not a plain decimal number.
func appendPlainDecimal(dst, text []byte, scale int) ([]byte, bool) {
	i := 0
	neg := false
	if i < len(text) && (text[i] == '-' || text[i] == '+') {
		neg = text[i] == '-'
		i++
	}
	intStart := i
	for i < len(text) && text[i] >= '0' && text[i] <= '9' {
		i++
	}
	intPart := text[intStart:i]
	var frac []byte
	if i < len(text) && text[i] == '.' {
		i++
		fs := i
		for i < len(text) && text[i] >= '0' && text[i] <= '9' {
			i++
		}
		frac = text[fs:i]
	}
	if i != len(text) || len(intPart)+len(frac) == 0 {
		return dst, false
	}
	for len(intPart) > 0 && intPart[0] == '0' {
		intPart = intPart[1:]
	}
	zero := len(intPart) == 0
	for _, c := range frac {
		zero = zero && c == '0'
	}
	dst = append(dst, '"')
	if neg && !zero {
		dst = append(dst, '-')
	}
	if len(intPart) == 0 {
		dst = append(dst, '0')
	} else {
		dst = append(dst, intPart...)
	}
	if len(frac) > 0 || scale > 0 {
		dst = append(dst, '.')
		dst = append(dst, frac...)
		for k := len(frac); k < scale; k++ {
			dst = append(dst, '0')
		}
	}
	return append(dst, '"'), true
}

// appendISODate appends io.debezium.time.IsoDate for days since the epoch:
// DateTimeFormatter.ISO_OFFSET_DATE in UTC, "2018-06-20Z".
func appendISODate(dst []byte, days int64) []byte {
	dst = append(dst, '"')
	dst = time.Unix(days*86400, 0).UTC().AppendFormat(dst, "2006-01-02Z")
	return append(dst, '"')
}

// appendISOTime appends io.debezium.time.IsoTime for micros past midnight
// (0 to 24h; 24:00:00 wraps to 00:00:00 as LocalTime.plus does):
// ISO_OFFSET_TIME, seconds always, the fraction with the digits it needs.
func appendISOTime(dst []byte, us int64) []byte {
	us %= 86_400_000_000
	dst = append(dst, '"')
	dst = time.UnixMicro(us).UTC().AppendFormat(dst, "15:04:05.999999Z")
	return append(dst, '"')
}

// appendISOTimestamp appends io.debezium.time.IsoTimestamp for micros since
// the epoch (wall clock read as UTC): ISO_OFFSET_DATE_TIME, the fraction with
// the digits it needs, "2018-06-20T06:37:03.5Z".
func appendISOTimestamp(dst []byte, us int64) []byte {
	dst = append(dst, '"')
	dst = time.UnixMicro(us).UTC().AppendFormat(dst, "2006-01-02T15:04:05.999999Z")
	return append(dst, '"')
}

// appendInt appends v in decimal, as strconv.AppendInt(dst, v, 10) does,
// writing the digits in place: strconv formats into a buffer of its own
// and copies it (a memmove call per value, most of a small integer's
// cost on the row path).
func appendInt(dst []byte, v int64) []byte {
	u := uint64(v)
	if v < 0 {
		dst = append(dst, '-')
		u = -u
	}
	if u < 10 {
		return append(dst, byte('0'+u))
	}
	// Digits of u: bits.Len64(u)·log10(2) is the count or one less.
	n := int(uint(bits.Len64(u))*1233>>12) + 1
	if u < pow10u64[n-1] {
		n--
	}
	l := len(dst)
	if cap(dst)-l < n {
		dst = append(dst[:cap(dst)], make([]byte, l+n-cap(dst))...)[:l]
	}
	b := dst[l : l+n]
	i := n
	for u >= 100 {
		q := u / 100
		r := (u - q*100) * 2
		i -= 2
		b[i], b[i+1] = digitPairs[r], digitPairs[r+1]
		u = q
	}
	if u >= 10 {
		b[0], b[1] = digitPairs[u*2], digitPairs[u*2+1]
	} else {
		b[0] = byte('0' + u)
	}
	return dst[:l+n]
}

// pow10u64[i] is 10^i.
var pow10u64 = [20]uint64{
	1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9,
	1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
}

// digitPairs holds "00" to "99".
const digitPairs = "00010203040506070809" +
	"10111213141516171819" +
	"20212223242526272829" +
	"30313233343536373839" +
	"40414243444546474849" +
	"50515253545556575859" +
	"60616263646566676869" +
	"70717273747576777879" +
	"80818283848586878889" +
	"90919293949596979899"
