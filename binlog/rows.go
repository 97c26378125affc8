package binlog

import (
	"encoding/binary"
	"math"
	"math/bits"
	"strconv"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/schema"
)

// colPlan says how to decode one column of a row image: the binlog type and
// metadata decide how many bytes the value takes, the schema column decides
// which event.Kind it becomes.
type colPlan struct {
	typ      byte   // binlog type after resolving STRING's real type (ENUM, SET, STRING)
	meta     uint16 // TABLE_MAP metadata
	length   int    // STRING: declared byte length (decides 1- or 2-byte length prefix); ENUM/SET: packed size
	kind     event.Kind
	unsigned bool
	nullable bool
	skip     bool         // excluded column: walk over the bytes, emit NULL
	text     *textDecoder // non-UTF-8 text columns
	padTo    int          // BINARY(n): right-pad with 0x00 to n bytes
	prec     int          // DECIMAL precision
	scale    int          // DECIMAL scale
	fsp      int          // TIME2/DATETIME2/TIMESTAMP2 fractional digits; of the table for MariaDB 5.3 TIME/DATETIME/TIMESTAMP(n)
	values   [][]byte     // ENUM/SET members
	fbt      byte         // MariaDB INET4/INET6/UUID: fbtInet4, fbtInet6, fbtUUID; 0 otherwise
}

// MariaDB's fixed-size binary types, logged as BINARY(n) and printed as text.
const (
	fbtInet4 byte = iota + 1
	fbtInet6
	fbtUUID
)

// fixedBinFormats maps the schema types of MariaDB's fixed-size binary
// types to their formats.
var fixedBinFormats = map[schema.Type]byte{
	schema.TypeInet4: fbtInet4,
	schema.TypeInet6: fbtInet6,
	schema.TypeUUID:  fbtUUID,
}

// fixedBinSize is the byte size of a fixed-size binary format.
func fixedBinSize(f byte) int {
	if f == fbtInet4 {
		return 4
	}
	return 16
}

// appendFixedBin appends the text MariaDB prints for a value of a
// fixed-size binary type of n bytes (b holds them, trailing zeros possibly
// stripped by the row image). MariaDB packs UUID in the binlog in its
// in-memory (canonical) byte order (plugin/type_uuid/sql_type_uuid.h,
// UUID::pack), so the bytes read in order, as Debezium's
// MariaDbValueConverters.convertUuid does.
func appendFixedBin(dst, b []byte, f byte) ([]byte, error) {
	n := fixedBinSize(f)
	if len(b) > n {
		return dst, corrupt("%d bytes for a %d-byte column", len(b), n)
	}
	var v [16]byte
	copy(v[:], b)
	switch f {
	case fbtInet4:
		return appendIPv4(dst, v[:4]), nil
	case fbtInet6:
		return appendIPv6(dst, &v), nil
	}
	for i, c := range v {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			dst = append(dst, '-')
		}
		dst = append(dst, hexLower[c>>4], hexLower[c&0xF])
	}
	return dst, nil
}

const hexLower = "0123456789abcdef"

func appendIPv4(dst, b []byte) []byte {
	for i, c := range b[:4] {
		if i > 0 {
			dst = append(dst, '.')
		}
		dst = strconv.AppendUint(dst, uint64(c), 10)
	}
	return dst
}

// appendIPv6 prints an IPv6 address as MariaDB's Inet6::to_string does
// (sql_type_inet.cc): lower-case hex without leading zeros, the first
// longest run of zero groups as "::" (unlike RFC 5952, also a single zero
// group: 2001:db8::1:1:1:1:1), and an embedded IPv4
// address in dotted form for IPv4-compatible (::a.b.c.d) and IPv4-mapped
// (::ffff:a.b.c.d) addresses.
func appendIPv6(dst []byte, a *[16]byte) []byte {
	var w [8]uint16
	for i := range w {
		w[i] = uint16(a[2*i])<<8 | uint16(a[2*i+1])
	}
	gapPos, gapLen := -1, 0
	for i := 0; i < 8; {
		if w[i] != 0 {
			i++
			continue
		}
		j := i
		for j < 8 && w[j] == 0 {
			j++
		}
		if j-i > gapLen {
			gapPos, gapLen = i, j-i
		}
		i = j
	}
	if gapPos == 0 && (gapLen == 6 || gapLen == 5 && w[5] == 0xffff) {
		dst = append(dst, "::"...)
		if gapLen == 5 {
			dst = append(dst, "ffff:"...)
		}
		return appendIPv4(dst, a[12:16])
	}
	for i := 0; i < 8; i++ {
		if i == gapPos {
			dst = append(dst, "::"...)
			i += gapLen - 1
			continue
		}
		if i > 0 && i != gapPos+gapLen {
			dst = append(dst, ':')
		}
		dst = strconv.AppendUint(dst, uint64(w[i]), 16)
	}
	return dst
}

