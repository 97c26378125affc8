package binlog

import (
	"errors"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/schema"
)

// valueCase is one column shape of the value fuzzer: its TABLE_MAP type and
// metadata, its schema column, and one valid encoded value (seed).
type valueCase struct {
	name string
	typ  byte
	meta uint16
	col  schema.Column
	seed []byte
}

// valueCases covers every binlog type the decoder reads, with the
// metadata variants that change how many bytes a value takes.
func valueCases(tb testing.TB) []valueCase {
	str := func(typ byte, n int) uint16 { return uint16(typ)<<8 | uint16(n) }
	lp := func(n int, b []byte) []byte { // little-endian length prefix of n bytes
		out := make([]byte, n, n+len(b))
		for i := range n {
			out[i] = byte(len(b) >> (8 * i))
		}
		return append(out, b...)
	}
	doc := encodeJSON(jsonObj{{"k", []any{1, "x", nil, 2.5, jsonObj{{"n", true}}}}}, false)
	day := uint32(2024<<9 | 5<<5 | 17)
	cases := []valueCase{
		{"tiny", mysql.MYSQL_TYPE_TINY, 0, schema.Column{Type: schema.TypeTinyInt}, []byte{0x80}},
		{"tiny unsigned", mysql.MYSQL_TYPE_TINY, 0, schema.Column{Type: schema.TypeTinyInt, Unsigned: true}, []byte{0xFF}},
		{"short", mysql.MYSQL_TYPE_SHORT, 0, schema.Column{Type: schema.TypeSmallInt}, []byte{0, 0x80}},
		{"int24", mysql.MYSQL_TYPE_INT24, 0, schema.Column{Type: schema.TypeMediumInt}, []byte{0, 0, 0x80}},
		{"int24 unsigned", mysql.MYSQL_TYPE_INT24, 0, schema.Column{Type: schema.TypeMediumInt, Unsigned: true}, []byte{0xFF, 0xFF, 0xFF}},
		{"long", mysql.MYSQL_TYPE_LONG, 0, schema.Column{Type: schema.TypeInt}, []byte{1, 2, 3, 4}},
		{"longlong unsigned", mysql.MYSQL_TYPE_LONGLONG, 0, schema.Column{Type: schema.TypeBigInt, Unsigned: true}, []byte{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}},
		{"year", mysql.MYSQL_TYPE_YEAR, 0, schema.Column{Type: schema.TypeYear}, []byte{124}},
		{"float", mysql.MYSQL_TYPE_FLOAT, 4, schema.Column{Type: schema.TypeFloat}, []byte{0, 0, 0xC0, 0x3F}},
		{"double", mysql.MYSQL_TYPE_DOUBLE, 8, schema.Column{Type: schema.TypeDouble}, []byte{0, 0, 0, 0, 0, 0, 0xF8, 0x3F}},
		{"decimal(10,2)", mysql.MYSQL_TYPE_NEWDECIMAL, 10<<8 | 2, schema.Column{Type: schema.TypeDecimal, Length: 10, Scale: 2}, encodeDecimal(tb, "-1234.50", 10, 2)},
		{"decimal(65,30)", mysql.MYSQL_TYPE_NEWDECIMAL, 65<<8 | 30, schema.Column{Type: schema.TypeDecimal, Length: 65, Scale: 30},
			encodeDecimal(tb, "12345678901234567890123456789012345.123456789012345678901234567890", 65, 30)},
		{"decimal(5,5)", mysql.MYSQL_TYPE_NEWDECIMAL, 5<<8 | 5, schema.Column{Type: schema.TypeDecimal, Length: 5, Scale: 5}, encodeDecimal(tb, "0.12345", 5, 5)},
		{"bit(1)", mysql.MYSQL_TYPE_BIT, 1, schema.Column{Type: schema.TypeBit, Length: 1}, []byte{1}},
		{"bit(12)", mysql.MYSQL_TYPE_BIT, 1<<8 | 4, schema.Column{Type: schema.TypeBit, Length: 12}, []byte{0x0A, 0xBC}},
		{"bit(64)", mysql.MYSQL_TYPE_BIT, 8 << 8, schema.Column{Type: schema.TypeBit, Length: 64}, []byte{1, 2, 3, 4, 5, 6, 7, 8}},
		{"date", mysql.MYSQL_TYPE_DATE, 0, schema.Column{Type: schema.TypeDate, Nullable: true}, []byte{byte(day), byte(day >> 8), byte(day >> 16)}},
		{"time old", mysql.MYSQL_TYPE_TIME, 0, schema.Column{Type: schema.TypeTime}, []byte{0x7F, 0xF6, 0xFF}},
		{"datetime old", mysql.MYSQL_TYPE_DATETIME, 0, schema.Column{Type: schema.TypeDateTime}, []byte{0x40, 0x2B, 0x8C, 0x4B, 0x66, 0x12, 0, 0}},
		{"timestamp old", mysql.MYSQL_TYPE_TIMESTAMP, 0, schema.Column{Type: schema.TypeTimestamp}, []byte{1, 2, 3, 4}},
		{"enum 1", mysql.MYSQL_TYPE_STRING, str(mysql.MYSQL_TYPE_ENUM, 1), schema.Column{Type: schema.TypeEnum, Values: []string{"a", "b"}}, []byte{2}},
		{"enum 2", mysql.MYSQL_TYPE_STRING, str(mysql.MYSQL_TYPE_ENUM, 2), schema.Column{Type: schema.TypeEnum, Values: make([]string, 300)}, []byte{0x2C, 1}},
		{"set 1", mysql.MYSQL_TYPE_STRING, str(mysql.MYSQL_TYPE_SET, 1), schema.Column{Type: schema.TypeSet, Values: []string{"x", "y", "z"}}, []byte{5}},
		{"set 8", mysql.MYSQL_TYPE_STRING, str(mysql.MYSQL_TYPE_SET, 8), schema.Column{Type: schema.TypeSet, Values: make([]string, 64)}, []byte{1, 0, 0, 0, 0, 0, 0, 0x80}},
		{"varchar utf8mb4", mysql.MYSQL_TYPE_VARCHAR, 80, schema.Column{Type: schema.TypeVarchar, Charset: "utf8mb4"}, lp(1, []byte("héllo"))},
		{"varchar 2-byte length", mysql.MYSQL_TYPE_VARCHAR, 1200, schema.Column{Type: schema.TypeVarchar, Charset: "utf8mb4"}, lp(2, []byte("abc"))},
		{"varchar latin1", mysql.MYSQL_TYPE_VARCHAR, 20, schema.Column{Type: schema.TypeVarchar, Charset: "latin1"}, lp(1, []byte{'G', 0xF6, 0x80})},
		{"varchar cp1251", mysql.MYSQL_TYPE_VARCHAR, 20, schema.Column{Type: schema.TypeVarchar, Charset: "cp1251"}, lp(1, []byte{0xCF, 0xF0})},
		{"varchar sjis", mysql.MYSQL_TYPE_VARCHAR, 40, schema.Column{Type: schema.TypeVarchar, Charset: "sjis"}, lp(1, []byte{0x82, 0xB1, 0x82})},
		{"varchar gbk", mysql.MYSQL_TYPE_VARCHAR, 40, schema.Column{Type: schema.TypeVarchar, Charset: "gbk"}, lp(1, []byte{0xC4, 0xE3, 0xBA})},
		{"varchar ujis", mysql.MYSQL_TYPE_VARCHAR, 40, schema.Column{Type: schema.TypeVarchar, Charset: "ujis"}, lp(1, []byte{0x8F, 0xF5, 0xA1, 0xA1, 0xC1, 0x8F})},
		{"varchar cp932", mysql.MYSQL_TYPE_VARCHAR, 40, schema.Column{Type: schema.TypeVarchar, Charset: "cp932"}, lp(1, []byte{0xF0, 0x40, 0x81})},
		{"varchar big5", mysql.MYSQL_TYPE_VARCHAR, 40, schema.Column{Type: schema.TypeVarchar, Charset: "big5"}, lp(1, []byte{0xA1, 0x45, 0xA4})},
		{"varchar swe7", mysql.MYSQL_TYPE_VARCHAR, 40, schema.Column{Type: schema.TypeVarchar, Charset: "swe7"}, lp(1, []byte{'[', 0xFF})},
		{"varchar utf16", mysql.MYSQL_TYPE_VARCHAR, 40, schema.Column{Type: schema.TypeVarchar, Charset: "utf16"}, lp(1, []byte{0xD8, 0x3D, 0xDE})},
		{"varbinary", mysql.MYSQL_TYPE_VARCHAR, 16, schema.Column{Type: schema.TypeVarbinary, Charset: "binary"}, lp(1, []byte{0, 0xFF})},
		{"char utf8mb4", mysql.MYSQL_TYPE_STRING, str(mysql.MYSQL_TYPE_STRING, 40), schema.Column{Type: schema.TypeChar, Charset: "utf8mb4"}, lp(1, []byte("ab"))},
		{"char 2-byte length", mysql.MYSQL_TYPE_STRING, 0xCE<<8 | 0xFC, schema.Column{Type: schema.TypeChar, Charset: "utf8mb4"}, lp(2, []byte("ab"))},
		{"binary(8)", mysql.MYSQL_TYPE_STRING, str(mysql.MYSQL_TYPE_STRING, 8), schema.Column{Type: schema.TypeBinary, Charset: "binary"}, lp(1, []byte{1, 2})},
		{"inet4", mysql.MYSQL_TYPE_STRING, str(mysql.MYSQL_TYPE_STRING, 4), schema.Column{Type: schema.TypeInet4}, lp(1, []byte{10, 0, 0, 1})},
		{"inet6", mysql.MYSQL_TYPE_STRING, str(mysql.MYSQL_TYPE_STRING, 16), schema.Column{Type: schema.TypeInet6}, lp(1, []byte{0x20, 0x01, 0x0d, 0xb8})},
		{"uuid", mysql.MYSQL_TYPE_STRING, str(mysql.MYSQL_TYPE_STRING, 16), schema.Column{Type: schema.TypeUUID}, lp(1, []byte{1, 2, 3})},
		{"tinytext latin1", mysql.MYSQL_TYPE_BLOB, 1, schema.Column{Type: schema.TypeText, Charset: "latin1"}, lp(1, []byte{0xE9})},
		{"text gbk", mysql.MYSQL_TYPE_BLOB, 2, schema.Column{Type: schema.TypeText, Charset: "gbk"}, lp(2, []byte{0xC4, 0xE3})},
		{"mediumblob", mysql.MYSQL_TYPE_BLOB, 3, schema.Column{Type: schema.TypeBlob, Charset: "binary"}, lp(3, []byte{1, 2, 3})},
		{"longtext mariadb json", mysql.MYSQL_TYPE_BLOB, 4, schema.Column{Type: schema.TypeJSON, Charset: "utf8mb4"}, lp(4, []byte(`{"a":1}`))},
		{"mysql json", mysql.MYSQL_TYPE_JSON, 4, schema.Column{Type: schema.TypeJSON}, lp(4, doc)},
		{"geometry", mysql.MYSQL_TYPE_GEOMETRY, 4, schema.Column{Type: schema.TypeGeometry}, lp(4, make([]byte, 25))},
	}
	for fsp := range 7 {
		cases = append(cases,
			valueCase{"time2", mysql.MYSQL_TYPE_TIME2, uint16(fsp), schema.Column{Type: schema.TypeTime, FSP: fsp}, encodeTime2(packTime(true, 838, 59, 58, 999999/int64(pow10[6-fsp])*int64(pow10[6-fsp])), fsp)},
			valueCase{"datetime2", mysql.MYSQL_TYPE_DATETIME2, uint16(fsp), schema.Column{Type: schema.TypeDateTime, FSP: fsp}, encodeDateTime2(2024, 5, 17, 10, 11, 12, 0, fsp)},
			valueCase{"timestamp2", mysql.MYSQL_TYPE_TIMESTAMP2, uint16(fsp), schema.Column{Type: schema.TypeTimestamp, FSP: fsp, Nullable: true}, append([]byte{0x5B, 0x2A, 0x56, 0x7F}, make([]byte, (fsp+1)/2)...)},
		)
	}
	for fsp := 1; fsp <= 6; fsp++ { // MariaDB 5.3 formats: no metadata, the table's precision
		cases = append(cases,
			valueCase{"time hires", mysql.MYSQL_TYPE_TIME, 0, schema.Column{Type: schema.TypeTime, FSP: fsp}, make([]byte, timeHiresBytes[fsp])},
			valueCase{"datetime hires", mysql.MYSQL_TYPE_DATETIME, 0, schema.Column{Type: schema.TypeDateTime, FSP: fsp, Nullable: true}, make([]byte, datetimeHiresBytes[fsp])},
			valueCase{"timestamp hires", mysql.MYSQL_TYPE_TIMESTAMP, 0, schema.Column{Type: schema.TypeTimestamp, FSP: fsp}, make([]byte, 4+secPartBytes[fsp])},
		)
	}
	for i := range cases {
		cases[i].col.Name = "c"
		cases[i].col.TypeName = cases[i].name
	}
	return cases
}

