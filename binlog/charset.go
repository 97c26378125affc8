package binlog

import (
	"errors"
	"math/bits"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/encoding/unicode/utf32"
	"golang.org/x/text/transform"

	"github.com/rivulet-cdc/rivulet/schema"
)

// textDecoder converts column bytes in a MySQL character set to UTF-8.
// A nil *textDecoder means the bytes are already UTF-8 (utf8mb3, utf8mb4)
// and pass through untouched.
type textDecoder struct {
	name string
	// single-byte character sets: the server's table (charset_tables.go), no state
	table *[256]rune
	// multi-byte character sets: a stateful transformer owned by one reader loop
	tr transform.Transformer
	// asciiCompat: bytes below 0x80 are ASCII characters, so pure-ASCII
	// input is already UTF-8 and need not be copied.
	asciiCompat bool
	// Multi-byte sets the server converts differently from tr for some
	// characters: seqLen holds the length of the sequence each byte starts,
	// fix the server's character for a two- or three-byte code where tr
	// differs.
	seqLen  *[256]uint8
	fix     func(code uint32) (rune, bool)
	fixLead *[256]bool // lead bytes of the codes fix knows (a cheap test before it)
}

// Sequence lengths of the multi-byte sets that have fixes, by first byte.
var (
	sjisLens  = seqLens(sjisLen)
	eucJPLens = seqLens(eucJPLen)
	dbcsLens  = seqLens(dbcsLen)
)

func seqLens(f func(c byte) int) *[256]uint8 {
	t := new([256]uint8)
	for c := range t {
		t[c] = uint8(f(byte(c)))
	}
	return t
}

func sjisLen(c byte) int {
	if c >= 0x81 && c <= 0x9F || c >= 0xE0 && c <= 0xFC {
		return 2
	}
	return 1
}

func eucJPLen(c byte) int {
	switch {
	case c == 0x8F:
		return 3 // JIS X 0212
	case c == 0x8E || c >= 0xA1 && c <= 0xFE:
		return 2
	}
	return 1
}

func dbcsLen(c byte) int { // GB2312, Big5: lead bytes 0x81-0xFE
	if c >= 0x81 && c <= 0xFE {
		return 2
	}
	return 1
}

// serverFix returns the fix function of a multi-byte set: the generated
// differences, then the user-defined area the server maps to private use
// characters (cp932 F040-F9FC; ujis and eucjpms F5A1-FEFE, then
// 8FF5A1-8FFEFE), which golang.org/x/text does not decode, and the codes
// outside the server's Big5 table, '?'.
func serverFix(name string) (func(code uint32) (rune, bool), *[256]bool) {
	m := multiByteFixes[name]
	leads := new([256]bool)
	for code := range m {
		leads[code>>(8*((bits.Len32(code)-1)/8))] = true
	}
	var pua func(lead, trail byte) (rune, bool)
	switch name {
	case "cp932":
		pua = func(lead, trail byte) (rune, bool) {
			if lead < 0xF0 || lead > 0xF9 || trail < 0x40 || trail > 0xFC || trail == 0x7F {
				return 0, false
			}
			t := rune(trail) - 0x40
			if trail > 0x7F {
				t--
			}
			return 0xE000 + rune(lead-0xF0)*188 + t, true
		}
		for c := 0xF0; c <= 0xF9; c++ {
			leads[c] = true
		}
	case "ujis", "eucjpms":
		pua = func(lead, trail byte) (rune, bool) {
			if lead < 0xF5 || lead > 0xFE || trail < 0xA1 || trail > 0xFE {
				return 0, false
			}
			return 0xE000 + rune(lead-0xF5)*94 + rune(trail-0xA1), true
		}
		for c := 0xF5; c <= 0xFE; c++ {
			leads[c] = true
		}
		leads[0x8F] = true
	case "big5":
		// The server's Big5 has characters for A140-A3BF, A440-C7FC and
		// C940-F9DC only; golang.org/x/text's (Big5-HKSCS) has more, which the
		// server prints as '?' (main/ctype_big5: "unassigned character
		// 0xC840").
		pua = func(lead, trail byte) (rune, bool) {
			code := uint16(lead)<<8 | uint16(trail)
			if code >= 0xA140 && code <= 0xA3BF || code >= 0xA440 && code <= 0xC7FC || code >= 0xC940 && code <= 0xF9DC {
				return 0, false
			}
			return '?', true
		}
		for c := 0x81; c <= 0xFE; c++ {
			if c < 0xA1 || c == 0xA3 || c >= 0xC7 && c <= 0xC9 || c >= 0xF9 {
				leads[c] = true
			}
		}
	}
	return func(code uint32) (rune, bool) {
		if r, ok := m[code]; ok {
			return r, true
		}
		if pua == nil {
			return 0, false
		}
		r, ok := pua(byte(code>>8), byte(code))
		if code>>16 == 0x8F && ok {
			r += 94 * 10 // JIS X 0212's user-defined area follows JIS X 0208's
		}
		return r, ok
	}, leads
}