// rowDecoder decodes row images of one table version. It keeps an arena for
// bytes that must be produced (converted text, decimals, JSON): values point
// into the arena or straight into the event's data, which go-mysql allocates
// per packet and never reuses, so no per-row allocation is needed.
type rowDecoder struct {
	cols []colPlan
	// hidden counts the last plans that are not columns of the table
	// (MariaDB's long unique hash columns): decoded past, then dropped.
	hidden    int
	arena     []byte
	arenaHint int
	// While the after image of a PARTIAL_UPDATE_ROWS_EVENT row with
	// partial JSON values is decoded: the partial bits (one per JSON
	// column), the before image's columns bitmap and values.
	partialBits   []byte
	partialBefore []byte
	beforeRow     []event.Value
}

// jsonCols counts the table's JSON columns (the partial bits).
func (d *rowDecoder) jsonCols() int {
	n := 0
	for i := range d.cols {
		if d.cols[i].typ == mysql.MYSQL_TYPE_JSON {
			n++
		}
	}
	return n
}

// resetArena starts a new arena for a rows event of size bytes. The previous
// arena is left to the values that point into it.
func (d *rowDecoder) resetArena(size int) {
	d.arena = nil
	d.arenaHint = size
}

// grow makes room for at least n more bytes in the arena. Offsets taken
// before a grow are invalid after it; take them after.
func (d *rowDecoder) grow(n int) {
	if cap(d.arena)-len(d.arena) >= n {
		return
	}
	c := 2*cap(d.arena) + n
	if c < d.arenaHint {
		c = d.arenaHint
	}
	// A new backing array: values already handed out keep the old one alive.
	d.arena = make([]byte, 0, c)
}

// decodeImage decodes one row image from data into vals (len(vals) ==
// len(d.cols)). present is the columns-present bitmap of the rows event.
// Columns absent from the image (binlog_row_image=MINIMAL/NOBLOB) are NULL
// and reported through missing. It returns the bytes consumed.
func (d *rowDecoder) decodeImage(vals []event.Value, data, present []byte, missing *bool) (int, error) {
	ncols := len(d.cols)
	if len(present)*8 < ncols {
		return 0, corrupt("columns bitmap has %d bits for %d columns", len(present)*8, ncols)
	}
	npresent := 0
	for i := 0; i < ncols/8; i++ {
		npresent += bits.OnesCount8(present[i])
	}
	if r := ncols % 8; r != 0 {
		npresent += bits.OnesCount8(present[ncols/8] & (1<<r - 1))
	}
	nullLen := (npresent + 7) / 8
	if len(data) < nullLen {
		return 0, errTruncated
	}
	nulls := data[:nullLen]
	pos := nullLen
	ni := 0
	ji := -1 // index of the JSON column among the table's JSON columns
	for i := range d.cols {
		if d.partialBits != nil && d.cols[i].typ == mysql.MYSQL_TYPE_JSON {
			// The partial bit comes before the presence check: every JSON
			// column has one (Rows_log_event::print_verbose_one_row).
			ji++
			if d.partialBits[ji>>3]&(1<<(ji&7)) != 0 && present[i>>3]&(1<<(i&7)) != 0 {
				isNull := nulls[ni>>3]&(1<<(ni&7)) != 0
				ni++
				if isNull {
					vals[i] = event.Null
					continue
				}
				n, err := d.partialJSON(&vals[i], i, data[pos:])
				if err != nil {
					return 0, err
				}
				pos += n
				continue
			}
		}
		if present[i>>3]&(1<<(i&7)) == 0 {
			vals[i] = event.Null
			*missing = true
			continue
		}
		isNull := nulls[ni>>3]&(1<<(ni&7)) != 0
		ni++
		if isNull {
			vals[i] = event.Null
			continue
		}
		n, err := d.decodeValue(&vals[i], &d.cols[i], data[pos:])
		if err != nil {
			return 0, err
		}
		pos += n
	}
	return pos, nil
}

