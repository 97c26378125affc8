package binlog

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/schema"
)

// mixedTable is a realistic table touching every decoder: the shape used by
// the row fuzzer and the decode benchmark.
func mixedTable() (*tableMap, *schema.Table) {
	cols := []schema.Column{
		{Name: "id", Type: schema.TypeBigInt, Unsigned: true},
		{Name: "n", Type: schema.TypeInt, Nullable: true},
		{Name: "price", Type: schema.TypeDecimal, Length: 12, Scale: 2, Nullable: true},
		{Name: "name", Type: schema.TypeVarchar, Length: 64, Charset: "utf8mb4", Nullable: true},
		{Name: "city", Type: schema.TypeVarchar, Length: 32, Charset: "latin1", Nullable: true},
		{Name: "code", Type: schema.TypeChar, Length: 4, Charset: "utf8mb4", Nullable: true},
		{Name: "status", Type: schema.TypeEnum, Values: []string{"new", "paid", "shipped"}, Nullable: true},
		{Name: "tags", Type: schema.TypeSet, Values: []string{"a", "b", "c", "d"}, Nullable: true},
		{Name: "created", Type: schema.TypeDateTime, FSP: 6, Nullable: true},
		{Name: "updated", Type: schema.TypeTimestamp, FSP: 3, Nullable: true},
		{Name: "day", Type: schema.TypeDate, Nullable: true},
		{Name: "dur", Type: schema.TypeTime, FSP: 2, Nullable: true},
		{Name: "ratio", Type: schema.TypeDouble, Nullable: true},
		{Name: "score", Type: schema.TypeFloat, Nullable: true},
		{Name: "flags", Type: schema.TypeBit, Length: 12, Nullable: true},
		{Name: "doc", Type: schema.TypeJSON, Nullable: true},
		{Name: "note", Type: schema.TypeText, Charset: "cp1251", Nullable: true},
		{Name: "raw", Type: schema.TypeBinary, Length: 8, Nullable: true},
		{Name: "y", Type: schema.TypeYear, Nullable: true},
		{Name: "small", Type: schema.TypeTinyInt, Nullable: true},
	}
	tm := &tableMap{db: "shop", name: "orders",
		types: []byte{mysql.MYSQL_TYPE_LONGLONG, mysql.MYSQL_TYPE_LONG, mysql.MYSQL_TYPE_NEWDECIMAL,
			mysql.MYSQL_TYPE_VARCHAR, mysql.MYSQL_TYPE_VARCHAR, mysql.MYSQL_TYPE_STRING, mysql.MYSQL_TYPE_STRING,
			mysql.MYSQL_TYPE_STRING, mysql.MYSQL_TYPE_DATETIME2, mysql.MYSQL_TYPE_TIMESTAMP2, mysql.MYSQL_TYPE_DATE,
			mysql.MYSQL_TYPE_TIME2, mysql.MYSQL_TYPE_DOUBLE, mysql.MYSQL_TYPE_FLOAT, mysql.MYSQL_TYPE_BIT,
			mysql.MYSQL_TYPE_JSON, mysql.MYSQL_TYPE_BLOB, mysql.MYSQL_TYPE_STRING, mysql.MYSQL_TYPE_YEAR, mysql.MYSQL_TYPE_TINY},
		metas: []uint16{0, 0, 12<<8 | 2,
			256, 32, uint16(mysql.MYSQL_TYPE_STRING)<<8 | 16, uint16(mysql.MYSQL_TYPE_ENUM)<<8 | 1,
			uint16(mysql.MYSQL_TYPE_SET)<<8 | 1, 6, 3, 0,
			2, 8, 4, 1<<8 | 4,
			4, 2, uint16(mysql.MYSQL_TYPE_STRING)<<8 | 8, 0, 0},
	}
	return tm, &schema.Table{DB: "shop", Name: "orders", Columns: cols}
}

// mixedRow returns one row image of mixedTable (all columns present).
func mixedRow(tb testing.TB, id uint64) []byte {
	var b []byte
	b = append(b, 0, 0, 0) // null bitmap: 20 columns, none NULL
	b = append(b, byte(id), byte(id>>8), byte(id>>16), byte(id>>24), 0, 0, 0, 0)
	b = append(b, 0x2A, 0, 0, 0)
	b = append(b, encodeDecimal(tb, "1234.50", 12, 2)...)
	name := "Ada Lovelace"
	b = append(b, byte(len(name)), 0)
	b = append(b, name...)
	b = append(b, 5, 'P', 'a', 'r', 'i', 0xE9) // latin1 "Parié"
	b = append(b, 2, 'F', 'R')
	b = append(b, 2)                                                      // enum: paid
	b = append(b, 0b0101)                                                 // set: a,c
	b = append(b, encodeDateTime2(2024, 5, 17, 10, 11, 12, 123456, 6)...) // datetime(6)
	b = append(b, 0x66, 0x47, 0x1D, 0x40, 0x01, 0xF4)                     // timestamp(3)
	day := uint32(2024<<9 | 5<<5 | 17)
	b = append(b, byte(day), byte(day>>8), byte(day>>16)) // date
	b = append(b, encodeTime2(packTime(false, 1, 2, 3, 450000), 2)...)
	b = append(b, 0, 0, 0, 0, 0, 0, 0xF8, 0x3F) // double 1.5
	b = append(b, 0, 0, 0xC0, 0x3F)             // float 1.5
	b = append(b, 0x0A, 0xBC)                   // bit(12)
	doc := encodeJSON(jsonObj{{"k", "v"}, {"n", []any{1, 2, true}}}, false)
	b = append(b, byte(len(doc)), 0, 0, 0)
	b = append(b, doc...)
	note := []byte{0xCF, 0xF0, 0xE8, 0xE2, 0xE5, 0xF2}
	b = append(b, byte(len(note)), 0)
	b = append(b, note...)
	b = append(b, 3, 1, 2, 3) // binary(8) stripped
	b = append(b, 124)        // year 2024
	b = append(b, 0xFF)       // -1
	return b
}

