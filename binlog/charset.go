package binlog

import (
	"errors"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/encoding/unicode/utf32"
	"golang.org/x/text/transform"
)

// textDecoder converts column bytes in a MySQL character set to UTF-8.
// A nil *textDecoder means the bytes are already UTF-8 (utf8mb3, utf8mb4,
// ascii) and pass through untouched.
type textDecoder struct {
	name string
	// single-byte character sets: table lookup, no state
	cm *charmap.Charmap
	// multi-byte character sets: a stateful transformer owned by one reader loop
	tr transform.Transformer
	// asciiCompat: bytes below 0x80 are ASCII characters, so pure-ASCII
	// input is already UTF-8 and need not be copied.
	asciiCompat bool
}

// charsetDecoder returns the decoder for a MySQL character set name. binary is
// true for the binary character set (the column holds bytes, not text).
func charsetDecoder(name string) (dec *textDecoder, binary bool, err error) {
	n := strings.ToLower(name)
	var enc encoding.Encoding
	switch n {
	case "", "utf8", "utf8mb3", "utf8mb4", "ascii":
		return nil, false, nil
	case "binary":
		return nil, true, nil
	// MySQL's latin1 is Windows-1252 (with the five undefined code points
	// mapped to C1 controls), not ISO-8859-1.
	case "latin1":
		return &textDecoder{name: n, asciiCompat: true, cm: charmap.Windows1252}, false, nil
	case "latin2":
		return &textDecoder{name: n, asciiCompat: true, cm: charmap.ISO8859_2}, false, nil
	case "latin5":
		return &textDecoder{name: n, asciiCompat: true, cm: charmap.ISO8859_9}, false, nil
	case "latin7":
		return &textDecoder{name: n, asciiCompat: true, cm: charmap.ISO8859_13}, false, nil
	case "greek":
		return &textDecoder{name: n, asciiCompat: true, cm: charmap.ISO8859_7}, false, nil
	case "hebrew":
		return &textDecoder{name: n, asciiCompat: true, cm: charmap.ISO8859_8}, false, nil
	case "cp1250":
		return &textDecoder{name: n, asciiCompat: true, cm: charmap.Windows1250}, false, nil
	case "cp1251":
		return &textDecoder{name: n, asciiCompat: true, cm: charmap.Windows1251}, false, nil
	case "cp1256":
		return &textDecoder{name: n, asciiCompat: true, cm: charmap.Windows1256}, false, nil
	case "cp1257":
		return &textDecoder{name: n, asciiCompat: true, cm: charmap.Windows1257}, false, nil
	case "cp850":
		return &textDecoder{name: n, asciiCompat: true, cm: charmap.CodePage850}, false, nil
	case "cp852":
		return &textDecoder{name: n, asciiCompat: true, cm: charmap.CodePage852}, false, nil
	case "cp866":
		return &textDecoder{name: n, asciiCompat: true, cm: charmap.CodePage866}, false, nil
	case "koi8r":
		return &textDecoder{name: n, asciiCompat: true, cm: charmap.KOI8R}, false, nil
	case "koi8u":
		return &textDecoder{name: n, asciiCompat: true, cm: charmap.KOI8U}, false, nil
	case "macroman":
		return &textDecoder{name: n, asciiCompat: true, cm: charmap.Macintosh}, false, nil
	case "tis620":
		return &textDecoder{name: n, asciiCompat: true, cm: charmap.Windows874}, false, nil
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
	return &textDecoder{name: n, tr: enc.NewDecoder(), asciiCompat: compat}, false, nil
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
	if d.cm != nil {
		for _, c := range src {
			if c < utf8.RuneSelf {
				dst = append(dst, c)
				continue
			}
			dst = utf8.AppendRune(dst, d.cm.DecodeByte(c))
		}
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
