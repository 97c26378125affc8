package snapshot

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/schema"
)

func normKind(k event.Kind) event.Kind {
	if k == event.KindUint {
		return event.KindInt
	}
	return k
}

const (
	usPerSec = 1_000_000
	usPerDay = 86_400 * usPerSec
)

// colKind is the event.Kind the binlog decoder gives a column of this
// definition (binlog/tablemap.go planKind), so that a row read by the
// snapshot and the same row read from the binlog are equal values.
func colKind(c *schema.Column) event.Kind {
	switch c.Type {
	case schema.TypeTinyInt, schema.TypeSmallInt, schema.TypeMediumInt, schema.TypeInt, schema.TypeYear:
		return event.KindInt
	case schema.TypeBigInt:
		if c.Unsigned {
			return event.KindUint
		}
		return event.KindInt
	case schema.TypeFloat:
		return event.KindFloat
	case schema.TypeDouble:
		return event.KindDouble
	case schema.TypeDecimal:
		return event.KindDecimal
	case schema.TypeBit:
		return event.KindBits
	case schema.TypeDate:
		return event.KindDate
	case schema.TypeTime:
		return event.KindTime
	case schema.TypeDateTime:
		return event.KindDateTime
	case schema.TypeTimestamp:
		return event.KindTimestamp
	case schema.TypeJSON:
		return event.KindJSON
	case schema.TypeInet4, schema.TypeInet6, schema.TypeUUID:
		return event.KindString // the server's text, as the binlog decoder prints it
	case schema.TypeChar, schema.TypeVarchar, schema.TypeText, schema.TypeEnum, schema.TypeSet:
		if c.Charset == "binary" {
			return event.KindBytes
		}
		return event.KindString
	}
	return event.KindBytes // BINARY, VARBINARY, BLOB, GEOMETRY, unknown
}

// converter turns one result row into event values, copying bytes into the
// arenas of the chunk being read (buf).
type converter struct {
	cols  []schema.Column
	kinds []event.Kind
	// raw marks the result columns whose temporal values arrive as their
	// binary-protocol bytes (see fields) rather than as go-mysql's text.
	raw []bool
	buf *chunkBuf
	pkt bytes.Buffer // the packet of the row being read (readRows)
	day dayMemo
	// ops is how decode reads each result column, when direct (plan);
	// otherwise rows take ParseBinary into fv, then row.
	ops    []colOp
	direct bool
	fv     []mysql.FieldValue
}

func newConverter(t *schema.Table) *converter {
	c := &converter{cols: t.Columns, kinds: make([]event.Kind, len(t.Columns)), raw: make([]bool, len(t.Columns)), buf: &chunkBuf{}}
	for i := range t.Columns {
		c.kinds[i] = colKind(&t.Columns[i])
	}
	return c
}

// fields is the result-set callback of the row path, called once the column
// definitions are read and before any row. go-mysql formats every binary
// DATE, DATETIME, TIMESTAMP and TIME value as text with fmt.Appendf (an
// allocation and a sixth of the snapshot's CPU) that value then parses back.
// The binary protocol encodes those values as a length byte (0, 4, 7, 8, 11
// or 12) and the bytes: the layout of a length-encoded string. So fields
// relabels each temporal result column whose table column decodes as that
// temporal kind as a BLOB: go-mysql's ParseBinary then copies the bytes
// as they are, and value decodes them (rawDate, rawTime) into the very
// numbers the text would have given. Other columns, e.g. a SELECT override
// that returns a DATETIME for a DATE column, keep the text path. fields
// then plans how decode reads the rows (decode.go).
func (c *converter) fields(res *mysql.Result) error {
	clear(c.raw)
	c.direct = false
	if res.Resultset == nil || len(res.Fields) != len(c.raw) {
		return nil // row reports the mismatch
	}
	for i, f := range res.Fields {
		if rawTemporal(f.Type, c.kinds[i]) {
			c.raw[i] = true
			f.Type = mysql.MYSQL_TYPE_BLOB
		}
	}
	c.plan(res.Fields)
	return nil
}

// rawTemporal reports whether a result column of type ft decodes from its
// binary bytes into kind k exactly as from its text.
func rawTemporal(ft byte, k event.Kind) bool {
	switch ft {
	case mysql.MYSQL_TYPE_DATE, mysql.MYSQL_TYPE_NEWDATE:
		return k == event.KindDate
	case mysql.MYSQL_TYPE_DATETIME, mysql.MYSQL_TYPE_TIMESTAMP:
		return k == event.KindDateTime || k == event.KindTimestamp
	case mysql.MYSQL_TYPE_TIME:
		return k == event.KindTime
	}
	return false
}