// valueDecoders plans one single-column decoder per value case.
func valueDecoders(tb testing.TB) ([]valueCase, []*rowDecoder) {
	cases := valueCases(tb)
	decs := make([]*rowDecoder, len(cases))
	for i, c := range cases {
		tm := &tableMap{db: "d", name: "t", types: []byte{c.typ}, metas: []uint16{c.meta}}
		plans, err := planTable(tm, &schema.Table{DB: "d", Name: "t", Columns: []schema.Column{c.col}}, "test:4")
		if err != nil {
			tb.Fatalf("%s: %v", c.name, err)
		}
		decs[i] = &rowDecoder{cols: plans}
	}
	return cases, decs
}

// checkDecode decodes data as one value of d and checks the decoder's
// contract: no panic, an error wraps a sentinel, a value consumes no more
// than it was given and has the planned kind (or is NULL).
func checkDecode(t *testing.T, name string, d *rowDecoder, data []byte) (int, error) {
	t.Helper()
	var v event.Value
	d.resetArena(len(data))
	n, err := d.decodeValue(&v, &d.cols[0], data)
	if err != nil {
		if !errors.Is(err, ErrCorruptEvent) && !errors.Is(err, ErrUnsupported) {
			t.Fatalf("%s: error %v wraps no sentinel", name, err)
		}
		return 0, err
	}
	if n < 0 || n > len(data) {
		t.Fatalf("%s: consumed %d of %d bytes", name, n, len(data))
	}
	if v.Kind != event.KindNull && v.Kind != d.cols[0].kind {
		t.Fatalf("%s: value kind %v, planned %v", name, v.Kind, d.cols[0].kind)
	}
	return n, nil
}

