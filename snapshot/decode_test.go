package snapshot

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/schema"
)

// decodeCol is a table column and the result column the server sends for it.
type decodeCol struct {
	col      schema.Column
	ft       byte
	unsigned bool
}

// decodeCols covers every column kind, each result type the binary
// protocol carries, and pairs plan leaves to ParseBinary.
var decodeCols = []decodeCol{
	{schema.Column{Name: "ti", Type: schema.TypeTinyInt, Nullable: true}, mysql.MYSQL_TYPE_TINY, false},
	{schema.Column{Name: "tiu", Type: schema.TypeTinyInt, Unsigned: true}, mysql.MYSQL_TYPE_TINY, true},
	{schema.Column{Name: "si", Type: schema.TypeSmallInt}, mysql.MYSQL_TYPE_SHORT, false},
	{schema.Column{Name: "siu", Type: schema.TypeSmallInt, Unsigned: true}, mysql.MYSQL_TYPE_SHORT, true},
	{schema.Column{Name: "mi", Type: schema.TypeMediumInt}, mysql.MYSQL_TYPE_INT24, false},
	{schema.Column{Name: "miu", Type: schema.TypeMediumInt, Unsigned: true}, mysql.MYSQL_TYPE_INT24, true},
	{schema.Column{Name: "i", Type: schema.TypeInt, Nullable: true}, mysql.MYSQL_TYPE_LONG, false},
	{schema.Column{Name: "iu", Type: schema.TypeInt, Unsigned: true}, mysql.MYSQL_TYPE_LONG, true},
	{schema.Column{Name: "bi", Type: schema.TypeBigInt}, mysql.MYSQL_TYPE_LONGLONG, false},
	{schema.Column{Name: "biu", Type: schema.TypeBigInt, Unsigned: true}, mysql.MYSQL_TYPE_LONGLONG, true},
	{schema.Column{Name: "y", Type: schema.TypeYear, Nullable: true}, mysql.MYSQL_TYPE_YEAR, true},
	{schema.Column{Name: "f", Type: schema.TypeFloat}, mysql.MYSQL_TYPE_FLOAT, false},
	{schema.Column{Name: "fd", Type: schema.TypeFloat}, mysql.MYSQL_TYPE_DOUBLE, false},
	{schema.Column{Name: "d", Type: schema.TypeDouble, Nullable: true}, mysql.MYSQL_TYPE_DOUBLE, false},
	{schema.Column{Name: "df", Type: schema.TypeDouble}, mysql.MYSQL_TYPE_FLOAT, false},
	{schema.Column{Name: "dec", Type: schema.TypeDecimal}, mysql.MYSQL_TYPE_NEWDECIMAL, false},
	{schema.Column{Name: "bit", Type: schema.TypeBit}, mysql.MYSQL_TYPE_BIT, true},
	{schema.Column{Name: "dt", Type: schema.TypeDate, Nullable: true}, mysql.MYSQL_TYPE_DATE, false},
	{schema.Column{Name: "dtnn", Type: schema.TypeDate}, mysql.MYSQL_TYPE_DATE, false},
	{schema.Column{Name: "tm", Type: schema.TypeTime}, mysql.MYSQL_TYPE_TIME, false},
	{schema.Column{Name: "dtm", Type: schema.TypeDateTime, Nullable: true}, mysql.MYSQL_TYPE_DATETIME, false},
	{schema.Column{Name: "dtmnn", Type: schema.TypeDateTime}, mysql.MYSQL_TYPE_DATETIME, false},
	{schema.Column{Name: "ts", Type: schema.TypeTimestamp}, mysql.MYSQL_TYPE_TIMESTAMP, false},
	{schema.Column{Name: "j", Type: schema.TypeJSON}, mysql.MYSQL_TYPE_BLOB, false},
	{schema.Column{Name: "c", Type: schema.TypeChar, Charset: "utf8mb4"}, mysql.MYSQL_TYPE_STRING, false},
	{schema.Column{Name: "vc", Type: schema.TypeVarchar, Charset: "utf8mb4", Nullable: true}, mysql.MYSQL_TYPE_VAR_STRING, false},
	{schema.Column{Name: "vb", Type: schema.TypeVarchar, Charset: "binary"}, mysql.MYSQL_TYPE_VAR_STRING, false},
	{schema.Column{Name: "tx", Type: schema.TypeText, Charset: "latin1"}, mysql.MYSQL_TYPE_BLOB, false},
	{schema.Column{Name: "bl", Type: schema.TypeBlob}, mysql.MYSQL_TYPE_BLOB, false},
	{schema.Column{Name: "e", Type: schema.TypeEnum, Charset: "utf8mb4"}, mysql.MYSQL_TYPE_STRING, false},
	{schema.Column{Name: "s", Type: schema.TypeSet, Charset: "utf8mb4"}, mysql.MYSQL_TYPE_STRING, false},
	{schema.Column{Name: "uuid", Type: schema.TypeUUID}, mysql.MYSQL_TYPE_STRING, false},
	{schema.Column{Name: "g", Type: schema.TypeGeometry}, mysql.MYSQL_TYPE_GEOMETRY, false},
	{schema.Column{Name: "x", Type: schema.TypeInt, Excluded: true}, mysql.MYSQL_TYPE_LONG, false},
	{schema.Column{Name: "xs", Type: schema.TypeVarchar, Excluded: true}, mysql.MYSQL_TYPE_VAR_STRING, false},
	{schema.Column{Name: "nul", Type: schema.TypeVarchar, Nullable: true}, mysql.MYSQL_TYPE_NULL, false},
}

