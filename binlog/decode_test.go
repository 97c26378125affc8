package binlog

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math"
	"math/big"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/schema"
)

// encodeDecimal packs the decimal text s as DECIMAL(prec, scale) the way
// MySQL's decimal2bin does (test helper, inverse of appendDecimal).
func encodeDecimal(t testing.TB, s string, prec, scale int) []byte {
	t.Helper()
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	ip, fp, _ := strings.Cut(s, ".")
	intg := prec - scale
	ip = strings.TrimLeft(ip, "0")
	for len(ip) < intg {
		ip = "0" + ip
	}
	for len(fp) < scale {
		fp += "0"
	}
	if len(ip) > intg || len(fp) > scale {
		t.Fatalf("%s does not fit DECIMAL(%d,%d)", s, prec, scale)
	}
	var out []byte
	put := func(digits string) {
		n := dig2bytes[len(digits)]
		if len(digits) == 9 {
			n = 4
		}
		var v uint64
		for _, c := range digits {
			v = v*10 + uint64(c-'0')
		}
		for i := n - 1; i >= 0; i-- {
			out = append(out, byte(v>>(8*i)))
		}
	}
	lead := intg % 9
	if lead > 0 {
		put(ip[:lead])
	}
	for i := lead; i < len(ip); i += 9 {
		put(ip[i : i+9])
	}
	for i := 0; i+9 <= len(fp); i += 9 {
		put(fp[i : i+9])
	}
	if r := scale % 9; r > 0 {
		put(fp[len(fp)-r:])
	}
	out[0] ^= 0x80
	if neg {
		for i := range out {
			out[i] ^= 0xFF
		}
	}
	return out
}

func TestAppendDecimal(t *testing.T) {
	tests := []struct {
		name        string
		hex         string // packed bytes; empty means encode want
		prec, scale int
		want        string
	}{
		// The example of the MySQL manual (decimal2bin in strings/decimal.cc).
		{"manual positive", "810dfb38d204d2", 14, 4, "1234567890.1234"},
		{"manual negative", "7ef204c72dfb2d", 14, 4, "-1234567890.1234"},
		{"zero", "", 10, 2, "0.00"},
		{"zero no scale", "", 5, 0, "0"},
		{"small fraction", "", 10, 5, "0.00012"},
		{"negative fraction", "", 10, 5, "-0.50000"},
		{"integer only", "", 18, 0, "123456789012345678"},
		{"max precision", "", 65, 30, "12345678901234567890123456789012345.123456789012345678901234567890"},
		{"leading zeros dropped", "", 20, 2, "1.05"},
		{"nine digit groups", "", 27, 9, "999999999999999999.999999999"},
		{"negative max", "", 65, 0, "-99999999999999999999999999999999999999999999999999999999999999999"},
		{"one digit", "", 1, 0, "7"},
		{"scale equals precision", "", 4, 4, "0.1234"},
		// MariaDB allows 38 digits of scale (CREATE TABLE ... SELECT 1.5 * 1e-38 is DECIMAL(41,38)).
		{"mariadb scale 38", "", 41, 38, "1.50000000000000000000000000000000000000"},
		{"mariadb 65,38", "", 65, 38, "-123456789012345678901234567.12345678901234567890123456789012345678"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var data []byte
			if tt.hex != "" {
				var err error
				if data, err = hex.DecodeString(tt.hex); err != nil {
					t.Fatal(err)
				}
			} else {
				data = encodeDecimal(t, tt.want, tt.prec, tt.scale)
			}
			if len(data) != decimalSize(tt.prec, tt.scale) {
				t.Fatalf("size %d, decimalSize %d", len(data), decimalSize(tt.prec, tt.scale))
			}
			got, n, err := appendDecimal([]byte("x"), append(data, 0xEE), tt.prec, tt.scale)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != "x"+tt.want || n != len(data) {
				t.Errorf("got %q (%d bytes), want %q (%d bytes)", got, n, tt.want, len(data))
			}
			if _, _, err := appendDecimal(nil, data[:len(data)-1], tt.prec, tt.scale); !errors.Is(err, ErrCorruptEvent) {
				t.Errorf("truncated: err = %v, want ErrCorruptEvent", err)
			}
		})
	}
}

func TestAppendDecimal_Invalid(t *testing.T) {
	// A nine-digit group holding 1e9 is not a valid digit group.
	data := []byte{0x80 | 0x3B, 0x9A, 0xCA, 0x00}
	if _, _, err := appendDecimal(nil, data, 9, 0); !errors.Is(err, ErrCorruptEvent) {
		t.Errorf("err = %v, want ErrCorruptEvent", err)
	}
	if _, _, err := appendDecimal(nil, data, 70, 0); !errors.Is(err, ErrCorruptEvent) {
		t.Errorf("precision 70: err = %v, want ErrCorruptEvent", err)
	}
}

// packTime packs ±h:m:s.us as MySQL's TIME_to_longlong_time_packed.
func packTime(neg bool, h, m, s, us int64) int64 {
	p := (h<<12|m<<6|s)<<24 + us
	if neg {
		return -p
	}
	return p
}