// TestDecodeValue_Truncated: every value is self-delimiting (fixed size or
// length-prefixed), so each strict prefix of a valid encoding is an error,
// never a panic or a shorter value; the whole encoding decodes in full.
func TestDecodeValue_Truncated(t *testing.T) {
	cases, decs := valueDecoders(t)
	for i, c := range cases {
		if n, err := checkDecode(t, c.name, decs[i], c.seed); err != nil || n != len(c.seed) {
			t.Errorf("%s: seed %x: n=%d err=%v, want all %d bytes", c.name, c.seed, n, err, len(c.seed))
			continue
		}
		for cut := range len(c.seed) {
			if _, err := checkDecode(t, c.name, decs[i], c.seed[:cut]); !errors.Is(err, ErrCorruptEvent) {
				t.Errorf("%s: %d of %d bytes: err=%v, want ErrCorruptEvent", c.name, cut, len(c.seed), err)
			}
		}
	}
}

// FuzzDecodeValue decodes random bytes as a value of every column shape.
func FuzzDecodeValue(f *testing.F) {
	cases, decs := valueDecoders(f)
	for i, c := range cases {
		f.Add(byte(i), c.seed)
		f.Add(byte(i), c.seed[:len(c.seed)/2])
	}
	f.Fuzz(func(t *testing.T, which byte, data []byte) {
		i := int(which) % len(cases)
		_, _ = checkDecode(t, cases[i].name, decs[i], data)
	})
}