// row converts fv into dst (len(dst) == len(cols)).
func (c *converter) row(dst []event.Value, fv []mysql.FieldValue) error {
	if len(fv) != len(c.cols) {
		return fmt.Errorf("%w: %d result columns for %d table columns", ErrValue, len(fv), len(c.cols))
	}
	for i := range fv {
		if err := c.value(&dst[i], i, &fv[i]); err != nil {
			return fmt.Errorf("column %s: %w", c.cols[i].Name, err)
		}
	}
	return nil
}

func (c *converter) value(v *event.Value, i int, f *mysql.FieldValue) error {
	col := &c.cols[i]
	if f.Type == mysql.FieldValueTypeNull || col.Excluded {
		*v = event.Null
		return nil
	}
	k := c.kinds[i]
	switch k {
	case event.KindInt, event.KindUint:
		switch f.Type {
		case mysql.FieldValueTypeSigned:
			*v = event.Value{Kind: k, I: f.AsInt64()}
		case mysql.FieldValueTypeUnsigned:
			*v = event.Value{Kind: k, I: int64(f.AsUint64())}
		default:
			return fmt.Errorf("%w: integer column returned %v", ErrValue, f.Value())
		}
		if col.Type == schema.TypeYear && v.I == 0 {
			v.I = 1900 // YEAR 0000: Debezium's Year.of(1900 + 0), as the binlog decoder
		}
	case event.KindFloat:
		*v = event.Value{Kind: k, I: int64(math.Float64bits(float64(float32(f.AsFloat64()))))}
	case event.KindDouble:
		*v = event.Value{Kind: k, I: int64(math.Float64bits(f.AsFloat64()))}
	case event.KindDate, event.KindDateTime, event.KindTimestamp:
		var n int64
		var ok bool
		var err error
		switch {
		case c.raw[i]:
			n, ok, err = rawDate(f.AsString(), k == event.KindDate, &c.day)
		case k == event.KindDate:
			n, ok, err = parseDate(f.AsString())
		default:
			n, ok, err = parseDateTime(f.AsString())
		}
		if err != nil {
			return err
		}
		c.temporal(v, col, k, n, ok)
	case event.KindTime:
		var us int64
		var err error
		if c.raw[i] {
			us, err = rawTime(f.AsString())
		} else {
			us, err = parseTime(f.AsString())
		}
		if err != nil {
			return err
		}
		*v = event.Value{Kind: k, I: us}
	default:
		if f.Type != mysql.FieldValueTypeString {
			return fmt.Errorf("%w: %v for a string-like column", ErrValue, f.Value())
		}
		*v = event.Value{Kind: k, B: c.buf.bytes(f.AsString())}
	}
	return nil
}

// temporal applies Debezium's zero-date rule as the binlog decoder does:
// NULL for a nullable column, the epoch otherwise.
func (c *converter) temporal(v *event.Value, col *schema.Column, k event.Kind, i int64, ok bool) {
	switch {
	case ok:
		*v = event.Value{Kind: k, I: i}
	case col.Nullable:
		*v = event.Null
	default:
		*v = event.Value{Kind: k}
	}
}

func digits(b []byte) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// parseDate reads "YYYY-MM-DD"; ok is false for zero or invalid dates (year,
// month or day zero), as binlog/temporal.go decodeDate.
func parseDate(b []byte) (days int64, ok bool, err error) {
	if len(b) < 10 || b[4] != '-' || b[7] != '-' {
		return 0, false, fmt.Errorf("%w: date %q", ErrValue, b)
	}
	y, ok1 := digits(b[0:4])
	m, ok2 := digits(b[5:7])
	d, ok3 := digits(b[8:10])
	if !ok1 || !ok2 || !ok3 {
		return 0, false, fmt.Errorf("%w: date %q", ErrValue, b)
	}
	if y == 0 || d == 0 || m == 0 || m > 12 {
		return 0, false, nil
	}
	return daysFromCivil(y, m, d), true, nil
}

// parseDateTime reads "YYYY-MM-DD HH:MM:SS[.ffffff]" as microseconds since
// the epoch, the wall clock read as UTC (the session runs at +00:00, so
// TIMESTAMP values come back in UTC).
func parseDateTime(b []byte) (us int64, ok bool, err error) {
	days, ok, err := parseDate(b)
	if err != nil || len(b) == 10 {
		return days * usPerDay, ok, err
	}
	if len(b) < 19 || b[10] != ' ' {
		return 0, false, fmt.Errorf("%w: datetime %q", ErrValue, b)
	}
	t, err := parseTime(b[11:])
	if err != nil {
		return 0, false, err
	}
	if !ok {
		return 0, false, nil
	}
	return days*usPerDay + t, true, nil
}