// encodeTime2 stores a packed TIME as my_time_packed_to_binary does.
func encodeTime2(nr int64, fsp int) []byte {
	intPart := nr >> 24 // arithmetic shift, as MY_PACKED_TIME_GET_INT_PART
	frac := nr % (1 << 24)
	put3 := func(v int64) []byte { return []byte{byte(v >> 16), byte(v >> 8), byte(v)} }
	switch fsp {
	case 0:
		return put3(intPart + 0x800000)
	case 1, 2:
		return append(put3(intPart+0x800000), byte(int8(frac/10000)))
	case 3, 4:
		v := uint16(int16(frac / 100))
		return append(put3(intPart+0x800000), byte(v>>8), byte(v))
	default:
		v := nr + 0x800000000000
		return []byte{byte(v >> 40), byte(v >> 32), byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}
	}
}

func TestDecodeTime2(t *testing.T) {
	tests := []struct {
		name   string
		neg    bool
		h, m   int64
		s, us  int64
		fsp    int
		wantUs int64
	}{
		{"midnight", false, 0, 0, 0, 0, 0, 0},
		{"noon", false, 12, 34, 56, 0, 0, (12*3600 + 34*60 + 56) * 1e6},
		{"over 24h", false, 838, 59, 59, 0, 0, (838*3600 + 59*60 + 59) * 1e6},
		{"negative", true, 838, 59, 59, 0, 0, -(838*3600 + 59*60 + 59) * 1e6},
		{"fsp2", false, 1, 2, 3, 450000, 2, 3723450000},
		{"fsp2 negative fraction", true, 0, 0, 0, 10000, 2, -10000},
		{"fsp2 negative", true, 0, 0, 1, 990000, 2, -1990000},
		{"fsp3 negative", true, 0, 0, 1, 500000, 3, -1500000},
		{"fsp4", false, 23, 59, 59, 999900, 4, 86399999900},
		{"fsp6", false, 1, 0, 0, 123456, 6, 3600123456},
		{"fsp6 negative", true, 10, 0, 0, 1, 6, -36000000001},
		{"fsp5 negative whole", true, 0, 1, 0, 0, 5, -60000000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := encodeTime2(packTime(tt.neg, tt.h, tt.m, tt.s, tt.us), tt.fsp)
			got, n, err := decodeTime2(data, tt.fsp)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.wantUs || n != len(data) {
				t.Errorf("got %d µs (%d bytes), want %d µs (%d bytes)", got, n, tt.wantUs, len(data))
			}
			if _, _, err := decodeTime2(data[:len(data)-1], tt.fsp); !errors.Is(err, ErrCorruptEvent) {
				t.Errorf("truncated: err = %v", err)
			}
		})
	}
}

func TestDecodeTime_Old(t *testing.T) {
	enc := func(v int32) []byte { return []byte{byte(v), byte(v >> 8), byte(v >> 16)} }
	for _, tt := range []struct {
		v    int32
		want int64
	}{{123456, (12*3600 + 34*60 + 56) * 1e6}, {-10203, -(1*3600 + 2*60 + 3) * 1e6}, {0, 0}} {
		got, n, err := decodeTime(enc(tt.v))
		if err != nil || n != 3 || got != tt.want {
			t.Errorf("decodeTime(%d) = %d, %d, %v; want %d", tt.v, got, n, err, tt.want)
		}
	}
}

// encodeDateTime2 stores a DATETIME(fsp) as MySQL 5.6.4+ does.
func encodeDateTime2(y, mo, d, h, mi, s, us int64, fsp int) []byte {
	intPart := ((y*13+mo)<<5|d)<<17 | (h<<12 | mi<<6 | s)
	v := intPart + 0x8000000000
	out := []byte{byte(v >> 32), byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}
	switch fsp {
	case 1, 2:
		out = append(out, byte(us/10000))
	case 3, 4:
		out = append(out, byte(us/100>>8), byte(us/100))
	case 5, 6:
		out = append(out, byte(us>>16), byte(us>>8), byte(us))
	}
	return out
}

