package debeziumjson

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha3"
	"crypto/sha512"
	"encoding/binary"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/schema"
	"github.com/rivulet-cdc/rivulet/sink"
)

// This file is Debezium's column mappers (debezium-connector-common
// io/debezium/relational/mapping/ColumnMappers.java, MaskStrings.java,
// TruncateColumn.java): column.truncate.to.N.chars,
// column.mask.with.N.chars, column.mask.hash.<algorithm>.with.salt.<salt>
// and column.mask.hash.v2.<algorithm>.with.salt.<salt>. They apply to the
// value's columns only (TableSchemaBuilder builds the key without mappers),
// in snapshot and streaming alike; the first rule matching a column wins,
// rules being taken in ColumnMappers.create's order: truncate, mask, hash,
// hash v2.

type columnRule struct {
	cfg    sink.ColumnMapperConfig
	res    []*regexp.Regexp
	mask   []byte // mask chars: the JSON string of N '*'
	digest digestAlg
	salt   []byte
}

// colRule is a rule as it applies to one column.
type colRule struct {
	*columnRule
	active   bool // the value is converted (else only the schema changes)
	truncLen int  // hash: the column length the hex digest is cut to; 0 none
}

// digestAlg is a MessageDigest algorithm Go has.
type digestAlg uint8

const (
	digestNone digestAlg = iota
	digestMD5
	digestSHA1
	digestSHA224
	digestSHA256
	digestSHA384
	digestSHA512
	digestSHA512_224
	digestSHA512_256
	digestSHA3_224
	digestSHA3_256
	digestSHA3_384
	digestSHA3_512
)

// digests maps MessageDigest names (case-insensitive, with Java's aliases).
var digests = map[string]digestAlg{
	"MD5":   digestMD5,
	"SHA-1": digestSHA1, "SHA1": digestSHA1, "SHA": digestSHA1,
	"SHA-224": digestSHA224, "SHA224": digestSHA224,
	"SHA-256": digestSHA256, "SHA256": digestSHA256,
	"SHA-384": digestSHA384, "SHA384": digestSHA384,
	"SHA-512": digestSHA512, "SHA512": digestSHA512,
	"SHA-512/224": digestSHA512_224, "SHA512/224": digestSHA512_224,
	"SHA-512/256": digestSHA512_256, "SHA512/256": digestSHA512_256,
	"SHA3-224": digestSHA3_224, "SHA3-256": digestSHA3_256, "SHA3-384": digestSHA3_384, "SHA3-512": digestSHA3_512,
}

// sum writes the digest of b into out (one-shot functions: no allocation).
func (a digestAlg) sum(out *[64]byte, b []byte) []byte {
	switch a {
	case digestMD5:
		h := md5.Sum(b)
		return append(out[:0], h[:]...)
	case digestSHA1:
		h := sha1.Sum(b)
		return append(out[:0], h[:]...)
	case digestSHA224:
		h := sha256.Sum224(b)
		return append(out[:0], h[:]...)
	case digestSHA256:
		h := sha256.Sum256(b)
		return append(out[:0], h[:]...)
	case digestSHA384:
		h := sha512.Sum384(b)
		return append(out[:0], h[:]...)
	case digestSHA512:
		h := sha512.Sum512(b)
		return append(out[:0], h[:]...)
	case digestSHA512_224:
		h := sha512.Sum512_224(b)
		return append(out[:0], h[:]...)
	case digestSHA512_256:
		h := sha512.Sum512_256(b)
		return append(out[:0], h[:]...)
	case digestSHA3_224:
		h := sha3.Sum224(b)
		return append(out[:0], h[:]...)
	case digestSHA3_256:
		h := sha3.Sum256(b)
		return append(out[:0], h[:]...)
	case digestSHA3_384:
		h := sha3.Sum384(b)
		return append(out[:0], h[:]...)
	case digestSHA3_512:
		h := sha3.Sum512(b)
		return append(out[:0], h[:]...)
	}
	return out[:0]
}

// DigestSupported reports whether a Java MessageDigest algorithm name is available.
func DigestSupported(alg string) bool { _, ok := digests[strings.ToUpper(alg)]; return ok }