// mismatchCols are result columns plan leaves to ParseBinary (a SELECT
// override returning another type): each is checked alone.
var mismatchCols = []decodeCol{
	{schema.Column{Name: "date_as_datetime", Type: schema.TypeDate}, mysql.MYSQL_TYPE_DATETIME, false},
	{schema.Column{Name: "varchar_as_date", Type: schema.TypeVarchar}, mysql.MYSQL_TYPE_DATE, false},
	{schema.Column{Name: "int_as_string", Type: schema.TypeInt}, mysql.MYSQL_TYPE_VAR_STRING, false},
	{schema.Column{Name: "int_as_double", Type: schema.TypeInt}, mysql.MYSQL_TYPE_DOUBLE, false},
	{schema.Column{Name: "double_as_int", Type: schema.TypeDouble}, mysql.MYSQL_TYPE_LONG, false},
	{schema.Column{Name: "string_as_int", Type: schema.TypeVarchar}, mysql.MYSQL_TYPE_LONGLONG, false},
	{schema.Column{Name: "decimal_as_unknown", Type: schema.TypeDecimal}, 0xf4, false},
}

func decodeSetup(cols []decodeCol) (*schema.Table, []mysql.Field) {
	tbl := &schema.Table{DB: "d", Name: "t"}
	fs := make([]mysql.Field, len(cols))
	for i, c := range cols {
		tbl.Columns = append(tbl.Columns, c.col)
		fs[i] = mysql.Field{Name: []byte(c.col.Name), Type: c.ft}
		if c.unsigned {
			fs[i].Flag = mysql.UNSIGNED_FLAG
		}
	}
	return tbl, fs
}

// fieldsOf returns fresh result columns (fields relabels them).
func fieldsOf(fs []mysql.Field) []*mysql.Field {
	out := make([]*mysql.Field, len(fs))
	for i := range fs {
		f := fs[i]
		out[i] = &f
	}
	return out
}

// randValue encodes a random value of a result column of type ft, nil
// for NULL: mostly what a server sends, sometimes not (out-of-range
// temporal fields, a length-encoded 0xFB).
func randValue(rng *rand.Rand, ft byte) []byte {
	if rng.IntN(8) == 0 {
		return nil
	}
	le := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		if rng.IntN(4) == 0 { // the edges
			v := byte(0)
			if rng.IntN(2) == 0 {
				v = 0xff
			}
			for i := range b {
				b[i] = v
			}
		}
		return b
	}
	switch ft {
	case mysql.MYSQL_TYPE_NULL:
		return []byte{}
	case mysql.MYSQL_TYPE_TINY:
		return le(1)
	case mysql.MYSQL_TYPE_SHORT, mysql.MYSQL_TYPE_YEAR:
		return le(2)
	case mysql.MYSQL_TYPE_INT24, mysql.MYSQL_TYPE_LONG, mysql.MYSQL_TYPE_FLOAT:
		return le(4)
	case mysql.MYSQL_TYPE_LONGLONG, mysql.MYSQL_TYPE_DOUBLE:
		return le(8)
	case mysql.MYSQL_TYPE_DATE:
		return binDateTime(rng.IntN(10001), rng.IntN(14), rng.IntN(33), 0, 0, 0, 0, []int{0, 4, 4, 4}[rng.IntN(4)])
	case mysql.MYSQL_TYPE_DATETIME, mysql.MYSQL_TYPE_TIMESTAMP:
		return binDateTime(rng.IntN(10001), rng.IntN(14), rng.IntN(33), rng.IntN(24), rng.IntN(61), rng.IntN(61),
			uint32(rng.IntN(1_000_001)), []int{0, 4, 7, 11}[rng.IntN(4)])
	case mysql.MYSQL_TYPE_TIME:
		return binTime(rng.IntN(2) == 0, uint32(rng.IntN(35)), rng.IntN(24), rng.IntN(61), rng.IntN(61),
			uint32(rng.IntN(1_000_001)), []int{0, 8, 12}[rng.IntN(3)])
	}
	if rng.IntN(50) == 0 {
		return []byte{0xfb} // ParseBinary reads it as NULL
	}
	n := rng.IntN(40)
	if rng.IntN(10) == 0 {
		n = 250 + rng.IntN(400) // a 0xFC length
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	var out []byte
	switch {
	case n < 251:
		out = []byte{byte(n)}
	case rng.IntN(3) == 0:
		out = []byte{0xfd, byte(n), byte(n >> 8), 0}
	case rng.IntN(2) == 0:
		out = append([]byte{0xfe}, binary.LittleEndian.AppendUint64(nil, uint64(n))...)
	default:
		out = []byte{0xfc, byte(n), byte(n >> 8)}
	}
	return append(out, b...)
}