func mixedDecoder(tb testing.TB) *rowDecoder {
	tm, t := mixedTable()
	plans, err := planTable(tm, t, "test:4")
	if err != nil {
		tb.Fatal(err)
	}
	return &rowDecoder{cols: plans}
}

func TestDecodeRows_Mixed(t *testing.T) {
	d := mixedDecoder(t)
	data := append(mixedRow(t, 7), mixedRow(t, 8)...)
	bitmap := []byte{0xFF, 0xFF, 0x0F}
	vals, rows, missing, err := d.decodeRows(nil, event.OpCreate, false, bitmap, nil, data)
	if err != nil || rows != 2 || missing {
		t.Fatalf("rows=%d missing=%v err=%v", rows, missing, err)
	}
	got := showRow(vals[:20])
	want := []string{"uint:7", "int:42", "dec:1234.50", "str:Ada Lovelace", "str:Parié", "str:FR", "str:paid", "str:a,c",
		"datetime:2024-05-17T10:11:12.123456", "ts:2024-05-17T09:02:56.05Z", "date:2024-05-17", "time:1h2m3.45s",
		"double:1.5", "float:1.5", "bits:0abc", `json:{"k":"v","n":[1,2,true]}`, "str:Привет", "bytes:0102030000000000",
		"int:2024", "int:-1"}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("column %d: got %s want %s", i, got[i], want[i])
		}
	}
	if show(vals[20]) != "uint:8" {
		t.Errorf("second row id %s", show(vals[20]))
	}
}

func FuzzDecodeRow(f *testing.F) {
	row := mixedRow(f, 1)
	f.Add(byte(0), row)
	f.Add(byte(1), append(row, row...))
	f.Add(byte(2), row[:len(row)/2])
	f.Add(byte(0), []byte{})
	f.Add(byte(1), []byte{0xFF, 0xFF, 0x0F})
	d := mixedDecoder(f)
	ops := []event.Op{event.OpCreate, event.OpUpdate, event.OpDelete}
	bitmap := []byte{0xFF, 0xFF, 0x0F}
	f.Fuzz(func(t *testing.T, op byte, data []byte) {
		o := ops[int(op)%len(ops)]
		partial := op >= 128
		d.resetArena(len(data))
		vals, rows, _, err := d.decodeRows(nil, o, partial && o == event.OpUpdate, bitmap, bitmap, data)
		if err != nil {
			if !errors.Is(err, ErrCorruptEvent) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("error %v wraps no sentinel", err)
			}
			return
		}
		images := 1
		if o == event.OpUpdate {
			images = 2
		}
		if len(vals) != rows*images*len(d.cols) {
			t.Fatalf("%d values for %d rows", len(vals), rows)
		}
	})
}

func FuzzJSONBinary(f *testing.F) {
	seeds := []any{
		nil, true, 5, -70000, 1 << 40, uint64(1 << 63), 2.5, 1e300, "str\x01",
		jsonObj{{"a", 1}, {"b", []any{true, nil, "x", 2.25, jsonObj{{"c", "d"}}}}},
		[]any{jsonOpaqueVal{myTypeDate, make([]byte, 8)}, jsonOpaqueVal{252, []byte("xy")}},
	}
	for _, s := range seeds {
		doc := encodeJSON(s, false)
		f.Add(doc)
		f.Add(encodeJSON(s, true))
		f.Add(doc[:len(doc)/2])
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		out, err := appendJSONText(nil, doc)
		if err != nil {
			if !errors.Is(err, ErrCorruptEvent) {
				t.Fatalf("error %v does not wrap ErrCorruptEvent", err)
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("invalid JSON %q from %x", out, doc)
		}
	})
}

func FuzzDecimal(f *testing.F) {
	f.Add(byte(14), byte(4), []byte{0x81, 0x0d, 0xfb, 0x38, 0xd2, 0x04, 0xd2})
	f.Add(byte(65), byte(30), make([]byte, 30))
	f.Fuzz(func(t *testing.T, prec, scale byte, data []byte) {
		out, n, err := appendDecimal(nil, data, int(prec), int(scale))
		if err != nil {
			if !errors.Is(err, ErrCorruptEvent) {
				t.Fatalf("error %v does not wrap ErrCorruptEvent", err)
			}
			return
		}
		if n > len(data) {
			t.Fatalf("consumed %d of %d bytes", n, len(data))
		}
		if int(scale) > 0 && (len(out) < int(scale)+2 || out[len(out)-int(scale)-1] != '.') {
			t.Fatalf("%q does not have %d fractional digits", out, scale)
		}
	})
}