func compileColumnRules(cfgs []sink.ColumnMapperConfig) ([]columnRule, error) {
	var out []columnRule
	for _, kind := range []sink.ColumnMapperKind{sink.ColumnTruncate, sink.ColumnMaskChars, sink.ColumnMaskHash, sink.ColumnMaskHashV2} {
		for _, c := range cfgs {
			if c.Kind != kind {
				continue
			}
			r := columnRule{cfg: c}
			for _, p := range c.Columns {
				re, err := regexp.Compile(`(?i)^(?:` + p + `)$`)
				if err != nil {
					return nil, fmt.Errorf("%w: column mapper pattern %q: %w", sink.ErrConfig, p, err)
				}
				r.res = append(r.res, re)
			}
			switch kind {
			case sink.ColumnTruncate, sink.ColumnMaskChars:
				if c.N < 0 {
					return nil, fmt.Errorf("%w: column mapper length %d is negative", sink.ErrConfig, c.N)
				}
				r.mask = sink.AppendJSONString(nil, strings.Repeat("*", c.N))
			default:
				df := digests[strings.ToUpper(c.Algorithm)]
				if df == digestNone {
					return nil, fmt.Errorf("%w: hash algorithm %q is not supported; use MD5, SHA-1, SHA-224, SHA-256, SHA-384, SHA-512, SHA-512/224, SHA-512/256 or SHA3-224/256/384/512", sink.ErrConfig, c.Algorithm)
				}
				r.digest = df
				r.salt = []byte(c.Salt) // salt.getBytes(): UTF-8
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// ruleFor returns the first rule whose patterns match db.table.column.
func (x *transformer) ruleFor(t *schema.Table, c *schema.Column) *columnRule {
	if len(x.mappers) == 0 {
		return nil
	}
	id := t.DB + "." + t.Name + "." + c.Name
	for i := range x.mappers {
		for _, re := range x.mappers[i].res {
			if re.MatchString(id) {
				return &x.mappers[i]
			}
		}
	}
	return nil
}

// isStringColumn is MaskStrings.create's JDBC CHAR/VARCHAR/... test: the
// character types, ENUM and SET (MySqlAntlrDdlParser maps them to CHAR).
func isStringColumn(c *schema.Column) bool {
	switch c.Type {
	case schema.TypeChar, schema.TypeVarchar, schema.TypeText, schema.TypeEnum, schema.TypeSet:
		return true
	}
	return false
}

// forColumn applies the rule's schema change to e (alterFieldSchema) and
// returns how it converts the column's values.
func (r *columnRule) forColumn(e *jsonCol, c *schema.Column) *colRule {
	cr := &colRule{columnRule: r}
	params := make([][2]string, len(e.schema.Params()), len(e.schema.Params())+1)
	copy(params, e.schema.Params())
	length := debeziumLength(c)
	switch r.cfg.Kind {
	case sink.ColumnTruncate:
		// TruncateColumn.isTruncationPossible.
		if length < 0 || length > r.cfg.N {
			params = append(params, [2]string{"truncateLength", strconv.Itoa(r.cfg.N)})
			cr.active = true
		}
	default:
		params = append(params, [2]string{"masked", "true"})
		cr.active = isStringColumn(c)
		if r.cfg.Kind != sink.ColumnMaskChars && length > 0 {
			cr.truncLen = length
		}
	}
	*e.schema = e.schema.WithParams(params)
	return cr
}

// debeziumLength is Column.length() as Debezium's MySQL DDL parser sets it
// (ColumnDefinitionParserListener): ENUM 1, SET the members and commas,
// else the declared length; -1 (unknown) where Rivulet has none.
func debeziumLength(c *schema.Column) int {
	switch c.Type {
	case schema.TypeEnum:
		return 1
	case schema.TypeSet:
		return max(0, 2*len(c.Values)-1)
	}
	if c.Length <= 0 {
		return -1
	}
	return c.Length
}

// appendValue writes *v of column e through the mapper.
func (m *colRule) appendValue(dst []byte, e *jsonCol, v *event.Value) ([]byte, error) {
	if !m.active {
		return e.appendValue(dst, v)
	}
	switch m.cfg.Kind {
	case sink.ColumnMaskChars:
		// MaskingValueConverter returns the mask whatever the value, null too.
		return append(dst, m.mask...), nil
	case sink.ColumnMaskHash, sink.ColumnMaskHashV2:
		if v.Kind == event.KindNull {
			return append(dst, "null"...), nil
		}
		return m.appendHash(dst, v.B), nil
	}
	// Truncation: Strings are cut to N UTF-16 units, ByteBuffers (binary
	// columns in bytes mode) to N bytes; other values pass.
	if v.Kind == event.KindNull {
		return append(dst, "null"...), nil
	}
	switch e.kind {
	case sink.KindBytes:
		b := v.B
		if e.n > len(b) {
			p := make([]byte, e.n)
			copy(p, b)
			b = p
		}
		if len(b) > m.cfg.N {
			b = b[:m.cfg.N]
		}
		return sink.AppendBase64(dst, b), nil
	case sink.KindDecimalBytes, sink.KindUintDecimal, sink.KindBits:
		return e.appendValue(dst, v)
	}
	start := len(dst)
	dst, err := e.appendValue(dst, v)
	if err != nil || len(dst) == start || dst[start] != '"' {
		return dst, err
	}
	return truncateJSONString(dst, start, m.cfg.N), nil
}

// truncateJSONString cuts the JSON string at dst[start:] to n UTF-16 code
// units (String.substring(0, n)); a surrogate pair is not split.
func truncateJSONString(dst []byte, start, n int) []byte {
	s := dst[start+1 : len(dst)-1]
	units := 0
	for i := 0; i < len(s); {
		if units >= n {
			dst = dst[:start+1+i]
			return append(dst, '"')
		}
		w, u := 1, 1
		switch {
		case s[i] == '\\':
			w = 2
			if i+1 < len(s) && s[i+1] == 'u' {
				w = 6
				// A surrogate pair (a character outside the BMP) is
				// written as two escapes: one character of two units.
				if i+12 <= len(s) && (s[i+2] == 'D' || s[i+2] == 'd') && s[i+3] >= '8' && s[i+3] <= 'B' && s[i+6] == '\\' {
					w, u = 12, 2
				}
			}
		case s[i] >= utf8.RuneSelf:
			_, w = utf8.DecodeRune(s[i:])
			if w == 4 {
				u = 2
			}
		}
		if units+u > n {
			dst = dst[:start+1+i]
			return append(dst, '"')
		}
		units += u
		i += w
	}
	return dst
}

// appendHash writes MaskStrings.HashValueConverter's lower-case hex digest
// of salt + the value's bytes: V1 hashes the Java serialization of the
// String (ObjectOutputStream.writeObject), V2 its UTF-8 bytes (getBytes()
// with Java 18's UTF-8 default). The digest is cut to the column length
// when it has one (MaskStrings adds a TruncatingValueConverter).
func (m *colRule) appendHash(dst, s []byte) []byte {
	var in [512]byte
	data := append(in[:0], m.salt...)
	if m.cfg.Kind == sink.ColumnMaskHashV2 {
		data = append(data, s...)
	} else {
		data = appendJavaSerializedString(data, s)
	}
	var out [64]byte
	sum := m.digest.sum(&out, data)
	dst = append(dst, '"')
	n := 0
	for _, c := range sum {
		for _, h := range [2]byte{hexLower[c>>4], hexLower[c&0xF]} {
			if m.truncLen > 0 && n >= m.truncLen {
				return append(dst, '"')
			}
			dst = append(dst, h)
			n++
		}
	}
	return append(dst, '"')
}

const hexLower = "0123456789abcdef"

// appendJavaSerializedString writes what ObjectOutputStream.writeObject
// produces for a String: stream header, TC_STRING with a 2-byte length (or
// TC_LONGSTRING with 8 bytes above 65535) and the modified UTF-8 bytes
// (NUL as C0 80, characters outside the BMP as two 3-byte surrogates).
func appendJavaSerializedString(dst, s []byte) []byte {
	n := 0
	for _, r := range string(s) {
		switch {
		case r == 0:
			n += 2
		case r < 0x80:
			n++
		case r < 0x800:
			n += 2
		case r < 0x10000:
			n += 3
		default:
			n += 6
		}
	}
	dst = append(dst, 0xAC, 0xED, 0x00, 0x05)
	if n <= 0xFFFF {
		dst = append(dst, 0x74)
		dst = binary.BigEndian.AppendUint16(dst, uint16(n))
	} else {
		dst = append(dst, 0x7C)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	for _, r := range string(s) {
		switch {
		case r == 0:
			dst = append(dst, 0xC0, 0x80)
		case r < 0x80:
			dst = append(dst, byte(r))
		case r < 0x800:
			dst = append(dst, 0xC0|byte(r>>6), 0x80|byte(r&0x3F))
		case r < 0x10000:
			dst = append3(dst, r)
		default:
			r -= 0x10000
			dst = append3(dst, 0xD800+(r>>10))
			dst = append3(dst, 0xDC00+(r&0x3FF))
		}
	}
	return dst
}

func append3(dst []byte, r rune) []byte {
	return append(dst, 0xE0|byte(r>>12), 0x80|byte((r>>6)&0x3F), 0x80|byte(r&0x3F))
}

// sameMapped reports whether two values give the same mapped value.
func (m *colRule) sameMapped(e *jsonCol, a, b *event.Value) bool {
	if !m.active {
		return sameRaw(a, b)
	}
	if m.cfg.Kind == sink.ColumnMaskChars {
		return true
	}
	var x, y [256]byte
	xa, err1 := m.appendValue(x[:0], e, a)
	yb, err2 := m.appendValue(y[:0], e, b)
	return err1 == nil && err2 == nil && bytes.Equal(xa, yb)
}