// decodeValue decodes one non-NULL value, returning the bytes it took.
func (d *rowDecoder) decodeValue(v *event.Value, c *colPlan, b []byte) (int, error) {
	switch c.typ {
	case mysql.MYSQL_TYPE_TINY:
		if len(b) < 1 {
			return 0, errTruncated
		}
		if c.unsigned {
			*v = event.Value{Kind: event.KindInt, I: int64(b[0])}
		} else {
			*v = event.Value{Kind: event.KindInt, I: int64(int8(b[0]))}
		}
		return d.intKind(v, c, 1)
	case mysql.MYSQL_TYPE_SHORT:
		if len(b) < 2 {
			return 0, errTruncated
		}
		u := binary.LittleEndian.Uint16(b)
		if c.unsigned {
			*v = event.Value{Kind: event.KindInt, I: int64(u)}
		} else {
			*v = event.Value{Kind: event.KindInt, I: int64(int16(u))}
		}
		return d.intKind(v, c, 2)
	case mysql.MYSQL_TYPE_INT24:
		if len(b) < 3 {
			return 0, errTruncated
		}
		u := uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16
		if c.unsigned {
			*v = event.Value{Kind: event.KindInt, I: int64(u)}
		} else {
			*v = event.Value{Kind: event.KindInt, I: int64(int32(u<<8) >> 8)}
		}
		return d.intKind(v, c, 3)
	case mysql.MYSQL_TYPE_LONG:
		if len(b) < 4 {
			return 0, errTruncated
		}
		u := binary.LittleEndian.Uint32(b)
		if c.unsigned {
			*v = event.Value{Kind: event.KindInt, I: int64(u)}
		} else {
			*v = event.Value{Kind: event.KindInt, I: int64(int32(u))}
		}
		return d.intKind(v, c, 4)
	case mysql.MYSQL_TYPE_LONGLONG:
		if len(b) < 8 {
			return 0, errTruncated
		}
		u := binary.LittleEndian.Uint64(b)
		if c.unsigned {
			*v = event.Value{Kind: event.KindUint, I: int64(u)}
		} else {
			*v = event.Value{Kind: event.KindInt, I: int64(u)}
		}
		return d.intKind(v, c, 8)
	case mysql.MYSQL_TYPE_YEAR:
		if len(b) < 1 {
			return 0, errTruncated
		}
		// Debezium reads YEAR as Year.of(1900 + byte) (RowDeserializers.
		// deserializeYear): the zero year 0000 comes out as 1900.
		*v = event.Value{Kind: event.KindInt, I: 1900 + int64(b[0])}
		return d.intKind(v, c, 1)
	case mysql.MYSQL_TYPE_FLOAT:
		if len(b) < 4 {
			return 0, errTruncated
		}
		if !c.skip {
			f := math.Float32frombits(binary.LittleEndian.Uint32(b))
			*v = event.Value{Kind: event.KindFloat, I: int64(math.Float64bits(float64(f)))}
		}
		return 4, nil
	case mysql.MYSQL_TYPE_DOUBLE:
		if len(b) < 8 {
			return 0, errTruncated
		}
		if !c.skip {
			*v = event.Value{Kind: event.KindDouble, I: int64(binary.LittleEndian.Uint64(b))}
		}
		return 8, nil
	case mysql.MYSQL_TYPE_NEWDECIMAL:
		size := decimalSize(c.prec, c.scale)
		if len(b) < size {
			return 0, errTruncated
		}
		if c.skip {
			return size, nil
		}
		d.grow(c.prec + 3)
		start := len(d.arena)
		var err error
		d.arena, _, err = appendDecimal(d.arena, b, c.prec, c.scale)
		if err != nil {
			return 0, err
		}
		*v = event.Value{Kind: event.KindDecimal, B: d.arena[start:len(d.arena):len(d.arena)]}
		return size, nil
	case mysql.MYSQL_TYPE_BIT:
		nbits := int(c.meta>>8)*8 + int(c.meta&0xFF)
		n := (nbits + 7) / 8
		if len(b) < n {
			return 0, errTruncated
		}
		if !c.skip {
			*v = event.Value{Kind: event.KindBits, B: b[:n:n]}
		}
		return n, nil
	case mysql.MYSQL_TYPE_DATE:
		days, n, ok, err := decodeDate(b)
		if err != nil {
			return 0, err
		}
		d.temporal(v, c, event.KindDate, days, ok)
		return n, nil
	case mysql.MYSQL_TYPE_TIME2:
		us, n, err := decodeTime2(b, c.fsp)
		if err != nil {
			return 0, err
		}
		d.temporal(v, c, event.KindTime, us, true)
		return n, nil
	case mysql.MYSQL_TYPE_TIME:
		decode := decodeTime
		if c.fsp > 0 { // MariaDB 5.3 TIME(n)
			decode = func(b []byte) (int64, int, error) { return decodeTimeHires(b, c.fsp) }
		}
		us, n, err := decode(b)
		if err != nil {
			return 0, err
		}
		d.temporal(v, c, event.KindTime, us, true)
		return n, nil
	case mysql.MYSQL_TYPE_DATETIME2:
		us, n, ok, err := decodeDateTime2(b, c.fsp)
		if err != nil {
			return 0, err
		}
		d.temporal(v, c, event.KindDateTime, us, ok)
		return n, nil
	case mysql.MYSQL_TYPE_DATETIME:
		decode := decodeDateTime
		if c.fsp > 0 { // MariaDB 5.3 DATETIME(n)
			decode = func(b []byte) (int64, int, bool, error) { return decodeDateTimeHires(b, c.fsp) }
		}
		us, n, ok, err := decode(b)
		if err != nil {
			return 0, err
		}
		d.temporal(v, c, event.KindDateTime, us, ok)
		return n, nil
	case mysql.MYSQL_TYPE_TIMESTAMP2:
		us, n, ok, err := decodeTimestamp2(b, c.fsp)
		if err != nil {
			return 0, err
		}
		d.temporal(v, c, event.KindTimestamp, us, ok)
		return n, nil
	case mysql.MYSQL_TYPE_TIMESTAMP:
		decode := decodeTimestamp
		if c.fsp > 0 { // MariaDB 5.3 TIMESTAMP(n)
			decode = func(b []byte) (int64, int, bool, error) { return decodeTimestampHires(b, c.fsp) }
		}
		us, n, ok, err := decode(b)
		if err != nil {
			return 0, err
		}
		d.temporal(v, c, event.KindTimestamp, us, ok)
		return n, nil
	case mysql.MYSQL_TYPE_ENUM:
		var idx, n int
		switch c.length {
		case 1:
			if len(b) < 1 {
				return 0, errTruncated
			}
			idx, n = int(b[0]), 1
		case 2:
			if len(b) < 2 {
				return 0, errTruncated
			}
			idx, n = int(binary.LittleEndian.Uint16(b)), 2
		default:
			return 0, corrupt("enum pack length %d", c.length)
		}
		if c.skip {
			return n, nil
		}
		switch {
		case idx == 0: // the empty-string error value MySQL stores for invalid input
			*v = event.Value{Kind: event.KindString, B: []byte{}}
		case idx <= len(c.values):
			*v = event.Value{Kind: event.KindString, B: c.values[idx-1]}
		default:
			return 0, corrupt("enum index %d beyond the %d members of the column", idx, len(c.values))
		}
		return n, nil
	case mysql.MYSQL_TYPE_SET:
		n := c.length
		if n < 1 || n > 8 {
			return 0, corrupt("set pack length %d", n)
		}
		if len(b) < n {
			return 0, errTruncated
		}
		if c.skip {
			return n, nil
		}
		var mask uint64
		for i := n - 1; i >= 0; i-- {
			mask = mask<<8 | uint64(b[i])
		}
		if bits.Len64(mask) > len(c.values) {
			return 0, corrupt("set bit %d beyond the %d members of the column", bits.Len64(mask)-1, len(c.values))
		}
		switch bits.OnesCount64(mask) {
		case 0:
			*v = event.Value{Kind: event.KindString, B: []byte{}}
		case 1:
			*v = event.Value{Kind: event.KindString, B: c.values[bits.TrailingZeros64(mask)]}
		default:
			total := 0
			for m := mask; m != 0; m &= m - 1 {
				total += len(c.values[bits.TrailingZeros64(m)]) + 1
			}
			d.grow(total)
			start := len(d.arena)
			for m := mask; m != 0; m &= m - 1 {
				if m != mask {
					d.arena = append(d.arena, ',')
				}
				d.arena = append(d.arena, c.values[bits.TrailingZeros64(m)]...)
			}
			*v = event.Value{Kind: event.KindString, B: d.arena[start:len(d.arena):len(d.arena)]}
		}
		return n, nil
	case mysql.MYSQL_TYPE_VARCHAR, mysql.MYSQL_TYPE_VAR_STRING:
		var l, n int
		if c.meta < 256 {
			if len(b) < 1 {
				return 0, errTruncated
			}
			l, n = int(b[0]), 1
		} else {
			if len(b) < 2 {
				return 0, errTruncated
			}
			l, n = int(binary.LittleEndian.Uint16(b)), 2
		}
		if len(b)-n < l {
			return 0, errTruncated
		}
		return n + l, d.stringValue(v, c, b[n:n+l])
	case mysql.MYSQL_TYPE_STRING:
		var l, n int
		if c.length < 256 {
			if len(b) < 1 {
				return 0, errTruncated
			}
			l, n = int(b[0]), 1
		} else {
			if len(b) < 2 {
				return 0, errTruncated
			}
			l, n = int(binary.LittleEndian.Uint16(b)), 2
		}
		if len(b)-n < l {
			return 0, errTruncated
		}
		return n + l, d.stringValue(v, c, b[n:n+l])
	case mysql.MYSQL_TYPE_BLOB, mysql.MYSQL_TYPE_GEOMETRY, mysql.MYSQL_TYPE_VECTOR, mysql.MYSQL_TYPE_JSON:
		val, n, err := blobPayload(b, c.meta)
		if err != nil {
			return 0, err
		}
		if c.typ == mysql.MYSQL_TYPE_JSON {
			if c.skip {
				return n, nil
			}
			d.grow(len(val)*2 + 16)
			start := len(d.arena)
			d.arena, err = appendJSONText(d.arena, val)
			if err != nil {
				return 0, err
			}
			*v = event.Value{Kind: event.KindJSON, B: d.arena[start:len(d.arena):len(d.arena)]}
			return n, nil
		}
		return n, d.stringValue(v, c, val)
	case mysql.MYSQL_TYPE_NULL:
		*v = event.Null
		return 0, nil
	}
	return 0, corrupt("column type %d", c.typ)
}