func TestDecodeDateTime2(t *testing.T) {
	tests := []struct {
		name               string
		y, mo, d, h, mi, s int64
		us                 int64
		fsp                int
		want               time.Time
		zero               bool
	}{
		{"epoch", 1970, 1, 1, 0, 0, 0, 0, 0, time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{"debezium example", 2018, 6, 20, 6, 37, 3, 0, 0, time.Date(2018, 6, 20, 6, 37, 3, 0, time.UTC), false},
		{"fsp6", 2024, 2, 29, 23, 59, 59, 999999, 6, time.Date(2024, 2, 29, 23, 59, 59, 999999000, time.UTC), false},
		{"fsp3", 1999, 12, 31, 12, 0, 0, 123000, 3, time.Date(1999, 12, 31, 12, 0, 0, 123000000, time.UTC), false},
		{"fsp1", 2000, 1, 1, 0, 0, 0, 500000, 1, time.Date(2000, 1, 1, 0, 0, 0, 500000000, time.UTC), false},
		{"before epoch", 1000, 1, 1, 0, 0, 0, 0, 0, time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{"year 1", 1, 1, 1, 0, 0, 0, 0, 0, time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{"max", 9999, 12, 31, 23, 59, 59, 0, 0, time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), false},
		{"zero", 0, 0, 0, 0, 0, 0, 0, 0, time.Time{}, true},
		{"zero month", 2020, 0, 10, 0, 0, 0, 0, 0, time.Time{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := encodeDateTime2(tt.y, tt.mo, tt.d, tt.h, tt.mi, tt.s, tt.us, tt.fsp)
			got, n, ok, err := decodeDateTime2(data, tt.fsp)
			if err != nil {
				t.Fatal(err)
			}
			if n != len(data) {
				t.Errorf("consumed %d of %d", n, len(data))
			}
			if ok == tt.zero {
				t.Fatalf("ok = %v for zero=%v", ok, tt.zero)
			}
			if !tt.zero && got != tt.want.UnixMicro() {
				t.Errorf("got %d (%v), want %d (%v)", got, time.UnixMicro(got).UTC(), tt.want.UnixMicro(), tt.want)
			}
		})
	}
}

func TestDecodeDate(t *testing.T) {
	enc := func(y, m, d uint32) []byte { v := y<<9 | m<<5 | d; return []byte{byte(v), byte(v >> 8), byte(v >> 16)} }
	for _, tt := range []struct {
		y, m, d uint32
		ok      bool
	}{{1970, 1, 1, true}, {2017, 9, 15, true}, {1, 1, 1, true}, {9999, 12, 31, true}, {1900, 3, 1, true}, {0, 0, 0, false}, {2020, 2, 0, false}} {
		days, n, ok, err := decodeDate(enc(tt.y, tt.m, tt.d))
		if err != nil || n != 3 || ok != tt.ok {
			t.Fatalf("%v: n=%d ok=%v err=%v", tt, n, ok, err)
		}
		if ok {
			want := time.Date(int(tt.y), time.Month(tt.m), int(tt.d), 0, 0, 0, 0, time.UTC).Unix() / 86400
			if days != want {
				t.Errorf("%v: days %d, want %d", tt, days, want)
			}
		}
	}
}

func TestDecodeTimestamp2(t *testing.T) {
	data := []byte{0x5B, 0x2A, 0x56, 0x7F, 0x01, 0xE2, 0x40} // 1529501311 s, fsp 6: 123456 µs
	got, n, ok, err := decodeTimestamp2(data, 6)
	if err != nil || !ok || n != 7 {
		t.Fatalf("n=%d ok=%v err=%v", n, ok, err)
	}
	if want := int64(0x5B2A567F)*1e6 + 0x01E240; got != want {
		t.Errorf("got %d want %d", got, want)
	}
	if _, _, ok, _ := decodeTimestamp2([]byte{0, 0, 0, 0}, 0); ok {
		t.Error("zero timestamp reported ok")
	}
}

func TestCharsetDecoder(t *testing.T) {
	tests := []struct {
		charset string
		in      []byte
		want    string
		binary  bool
	}{
		{"utf8mb4", []byte("héllo ☃"), "héllo ☃", false},
		{"latin1", []byte{'c', 'a', 'f', 0xE9, ' ', 0x80}, "café €", false},
		{"cp1251", []byte{0xCF, 0xF0, 0xE8, 0xE2, 0xE5, 0xF2}, "Привет", false},
		{"koi8r", []byte{0xF0, 0xD2, 0xC9, 0xD7, 0xC5, 0xD4}, "Привет", false},
		{"sjis", []byte{0x82, 0xB1, 0x82, 0xF1, 0x82, 0xC9, 0x82, 0xBF, 0x82, 0xCD}, "こんにちは", false},
		{"gbk", []byte{0xC4, 0xE3, 0xBA, 0xC3}, "你好", false},
		{"big5", []byte{0xA7, 0x41, 0xA6, 0x6E}, "你好", false},
		{"euckr", []byte{0xBE, 0xC8, 0xB3, 0xE7}, "안녕", false},
		{"ucs2", []byte{0x00, 'h', 0x00, 'i', 0x26, 0x03}, "hi☃", false},
		{"utf16le", []byte{'h', 0x00, 0x03, 0x26}, "h☃", false},
		{"utf32", []byte{0, 0, 0x26, 0x03}, "☃", false},
		{"binary", []byte{0, 1, 2}, "\x00\x01\x02", true},
	}
	for _, tt := range tests {
		t.Run(tt.charset, func(t *testing.T) {
			dec, bin, err := charsetDecoder(strings.ToUpper(tt.charset))
			if err != nil {
				t.Fatal(err)
			}
			if bin != tt.binary {
				t.Fatalf("binary = %v", bin)
			}
			if dec == nil {
				if string(tt.in) != tt.want {
					t.Fatalf("pass-through charset changes bytes")
				}
				return
			}
			got, err := dec.appendUTF8([]byte("<"), tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != "<"+tt.want {
				t.Errorf("got %q want %q", got, tt.want)
			}
			// A second conversion must not depend on state left by the first.
			got, err = dec.appendUTF8(make([]byte, 0, 1), tt.in)
			if err != nil || string(got) != tt.want {
				t.Errorf("second conversion: %q, %v", got, err)
			}
		})
	}
	if _, _, err := charsetDecoder("filename"); err == nil {
		t.Error("filename: want an error")
	}
}

// TestCharsetDecoder_ServerTables: text converts as the server does (found
// comparing every single-byte code and every valid multi-byte code with the
// server's CONVERT: Go's charmaps turned the C1 controls of ISO 8859-x and
// latin1's five undefined bytes into U+FFFD, read greek as ISO 8859-7:2003,
// had no armscii8, dec8, geostd8, hp8, keybcs2, macce or swe7; its
// multi-byte decoders differ on 396 characters of sjis, ujis, eucjpms, big5
// and gb2312 and on the user-defined areas of cp932, ujis and eucjpms).
func TestCharsetDecoder_ServerTables(t *testing.T) {
	tests := []struct {
		charset string
		in      []byte
		want    string
	}{
		{"latin1", []byte{0x80, 0x81, 0x8D, 0x9D, 0xFF}, "€\u0081\u008d\u009dÿ"},
		{"latin2", []byte{0x80, 0x9F, 0xA3, 0xFF}, "\u0080\u009fŁ˙"},
		{"greek", []byte{0xA1, 0xA2, 0xA4, 0xC1}, "ʽʼ?Α"},
		{"hebrew", []byte{0x85, 0xE0}, "\u0085א"},
		{"swe7", []byte{'[', '\\', ']', '{', '}', 'a'}, "ÄÖÅäåa"},
		{"armscii8", []byte{0xB2, 0xB3}, "Աա"},
		{"macce", []byte{0x80, 0x81}, "ÄĀ"},
		{"keybcs2", []byte{0x80}, "Č"},
		{"cp1250", []byte{0x81, 0x8A}, "?Š"},
		{"ascii", []byte{'a', 0x80}, "a?"},
		// Multi-byte sets: golang.org/x/text decodes Windows-31J and
		// Big5-HKSCS and no user-defined areas.
		{"sjis", []byte{0x82, 0xA0, 0x81, 0x60, 0x82, 0xA2, 0x81, 0x5F, 0x81, 0x91}, "あ〜い\\¢"},
		{"cp932", []byte{0x81, 0x60, 0xF0, 0x40, 0xF9, 0xFC, 'x'}, "～\ue000\ue757x"},
		{"ujis", []byte{0xA4, 0xA2, 0xA1, 0xC1, 0xF5, 0xA1, 0x8F, 0xF5, 0xA1, 0x8F, 0xA2, 0xB7}, "あ〜\ue000\ue3ac~"},
		{"eucjpms", []byte{0x8F, 0xF3, 0xF3, 0x8F, 0xA2, 0xC3}, "ⅰ￤"},
		{"big5", []byte{0xA4, 0xA4, 0xA1, 0x45, 0xC6, 0xA1}, "中•ヾ"},
		{"gb2312", []byte{0xD6, 0xD0, 0xA1, 0xA4, 0xA1, 0xAA}, "中・―"},
		{"sjis", []byte{0x82, 0xA0, 0x81}, "あ\ufffd"}, // a truncated sequence stays the transformer's
	}
	for _, tt := range tests {
		dec, _, err := charsetDecoder(tt.charset)
		if err != nil {
			t.Fatalf("%s: %v", tt.charset, err)
		}
		got, err := dec.appendUTF8(nil, tt.in)
		if err != nil || string(got) != tt.want {
			t.Errorf("%s % X: %q, %v; want %q", tt.charset, tt.in, got, err, tt.want)
		}
	}
}

// jsonObj is an ordered JSON object for the test encoder.
type jsonObj [][2]any

type jsonOpaqueVal struct {
	typ  byte
	data []byte
}

// encodeJSON encodes v in MySQL's binary JSON format (json_binary.cc
// serialize_*), small containers unless large is set.
func encodeJSON(v any, large bool) []byte {
	t, body := encodeJSONValue(v, large)
	return append([]byte{t}, body...)
}

func jsonVarLenBytes(n int) []byte {
	var out []byte
	for {
		b := byte(n & 0x7F)
		n >>= 7
		if n == 0 {
			return append(out, b)
		}
		out = append(out, b|0x80)
	}
}

func encodeJSONValue(v any, large bool) (byte, []byte) {
	le16 := func(x uint16) []byte { return binary.LittleEndian.AppendUint16(nil, x) }
	le32 := func(x uint32) []byte { return binary.LittleEndian.AppendUint32(nil, x) }
	switch x := v.(type) {
	case nil:
		return jsonLiteral, []byte{0}
	case bool:
		if x {
			return jsonLiteral, []byte{1}
		}
		return jsonLiteral, []byte{2}
	case int:
		switch {
		case x >= math.MinInt16 && x <= math.MaxInt16:
			return jsonInt16, le16(uint16(int16(x)))
		case x >= math.MinInt32 && x <= math.MaxInt32:
			return jsonInt32, le32(uint32(int32(x)))
		}
		return jsonInt64, binary.LittleEndian.AppendUint64(nil, uint64(x))
	case uint64:
		return jsonUint64, binary.LittleEndian.AppendUint64(nil, x)
	case float64:
		return jsonDouble, binary.LittleEndian.AppendUint64(nil, math.Float64bits(x))
	case string:
		return jsonString, append(jsonVarLenBytes(len(x)), x...)
	case jsonOpaqueVal:
		return jsonOpaque, append(append([]byte{x.typ}, jsonVarLenBytes(len(x.data))...), x.data...)
	case []any:
		return encodeJSONContainer(nil, x, large)
	case jsonObj:
		keys := make([]string, len(x))
		vals := make([]any, len(x))
		for i, kv := range x {
			keys[i], vals[i] = kv[0].(string), kv[1]
		}
		return encodeJSONContainer(keys, vals, large)
	}
	panic("unsupported test value")
}

func encodeJSONContainer(keys []string, vals []any, large bool) (byte, []byte) {
	w := 2
	t := byte(jsonSmallArray)
	if keys != nil {
		t = jsonSmallObject
	}
	if large {
		w = 4
		t++
	}
	put := func(b []byte, x int) []byte {
		if w == 2 {
			return binary.LittleEndian.AppendUint16(b, uint16(x))
		}
		return binary.LittleEndian.AppendUint32(b, uint32(x))
	}
	n := len(vals)
	hdr := 2*w + n*(1+w)
	if keys != nil {
		hdr += n * (w + 2)
	}
	var tail []byte
	var keyEntries, valEntries []byte
	for _, k := range keys {
		keyEntries = put(keyEntries, hdr+len(tail))
		keyEntries = binary.LittleEndian.AppendUint16(keyEntries, uint16(len(k)))
		tail = append(tail, k...)
	}
	for _, v := range vals {
		vt, body := encodeJSONValue(v, large)
		inline := vt == jsonLiteral || vt == jsonInt16 || vt == jsonUint16 || large && (vt == jsonInt32 || vt == jsonUint32)
		valEntries = append(valEntries, vt)
		if inline {
			field := make([]byte, w)
			copy(field, body)
			valEntries = append(valEntries, field...)
			continue
		}
		valEntries = put(valEntries, hdr+len(tail))
		tail = append(tail, body...)
	}
	out := put(nil, n)
	out = put(out, hdr+len(tail))
	out = append(out, keyEntries...)
	out = append(out, valEntries...)
	return t, append(out, tail...)
}

func TestAppendJSONText(t *testing.T) {
	packedDT := func(y, mo, d, h, mi, s, us int64) []byte {
		p := (((y*13+mo)<<5|d)<<17|(h<<12|mi<<6|s))<<24 + us
		return binary.LittleEndian.AppendUint64(nil, uint64(p))
	}
	dec := append([]byte{10, 4}, encodeDecimal(t, "-123.4500", 10, 4)...)
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"null", nil, "null"},
		{"true", true, "true"},
		{"int16", -5, "-5"},
		{"int32", 100000, "100000"},
		{"int64", 1 << 40, "1099511627776"},
		{"uint64", uint64(math.MaxUint64), "18446744073709551615"},
		{"double", 3.5, "3.5"},
		{"double integral", 2.0, "2.0"},
		{"double zero", 0.0, "0.0"},
		{"double big", 1e20, "100000000000000000000"},
		{"double 1e7", 1e7, "10000000"},
		{"double small", 0.5e-3, "0.0005000000000000000104083408558608425664715468883514404296875"},
		{"string", "a\"b\\c\n\x01é", `"a\"b\\c\n\u0001é"`},
		{"empty object", jsonObj{}, "{}"},
		{"empty array", []any{}, "[]"},
		{"object", jsonObj{{"a", 1}, {"bb", []any{true, nil, "x", 2.25}}, {"c", jsonObj{{"d", -70000}}}}, `{"a":1,"bb":[true,null,"x",2.25],"c":{"d":-70000}}`},
		{"decimal", jsonObj{{"price", jsonOpaqueVal{myTypeNewDecimal, dec}}}, `{"price":-123.4500}`},
		{"date", []any{jsonOpaqueVal{myTypeDate, packedDT(2024, 3, 9, 0, 0, 0, 0)}}, `["2024-03-09"]`},
		{"datetime", []any{jsonOpaqueVal{myTypeDateTime, packedDT(2024, 3, 9, 13, 5, 7, 120000)}}, `["2024-03-09 13:05:07.12"]`},
		{"time", []any{jsonOpaqueVal{myTypeTime, binary.LittleEndian.AppendUint64(nil, uint64(packTime(true, 1, 2, 3, 0)))}}, `["-01:02:03"]`},
		{"opaque blob", []any{jsonOpaqueVal{252, []byte("hi")}}, `["aGk="]`},
	}
	for _, tt := range tests {
		for _, large := range []bool{false, true} {
			name := tt.name
			if large {
				name += "/large"
			}
			t.Run(name, func(t *testing.T) {
				doc := encodeJSON(tt.v, large)
				got, err := appendJSONText([]byte("<"), doc)
				if err != nil {
					t.Fatalf("%v (doc %x)", err, doc)
				}
				if string(got) != "<"+tt.want {
					t.Errorf("got  %s\nwant %s", got[1:], tt.want)
				}
				for i := range doc {
					if _, err := appendJSONText(nil, doc[:i]); err == nil && i > 0 {
						// Some prefixes of scalars are complete values of their own; only containers must fail.
						if doc[0] <= jsonLargeArray {
							t.Errorf("prefix of %d bytes decoded without error", i)
						}
					}
				}
			})
		}
	}
	if got, err := appendJSONText(nil, nil); err != nil || string(got) != "null" {
		t.Errorf("empty document: %q, %v", got, err)
	}
}

func TestAppendJSONText_Deep(t *testing.T) {
	var v any = 1
	for range jsonMaxDepth + 5 {
		v = []any{v}
	}
	if _, err := appendJSONText(nil, encodeJSON(v, false)); !errors.Is(err, ErrCorruptEvent) {
		t.Errorf("err = %v, want ErrCorruptEvent", err)
	}
}

func TestAppendJavaDouble(t *testing.T) {
	for _, tt := range []struct {
		f    float64
		want string
	}{
		{1, "1.0"}, {-1.5, "-1.5"}, {0.001, "0.001"}, {9999999.5, "9999999.5"}, {0.1, "0.1"},
		{12345678.9, exactDecimal(12345678.9)}, {1.5e-7, exactDecimal(1.5e-7)},
		{-1e21, "-1000000000000000000000"}, {math.Copysign(0, -1), "-0.0"},
	} {
		if got := string(appendJavaDouble(nil, tt.f)); got != tt.want {
			t.Errorf("%v: got %s want %s", tt.f, got, tt.want)
		}
	}
}

// exactDecimal returns the exact decimal expansion of f (what Java's
// new BigDecimal(f).toPlainString() prints) via big.Float.
func exactDecimal(f float64) string {
	s := new(big.Float).SetFloat64(f).Text('f', 1100)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// TestZeroYearIsZeroDate: Debezium's RowDeserializers return null for a
// DATE or DATETIME whose year, month or day is zero; '0000-01-01' is a zero
// date (NULL or the epoch), not 719,528 days before 1970 (found by
// internal/conformance, temporals row 4).
func TestZeroYearIsZeroDate(t *testing.T) {
	day := uint32(0<<9 | 1<<5 | 1)
	if _, _, ok, err := decodeDate([]byte{byte(day), byte(day >> 8), byte(day >> 16)}); ok || err != nil {
		t.Errorf("DATE 0000-01-01: ok=%v err=%v, want a zero date", ok, err)
	}
	if _, _, ok, err := decodeDateTime2(encodeDateTime2(0, 1, 1, 10, 0, 0, 0, 0), 0); ok || err != nil {
		t.Errorf("DATETIME 0000-01-01 10:00:00: ok=%v err=%v, want a zero date", ok, err)
	}
	old := make([]byte, 8)
	binary.LittleEndian.PutUint64(old, 101100000) // 0000-01-01 10:00:00 as YYYYMMDDhhmmss
	if _, _, ok, err := decodeDateTime(old); ok || err != nil {
		t.Errorf("old DATETIME 0000-01-01 10:00:00: ok=%v err=%v, want a zero date", ok, err)
	}
}

// singleColumn plans a one-column table for decodeValue tests.
func singleColumn(t *testing.T, typ byte, meta uint16, col schema.Column) *rowDecoder {
	t.Helper()
	tm := &tableMap{db: "d", name: "t", types: []byte{typ}, metas: []uint16{meta}}
	plans, err := planTable(tm, &schema.Table{DB: "d", Name: "t", Columns: []schema.Column{col}}, "test:4")
	if err != nil {
		t.Fatal(err)
	}
	return &rowDecoder{cols: plans}
}

// TestDecodeYear: Debezium reads YEAR as Year.of(1900 + byte), so the zero
// year 0000 is 1900 (found by internal/conformance, temporals row 3).
func TestDecodeYear(t *testing.T) {
	d := singleColumn(t, mysql.MYSQL_TYPE_YEAR, 0, schema.Column{Name: "y", Type: schema.TypeYear, Nullable: true})
	for b, want := range map[byte]int64{0: 1900, 1: 1901, 124: 2024, 255: 2155} {
		var v event.Value
		if n, err := d.decodeValue(&v, &d.cols[0], []byte{b}); err != nil || n != 1 || v.Kind != event.KindInt || v.I != want {
			t.Errorf("YEAR byte %d: %+v n=%d err=%v, want %d", b, v, n, err, want)
		}
	}
}

// TestDecodeFixedBin: MariaDB INET4, INET6 and UUID arrive as BINARY(4/16)
// with trailing zeros stripped and become the text the server prints
// (found by internal/conformance, mariadb_types: they were TypeUnknown bytes).
func TestDecodeFixedBin(t *testing.T) {
	unhex := func(s string) []byte {
		b := make([]byte, len(s)/2)
		for i := range b {
			v, _ := strconv.ParseUint(s[2*i:2*i+2], 16, 8)
			b[i] = byte(v)
		}
		return b
	}
	tests := []struct {
		typ  schema.Type
		data string // hex, trailing zeros stripped as in a row image
		want string
	}{
		{schema.TypeInet4, "c0000292", "192.0.2.146"},
		{schema.TypeInet4, "0a", "10.0.0.0"},
		{schema.TypeInet4, "", "0.0.0.0"},
		{schema.TypeInet6, "20010db8000000000000000000000001", "2001:db8::1"},
		{schema.TypeInet6, "20010db8000000000000ff0000428329", "2001:db8::ff00:42:8329"},
		{schema.TypeInet6, "20010db8000000010001000100010001", "2001:db8::1:1:1:1:1"},
		{schema.TypeInet6, "00010000000000020000000000030004", "1::2:0:0:3:4"},
		{schema.TypeInet6, "00010000000000020000000000000003", "1:0:0:2::3"},
		{schema.TypeInet6, "fe800000000000000001", "fe80::1:0:0:0"},
		{schema.TypeInet6, "00000000000000000000ffffc0000201", "::ffff:192.0.2.1"},
		{schema.TypeInet6, "000000000000000000000000c0000201", "::192.0.2.1"},
		{schema.TypeInet6, "00000000000000000000000000000001", "::1"},
		{schema.TypeInet6, "", "::"},
		{schema.TypeUUID, "0102030405060708090a0b0c0d0e0f10", "01020304-0506-0708-090a-0b0c0d0e0f10"},
		{schema.TypeUUID, "ceb2897ca1cf11ed8dbd0403", "ceb2897c-a1cf-11ed-8dbd-040300000000"},
		{schema.TypeUUID, "", "00000000-0000-0000-0000-000000000000"},
	}
	for _, tt := range tests {
		n := 16
		if tt.typ == schema.TypeInet4 {
			n = 4
		}
		d := singleColumn(t, mysql.MYSQL_TYPE_STRING, uint16(mysql.MYSQL_TYPE_STRING)<<8|uint16(n),
			schema.Column{Name: "c", Type: tt.typ, Nullable: true})
		raw := unhex(tt.data)
		var v event.Value
		got, err := d.decodeValue(&v, &d.cols[0], append([]byte{byte(len(raw))}, raw...))
		if err != nil || got != 1+len(raw) || v.Kind != event.KindString || string(v.B) != tt.want {
			t.Errorf("type %d %s: %q (%v) n=%d err=%v, want %q", tt.typ, tt.data, v.B, v.Kind, got, err, tt.want)
		}
	}
	d := singleColumn(t, mysql.MYSQL_TYPE_STRING, uint16(mysql.MYSQL_TYPE_STRING)<<8|4, schema.Column{Name: "c", Type: schema.TypeInet4})
	var v event.Value
	if _, err := d.decodeValue(&v, &d.cols[0], []byte{5, 1, 2, 3, 4, 5}); !errors.Is(err, ErrCorruptEvent) {
		t.Errorf("5 bytes for INET4: err=%v, want ErrCorruptEvent", err)
	}
}

// putBigEndian writes v into n big-endian bytes.
func putBigEndian(v int64, n int) []byte {
	b := make([]byte, n)
	for i := n - 1; i >= 0; i-- {
		b[i] = byte(v)
		v >>= 8
	}
	return b
}

// TestDecodeHires: MariaDB 5.3 TIME(n), DATETIME(n) and TIMESTAMP(n)
// (mysql56_temporal_format=OFF) come as MYSQL_TYPE_TIME/DATETIME/TIMESTAMP
// with the record bytes; they were read as the 3/8/4-byte old formats and
// the row failed as truncated (found by internal/conformance, temporals_old).
func TestDecodeHires(t *testing.T) {
	for fsp := 1; fsp <= 6; fsp++ {
		shift := fracScale[fsp]
		for _, us := range []int64{0, -3723456000, 3020399999999 / shift * shift, -3020399000000, -1000000 / shift * shift} {
			zero := (3020399 + 1) * int64(usPerSec) / shift
			b := putBigEndian(us/shift+zero, timeHiresBytes[fsp])
			got, n, err := decodeTimeHires(b, fsp)
			if want := us / shift * shift; err != nil || n != len(b) || got != want {
				t.Errorf("TIME(%d) %d: got %d n=%d err=%v, want %d", fsp, us, got, n, err, want)
			}
		}
		pack := func(y, mo, d, h, mi, s, us int64) []byte {
			p := ((((((y*13+mo)*32+d)*24+h)*60+mi)*60+s)*1000000 + us) / shift
			return putBigEndian(p, datetimeHiresBytes[fsp])
		}
		frac := 500000 / shift * shift
		got, n, ok, err := decodeDateTimeHires(pack(1969, 12, 31, 23, 59, 59, frac), fsp)
		if want := -1000000 + frac; err != nil || !ok || n != datetimeHiresBytes[fsp] || got != want {
			t.Errorf("DATETIME(%d) 1969-12-31 23:59:59.5: got %d ok=%v n=%d err=%v, want %d", fsp, got, ok, n, err, want)
		}
		got, _, ok, err = decodeDateTimeHires(pack(9999, 12, 31, 23, 59, 59, 999999/shift*shift), fsp)
		if want := int64(253402300799999999) - 999999 + 999999/shift*shift; err != nil || !ok || got != want {
			t.Errorf("DATETIME(%d) 9999-12-31: got %d ok=%v err=%v, want %d", fsp, got, ok, err, want)
		}
		for _, zero := range [][]int64{{0, 0, 0}, {0, 1, 1}, {2020, 0, 1}} {
			if _, _, ok, err := decodeDateTimeHires(pack(zero[0], zero[1], zero[2], 10, 0, 0, 0), fsp); ok || err != nil {
				t.Errorf("DATETIME(%d) %v: ok=%v err=%v, want a zero date", fsp, zero, ok, err)
			}
		}
		ts := append(putBigEndian(1529501823, 4), putBigEndian(frac/shift, secPartBytes[fsp])...)
		got, n, ok, err = decodeTimestampHires(ts, fsp)
		if want := 1529501823*int64(usPerSec) + frac; err != nil || !ok || n != len(ts) || got != want {
			t.Errorf("TIMESTAMP(%d): got %d ok=%v n=%d err=%v, want %d", fsp, got, ok, n, err, want)
		}
		if _, _, ok, _ := decodeTimestampHires(make([]byte, 4+secPartBytes[fsp]), fsp); ok {
			t.Errorf("TIMESTAMP(%d) zero reported ok", fsp)
		}
	}
}

// TestPlanTable_CompressedColumn: a MariaDB COMPRESSED column (binlog types
// 140/141, unknown to go-mysql, whose metadata it then misreads) is refused
// as unsupported, naming the column, not reported as a schema mismatch.
func TestPlanTable_CompressedColumn(t *testing.T) {
	for _, typ := range []byte{mariadbVarcharCompressed, mariadbBlobCompressed} {
		tm := &tableMap{db: "d", name: "t", types: []byte{mysql.MYSQL_TYPE_LONG, typ}, metas: []uint16{0, 0}}
		tbl := &schema.Table{DB: "d", Name: "t", Columns: []schema.Column{
			{Name: "id", Type: schema.TypeInt}, {Name: "c", Type: schema.TypeVarchar, Charset: "utf8mb4"}}}
		_, err := planTable(tm, tbl, "test:4")
		if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "column c") || !strings.Contains(err.Error(), "COMPRESSED") {
			t.Errorf("type %d: %v, want ErrUnsupported naming column c and COMPRESSED", typ, err)
		}
	}
}

// TestDecodeSet65Members: MariaDB keeps a SET with duplicate members past
// the 64th (main/type_set, MDEV-32226), stored in 8 bytes: the table plans
// and bit 63 decodes to the 64th member; a SET with more members than its
// pack length holds below 8 bytes is still a mismatch.
func TestDecodeSet65Members(t *testing.T) {
	vals := make([]string, 65)
	for i := range vals {
		vals[i] = strconv.Itoa(i + 1)
	}
	meta := uint16(mysql.MYSQL_TYPE_SET)<<8 | 8
	d := singleColumn(t, mysql.MYSQL_TYPE_STRING, meta, schema.Column{Name: "f", Type: schema.TypeSet, Values: vals, Nullable: true})
	var v event.Value
	row := []byte{1, 0, 0, 0, 0, 0, 0, 0x80}
	if n, err := d.decodeValue(&v, &d.cols[0], row); err != nil || n != 8 || string(v.B) != "1,64" {
		t.Errorf("bits 0 and 63: %q n=%d err=%v, want \"1,64\"", v.B, n, err)
	}
	tm := &tableMap{db: "d", name: "t", types: []byte{mysql.MYSQL_TYPE_STRING}, metas: []uint16{uint16(mysql.MYSQL_TYPE_SET)<<8 | 1}}
	tbl := &schema.Table{DB: "d", Name: "t", Columns: []schema.Column{{Name: "f", Type: schema.TypeSet, Values: vals[:9]}}}
	if _, err := planTable(tm, tbl, "test:4"); err == nil || !strings.Contains(err.Error(), "9 SET members for 1 bytes") {
		t.Errorf("9 members in 1 byte: %v, want a mismatch", err)
	}
}