// byteTables are singleByteCharsets expanded to one rune per byte.
var byteTables = func() map[string]*[256]rune {
	m := make(map[string]*[256]rune, len(singleByteCharsets))
	for name, chars := range singleByteCharsets {
		t := new([256]rune)
		i := 256 - utf8.RuneCountInString(chars)
		for b := 0; b < i; b++ {
			t[b] = rune(b)
		}
		for _, r := range chars {
			t[i] = r
			i++
		}
		m[name] = t
	}
	return m
}()

// charsetDecoder returns the decoder for a MySQL character set name. binary is
// true for the binary character set (the column holds bytes, not text).
func charsetDecoder(name string) (dec *textDecoder, binary bool, err error) {
	n := strings.ToLower(name)
	if t, ok := byteTables[n]; ok {
		return &textDecoder{name: n, table: t, asciiCompat: n != "swe7"}, false, nil
	}
	var enc encoding.Encoding
	switch n {
	case "", "utf8", "utf8mb3", "utf8mb4":
		return nil, false, nil
	case "binary":
		return nil, true, nil
	case "sjis", "cp932":
		enc = japanese.ShiftJIS
	case "ujis", "eucjpms":
		enc = japanese.EUCJP
	case "gbk", "gb2312":
		enc = simplifiedchinese.GBK
	case "gb18030":
		enc = simplifiedchinese.GB18030
	case "big5":
		enc = traditionalchinese.Big5
	case "euckr":
		enc = korean.EUCKR
	case "ucs2", "utf16":
		enc = unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM)
	case "utf16le":
		enc = unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM)
	case "utf32":
		enc = utf32.UTF32(utf32.BigEndian, utf32.IgnoreBOM)
	default:
		return nil, false, errors.New("character set " + name + " has no UTF-8 converter")
	}
	compat := n != "ucs2" && n != "utf16" && n != "utf16le" && n != "utf32"
	d := &textDecoder{name: n, tr: enc.NewDecoder(), asciiCompat: compat}
	switch n {
	case "sjis", "cp932":
		d.seqLen = sjisLens
	case "ujis", "eucjpms":
		d.seqLen = eucJPLens
	case "gb2312", "big5":
		d.seqLen = dbcsLens
	}
	if d.seqLen != nil {
		d.fix, d.fixLead = serverFix(n)
	}
	return d, false, nil
}

func init() {
	// The schema model reads ENUM/SET members written as bytes with the
	// same tables as the row values.
	schema.RegisterTextDecoder(func(charset string, b []byte) (string, bool) {
		d, bin, err := charsetDecoder(charset)
		if err != nil || bin || d == nil {
			return "", false
		}
		out, err := d.appendUTF8(make([]byte, 0, 2*len(b)), b)
		if err != nil {
			return "", false
		}
		return string(out), true
	})
}

// asciiOnly reports whether every byte of b is below 0x80.
func asciiOnly(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// appendUTF8 appends src converted to UTF-8 to dst.
func (d *textDecoder) appendUTF8(dst, src []byte) ([]byte, error) {
	if d.table != nil {
		for _, c := range src {
			if c < utf8.RuneSelf && d.asciiCompat {
				dst = append(dst, c)
				continue
			}
			dst = utf8.AppendRune(dst, d.table[c])
		}
		return dst, nil
	}
	if d.fix == nil {
		return d.transform(dst, src)
	}
	// Hand runs without a fixed character to the transformer, whole
	// sequences only.
	start := 0
	for i := 0; i < len(src); {
		n := int(d.seqLen[src[i]])
		if n > 1 && d.fixLead[src[i]] && i+n <= len(src) {
			code := uint32(src[i])<<8 | uint32(src[i+1])
			if n == 3 {
				code = code<<8 | uint32(src[i+2])
			}
			if r, ok := d.fix(code); ok {
				var err error
				if dst, err = d.transform(dst, src[start:i]); err != nil {
					return dst, err
				}
				dst = utf8.AppendRune(dst, r)
				i += n
				start = i
				continue
			}
		}
		i += n
	}
	return d.transform(dst, src[start:])
}

// transform appends src converted by the transformer to dst.
func (d *textDecoder) transform(dst, src []byte) ([]byte, error) {
	if len(src) == 0 {
		return dst, nil
	}
	d.tr.Reset()
	for {
		if cap(dst)-len(dst) < len(src)*2+8 {
			grown := make([]byte, len(dst), 2*cap(dst)+len(src)*3+16)
			copy(grown, dst)
			dst = grown
		}
		nDst, nSrc, err := d.tr.Transform(dst[len(dst):cap(dst)], src, true)
		dst = dst[:len(dst)+nDst]
		src = src[nSrc:]
		if err == nil {
			return dst, nil
		}
		if !errors.Is(err, transform.ErrShortDst) {
			return dst, err
		}
	}
}