// intKind finishes an integer-like value: skipped columns become NULL.
func (d *rowDecoder) intKind(v *event.Value, c *colPlan, n int) (int, error) {
	if c.skip {
		*v = event.Null
	}
	return n, nil
}

// temporal stores a temporal value; zero dates become NULL for nullable
// columns and the epoch otherwise (Debezium's rule, DEBEZIUM-REFERENCE §3.3).
func (d *rowDecoder) temporal(v *event.Value, c *colPlan, k event.Kind, i int64, ok bool) {
	switch {
	case c.skip:
		*v = event.Null
	case ok:
		*v = event.Value{Kind: k, I: i}
	case c.nullable:
		*v = event.Null
	default:
		*v = event.Value{Kind: k}
	}
}

// stringValue stores a string-like value of the column's kind: text is
// converted to UTF-8, bytes are taken as they are (BINARY(n) padded to n).
func (d *rowDecoder) stringValue(v *event.Value, c *colPlan, b []byte) error {
	if c.skip {
		*v = event.Null
		return nil
	}
	switch {
	case c.fbt != 0:
		d.grow(40)
		start := len(d.arena)
		out, err := appendFixedBin(d.arena, b, c.fbt)
		if err != nil {
			return err
		}
		d.arena = out
		*v = event.Value{Kind: event.KindString, B: d.arena[start:len(d.arena):len(d.arena)]}
		return nil
	case c.kind == event.KindBytes && c.padTo > len(b):
		// MySQL strips trailing 0x00 of BINARY(n) in row images; the column
		// value is n bytes.
		d.grow(c.padTo)
		start := len(d.arena)
		d.arena = append(d.arena, b...)
		for range c.padTo - len(b) {
			d.arena = append(d.arena, 0)
		}
		*v = event.Value{Kind: event.KindBytes, B: d.arena[start:len(d.arena):len(d.arena)]}
		return nil
	case c.text == nil || c.kind == event.KindBytes || c.text.asciiCompat && asciiOnly(b):
		*v = event.Value{Kind: c.kind, B: b[:len(b):len(b)]}
		return nil
	}
	d.grow(len(b)*3 + 8)
	start := len(d.arena)
	out, err := c.text.appendUTF8(d.arena, b)
	if err != nil {
		return corrupt("convert %s text to UTF-8: %v", c.text.name, err)
	}
	// appendUTF8 may move the arena to a larger array; it copies what was
	// there, so start still marks the value.
	d.arena = out
	*v = event.Value{Kind: c.kind, B: d.arena[start:len(d.arena):len(d.arena)]}
	return nil
}

// blobPayload splits a BLOB-family value (BLOB, TEXT, GEOMETRY, VECTOR,
// JSON) into its payload and the bytes it takes: a little-endian length of
// meta bytes (1-4), then the payload.
func blobPayload(b []byte, meta uint16) (val []byte, n int, err error) {
	w := int(meta)
	if w < 1 || w > 4 {
		return nil, 0, corrupt("blob length width %d", w)
	}
	if len(b) < w {
		return nil, 0, errTruncated
	}
	var l uint64
	for k := w - 1; k >= 0; k-- {
		l = l<<8 | uint64(b[k])
	}
	if uint64(len(b)-w) < l {
		return nil, 0, errTruncated
	}
	return b[w : w+int(l)], w + int(l), nil
}