func randRow(rng *rand.Rand, fs []mysql.Field) []byte {
	vals := make([][]byte, len(fs))
	for i := range fs {
		vals[i] = randValue(rng, fs[i].Type)
	}
	return binRow(vals...)
}

// viaParseBinary converts pkt as before decode: ParseBinary, then row.
func viaParseBinary(tbl *schema.Table, fs []mysql.Field, pkt []byte) (out []event.Value, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("ParseBinary panicked: %v", r)
		}
	}()
	c := newConverter(tbl)
	f := fieldsOf(fs)
	if err := c.fields(&mysql.Result{Resultset: &mysql.Resultset{Fields: f}}); err != nil {
		return nil, err
	}
	fv, err := mysql.RowData(pkt).ParseBinary(f, nil)
	if err != nil {
		return nil, err
	}
	out = make([]event.Value, len(tbl.Columns))
	return out, c.row(out, fv)
}

// viaDecode converts pkt with decode, the fields planned; direct says
// whether plan chose the direct path.
func viaDecode(tbl *schema.Table, fs []mysql.Field, pkt []byte) (out []event.Value, direct bool, err error) {
	c := newConverter(tbl)
	f := fieldsOf(fs)
	if err := c.fields(&mysql.Result{Resultset: &mysql.Resultset{Fields: f}}); err != nil {
		return nil, false, err
	}
	out = make([]event.Value, len(tbl.Columns))
	return out, c.direct, c.decode(out, pkt, f)
}

func sameValues(a, b []event.Value) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].Equal(b[i]) {
			return false
		}
	}
	return true
}

// TestDecode_AsParseBinary: decode gives the values (or the error) of
// ParseBinary then converter.row, for random rows of every column kind,
// directly; and for result columns of other types, through ParseBinary.
func TestDecode_AsParseBinary(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	tbl, fs := decodeSetup(decodeCols)
	failed := 0
	for range 20000 {
		pkt := randRow(rng, fs)
		want, werr := viaParseBinary(tbl, fs, pkt)
		got, direct, gerr := viaDecode(tbl, fs, pkt)
		if !direct {
			t.Fatal("plan left the table's own result types to ParseBinary")
		}
		if (werr == nil) != (gerr == nil) || werr != nil && werr.Error() != gerr.Error() || werr == nil && !sameValues(got, want) {
			if failed++; failed <= 5 {
				t.Errorf("row % x:\ndecode      %v %+v\nParseBinary %v %+v", pkt, gerr, got, werr, want)
			}
		}
	}
	for _, mc := range mismatchCols {
		tbl, fs := decodeSetup([]decodeCol{mc, decodeCols[0]})
		for range 200 {
			vals := [][]byte{randValue(rng, fs[0].Type), randValue(rng, fs[1].Type)}
			if fs[0].Type == 0xf4 {
				vals[0] = lenenc([]byte("1.5"))
			}
			pkt := binRow(vals...)
			want, werr := viaParseBinary(tbl, fs, pkt)
			got, direct, gerr := viaDecode(tbl, fs, pkt)
			if direct {
				t.Fatalf("%s: plan decodes it directly", mc.col.Name)
			}
			if (werr == nil) != (gerr == nil) || werr != nil && werr.Error() != gerr.Error() || werr == nil && !sameValues(got, want) {
				t.Fatalf("%s: row % x:\ndecode      %v %+v\nParseBinary %v %+v", mc.col.Name, pkt, gerr, got, werr, want)
			}
		}
	}
}