// parseTime reads "[-]H+:MM:SS[.ffffff]" as microseconds.
func parseTime(b []byte) (int64, error) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	bad := func() (int64, error) { return 0, fmt.Errorf("%w: time %q", ErrValue, b) }
	c1 := -1
	for i, c := range b {
		if c == ':' {
			c1 = i
			break
		}
	}
	if c1 < 1 || len(b) < c1+6 || b[c1+3] != ':' {
		return bad()
	}
	h, ok1 := digits(b[:c1])
	m, ok2 := digits(b[c1+1 : c1+3])
	s, ok3 := digits(b[c1+4 : c1+6])
	if !ok1 || !ok2 || !ok3 {
		return bad()
	}
	var frac int64
	if rest := b[c1+6:]; len(rest) > 0 {
		if rest[0] != '.' || len(rest) > 7 {
			return bad()
		}
		f, ok := digits(rest[1:])
		if !ok {
			return bad()
		}
		for range 7 - len(rest) {
			f *= 10
		}
		frac = f
	}
	us := ((h*60+m)*60+s)*usPerSec + frac
	if neg {
		us = -us
	}
	return us, nil
}

// rawDate decodes a binary-protocol DATE (date set) or DATETIME/TIMESTAMP
// value (length 0, 4, 7 or 11: year uint16, month, day, hour, minute,
// second bytes, microseconds uint32, all little-endian) as days or as
// microseconds since the epoch, with ok false for zero or invalid dates:
// what parseDate or parseDateTime return for go-mysql's text of it. A
// field the text could not carry (a year past 9999, a month, day, minute
// or second past 99, microseconds past 999999) is an error, as its text
// would not parse; the server sends none of them.
func rawDate(b []byte, date bool, memo *dayMemo) (int64, bool, error) {
	var y, mo, d, h, mi, s, us int64
	switch {
	case len(b) == 0:
	case len(b) == 4 || !date && (len(b) == 7 || len(b) == 11):
		y, mo, d = int64(binary.LittleEndian.Uint16(b)), int64(b[2]), int64(b[3])
		if len(b) >= 7 {
			h, mi, s = int64(b[4]), int64(b[5]), int64(b[6])
		}
		if len(b) == 11 {
			us = int64(binary.LittleEndian.Uint32(b[7:]))
		}
	default:
		return 0, false, fmt.Errorf("%w: binary date of %d bytes", ErrValue, len(b))
	}
	if y > 9999 || mo > 99 || d > 99 || mi > 99 || s > 99 || us >= usPerSec {
		return 0, false, fmt.Errorf("%w: binary date % x", ErrValue, b)
	}
	if y == 0 || d == 0 || mo == 0 || mo > 12 {
		return 0, false, nil
	}
	days := memo.days(y, mo, d)
	if date {
		return days, true, nil
	}
	return days*usPerDay + ((h*60+mi)*60+s)*usPerSec + us, true, nil
}

// rawTime decodes a binary-protocol TIME value (length 0, 8 or 12: sign
// byte, days uint32, hour, minute, second bytes, microseconds uint32) as
// microseconds, what parseTime returns for go-mysql's text of it (which
// reads only the low byte of the days; the server sends at most 34).
func rawTime(b []byte) (int64, error) {
	if len(b) == 0 {
		return 0, nil
	}
	if len(b) != 8 && len(b) != 12 {
		return 0, fmt.Errorf("%w: binary time of %d bytes", ErrValue, len(b))
	}
	h := int64(binary.LittleEndian.Uint32(b[1:]))*24 + int64(b[5])
	mi, s := int64(b[6]), int64(b[7])
	var us int64
	if len(b) == 12 {
		us = int64(binary.LittleEndian.Uint32(b[8:]))
	}
	if mi > 99 || s > 99 || us >= usPerSec {
		return 0, fmt.Errorf("%w: binary time % x", ErrValue, b)
	}
	us += ((h*60+mi)*60 + s) * usPerSec
	if b[0] == 1 {
		us = -us
	}
	return us, nil
}

// dayMemo remembers the last date rawDate converted to days: the rows of
// a chunk, in key order, mostly share their dates (daysFromCivil was a
// twentieth of the read side's CPU).
type dayMemo struct{ key, val int64 }

// days returns daysFromCivil(y, m, d) for a date rawDate checked (year
// 1-9999, month 1-12, day 1-99).
func (c *dayMemo) days(y, m, d int64) int64 {
	if k := y*10000 + m*100 + d; k != c.key {
		c.key, c.val = k, daysFromCivil(y, m, d)
	}
	return c.val
}

// daysFromCivil returns days since 1970-01-01 of a proleptic Gregorian
// date (Howard Hinnant's algorithm), as binlog/temporal.go.
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y
	if era < 0 {
		era -= 399
	}
	era /= 400
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}