// TestDecode_Malformed: a packet cut anywhere is an error, not a panic.
func TestDecode_Malformed(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	tbl, fs := decodeSetup(decodeCols)
	for range 40 {
		pkt := randRow(rng, fs)
		// Any outcome but a panic: a cut may fall after the last value
		// that has bytes, and a row it decodes reads as ParseBinary's.
		for n := range len(pkt) {
			got, _, err := viaDecode(tbl, fs, pkt[:n])
			if err != nil {
				continue
			}
			if want, werr := viaParseBinary(tbl, fs, pkt[:n]); werr != nil || !sameValues(got, want) {
				t.Fatalf("row % x: decode %+v, ParseBinary %v %+v", pkt[:n], got, werr, want)
			}
		}
	}
	if _, _, err := viaDecode(tbl, fs, []byte{mysql.OK_HEADER}); err == nil {
		t.Error("a packet without its NULL bitmap decoded")
	}
}

// FuzzDecode: whatever the packet, decode does not panic, and a row it
// decodes, ParseBinary then row read to the same values.
func FuzzDecode(f *testing.F) {
	rng := rand.New(rand.NewPCG(1, 1))
	tbl, fs := decodeSetup(decodeCols)
	for range 20 {
		f.Add(randRow(rng, fs))
	}
	f.Fuzz(func(t *testing.T, pkt []byte) {
		got, _, gerr := viaDecode(tbl, fs, pkt)
		if gerr != nil {
			return
		}
		want, werr := viaParseBinary(tbl, fs, pkt)
		if werr != nil || !sameValues(got, want) {
			t.Fatalf("row % x:\ndecode      %+v\nParseBinary %v %+v", pkt, got, werr, want)
		}
	})
}

// BenchmarkDecode: one row of internal/bench's table, by decode and by
// ParseBinary then row.
func BenchmarkDecode(b *testing.B) {
	cols := []decodeCol{
		{schema.Column{Name: "id", Type: schema.TypeBigInt}, mysql.MYSQL_TYPE_LONGLONG, false},
		{schema.Column{Name: "a", Type: schema.TypeInt}, mysql.MYSQL_TYPE_LONG, false},
		{schema.Column{Name: "b", Type: schema.TypeVarchar, Nullable: true, Charset: "utf8mb4"}, mysql.MYSQL_TYPE_VAR_STRING, false},
		{schema.Column{Name: "c", Type: schema.TypeDecimal, Nullable: true}, mysql.MYSQL_TYPE_NEWDECIMAL, false},
		{schema.Column{Name: "d", Type: schema.TypeDateTime, Nullable: true}, mysql.MYSQL_TYPE_DATETIME, false},
		{schema.Column{Name: "born_us", Type: schema.TypeBigInt, Nullable: true}, mysql.MYSQL_TYPE_LONGLONG, false},
	}
	tbl, fs := decodeSetup(cols)
	pkt := binRow(binary.LittleEndian.AppendUint64(nil, 123456), binary.LittleEndian.AppendUint32(nil, 42),
		lenenc([]byte("name-123456")), lenenc([]byte("123456.56")),
		binDateTime(2026, 11, 21, 10, 0, 0, 456000, 11), binary.LittleEndian.AppendUint64(nil, 0))
	for _, direct := range []bool{true, false} {
		b.Run(fmt.Sprint("direct=", direct), func(b *testing.B) {
			c := newConverter(tbl)
			f := fieldsOf(fs)
			if err := c.fields(&mysql.Result{Resultset: &mysql.Resultset{Fields: f}}); err != nil {
				b.Fatal(err)
			}
			c.direct = direct
			dst := make([]event.Value, len(cols))
			b.ReportAllocs()
			for b.Loop() {
				c.buf.arena = c.buf.arena[:0]
				if err := c.decode(dst, pkt, f); err != nil {
					b.Fatal(err)
				}
			}
			if dst[0].I != 123456 || string(dst[2].B) != "name-123456" || math.IsNaN(float64(dst[4].I)) {
				b.Fatalf("%+v", dst)
			}
		})
	}
}
