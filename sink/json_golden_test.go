package sink

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/schema"
)

// typesTable has one column per type mapping of DEBEZIUM-REFERENCE §3.
func typesTable() *schema.Table {
	return &schema.Table{
		DB:   "shop",
		Name: "all_types",
		Columns: []schema.Column{
			{Name: "id", Type: schema.TypeInt, TypeName: "INT"},
			{Name: "c_bool", Type: schema.TypeTinyInt, TypeName: "BOOLEAN", Nullable: true, Length: 1},
			{Name: "c_tinyint", Type: schema.TypeTinyInt, TypeName: "TINYINT", Nullable: true},
			{Name: "c_tinyint_u", Type: schema.TypeTinyInt, TypeName: "TINYINT", Unsigned: true, Nullable: true},
			{Name: "c_smallint", Type: schema.TypeSmallInt, TypeName: "SMALLINT", Nullable: true},
			{Name: "c_smallint_u", Type: schema.TypeSmallInt, TypeName: "SMALLINT", Unsigned: true, Nullable: true},
			{Name: "c_mediumint", Type: schema.TypeMediumInt, TypeName: "MEDIUMINT", Nullable: true},
			{Name: "c_int_u", Type: schema.TypeInt, TypeName: "INT", Unsigned: true, Nullable: true},
			{Name: "c_bigint", Type: schema.TypeBigInt, TypeName: "BIGINT", Nullable: true},
			{Name: "c_bigint_u", Type: schema.TypeBigInt, TypeName: "BIGINT", Unsigned: true, Nullable: true},
			{Name: "c_decimal", Type: schema.TypeDecimal, TypeName: "DECIMAL", Length: 10, Scale: 2},
			{Name: "c_decimal_big", Type: schema.TypeDecimal, TypeName: "DECIMAL", Length: 65, Scale: 30, Nullable: true},
			{Name: "c_float", Type: schema.TypeFloat, TypeName: "FLOAT", Nullable: true},
			{Name: "c_float_md", Type: schema.TypeFloat, TypeName: "FLOAT", Length: 7, Scale: 3, Nullable: true},
			{Name: "c_double", Type: schema.TypeDouble, TypeName: "DOUBLE", Nullable: true},
			{Name: "c_bit1", Type: schema.TypeBit, TypeName: "BIT", Length: 1, Nullable: true},
			{Name: "c_bit10", Type: schema.TypeBit, TypeName: "BIT", Length: 10, Nullable: true},
			{Name: "c_char", Type: schema.TypeChar, TypeName: "CHAR", Length: 3, Nullable: true, Charset: "utf8mb4"},
			{Name: "c_varchar", Type: schema.TypeVarchar, TypeName: "VARCHAR", Length: 64, Nullable: true, Charset: "utf8mb4"},
			{Name: "c_text", Type: schema.TypeText, TypeName: "TEXT", Nullable: true, Charset: "utf8mb4"},
			{Name: "c_binary", Type: schema.TypeBinary, TypeName: "BINARY", Length: 4, Nullable: true, Charset: "binary"},
			{Name: "c_varbinary", Type: schema.TypeVarbinary, TypeName: "VARBINARY", Length: 16, Nullable: true, Charset: "binary"},
			{Name: "c_blob", Type: schema.TypeBlob, TypeName: "BLOB", Nullable: true, Charset: "binary"},
			{Name: "c_date", Type: schema.TypeDate, TypeName: "DATE", Nullable: true},
			{Name: "c_time", Type: schema.TypeTime, TypeName: "TIME", FSP: 3, Nullable: true},
			{Name: "c_datetime", Type: schema.TypeDateTime, TypeName: "DATETIME", Nullable: true},
			{Name: "c_datetime6", Type: schema.TypeDateTime, TypeName: "DATETIME", FSP: 6, Nullable: true},
			{Name: "c_timestamp", Type: schema.TypeTimestamp, TypeName: "TIMESTAMP"},
			{Name: "c_timestamp3", Type: schema.TypeTimestamp, TypeName: "TIMESTAMP", FSP: 3, Nullable: true},
			{Name: "c_year", Type: schema.TypeYear, TypeName: "YEAR", Nullable: true},
			{Name: "c_enum", Type: schema.TypeEnum, TypeName: "ENUM", Values: []string{"a", "b", "c"}, Nullable: true},
			{Name: "c_set", Type: schema.TypeSet, TypeName: "SET", Values: []string{"x", "y", "z"}, Nullable: true},
			{Name: "c_json", Type: schema.TypeJSON, TypeName: "JSON", Nullable: true},
			{Name: "c_geometry", Type: schema.TypeGeometry, TypeName: "GEOMETRY", Nullable: true},
			{Name: "c_point", Type: schema.TypeGeometry, TypeName: "POINT", Nullable: true},
			{Name: "c_nullable", Type: schema.TypeVarchar, TypeName: "VARCHAR", Length: 10, Nullable: true},
			{Name: "c_excluded", Type: schema.TypeInt, TypeName: "INT", Nullable: true, Excluded: true},
		},
		PrimaryKey: []int{0},
	}
}

// wkbPoint is MySQL's internal geometry: little-endian SRID, then WKB.
func wkbPoint(srid uint32, x, y float64) []byte {
	b := binary.LittleEndian.AppendUint32(nil, srid)
	b = append(b, 1)
	b = binary.LittleEndian.AppendUint32(b, 1)
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(y))
}

func micros(s string) int64 {
	t, err := time.Parse("2006-01-02 15:04:05.999999", s)
	if err != nil {
		panic(err)
	}
	return t.UnixMicro()
}

func typesRow(id int64, text string) []event.Value {
	return []event.Value{
		event.Int(id),
		event.Int(1),
		event.Int(-128),
		event.Int(255),
		event.Int(-32768),
		event.Int(65535),
		event.Int(-8388608),
		event.Int(4294967295),
		event.Int(math.MinInt64),
		event.Uint(math.MaxUint64),
		event.Bytes(event.KindDecimal, []byte("-12345.67")),
		event.Bytes(event.KindDecimal, []byte("12345678901234567890123456789012345.123456789012345678901234567890")),
		event.Float(3.14),
		event.Float(1234.5),
		event.Double(2.718281828459045),
		event.Bytes(event.KindBits, []byte{1}),
		event.Bytes(event.KindBits, []byte{0x02, 0x01}),
		str("abc"),
		str(text),
		str("line1\nline2\t\"quoted\" \\ ü €"),
		event.Bytes(event.KindBytes, []byte{1, 2}),
		event.Bytes(event.KindBytes, []byte{0xde, 0xad, 0xbe, 0xef}),
		event.Bytes(event.KindBytes, []byte("blob\x00data")),
		{Kind: event.KindDate, I: 17702},
		{Kind: event.KindTime, I: (13*3600+37*60+3)*1e6 + 123000},
		{Kind: event.KindDateTime, I: micros("2018-06-20 06:37:03")},
		{Kind: event.KindDateTime, I: micros("2018-06-20 06:37:03.123456")},
		{Kind: event.KindTimestamp, I: micros("2018-06-20 13:37:03")},
		{Kind: event.KindTimestamp, I: micros("2018-06-20 13:37:03.12")},
		event.Int(2024),
		str("b"),
		str("x,z"),
		event.Bytes(event.KindJSON, []byte(`{"k": [1, 2], "s": "v"}`)),
		event.Bytes(event.KindBytes, wkbPoint(4326, 1, 2)),
		event.Bytes(event.KindBytes, wkbPoint(0, 1.5, -2.25)),
		event.Null,
		event.Int(99),
	}
}

var streamSource = event.Source{
	TsUs: 1718000000000000, ServerID: 1, File: "mysql-bin.000004", Pos: 4567, Row: 0, Thread: 42,
}

// noPK is a table without a primary key.
func noPK() *schema.Table {
	return &schema.Table{DB: "shop", Name: "log", Columns: []schema.Column{
		{Name: "msg", Type: schema.TypeVarchar, TypeName: "VARCHAR", Length: 100, Nullable: true},
		{Name: "n", Type: schema.TypeBigInt, TypeName: "BIGINT"},
	}}
}

// twoKeys has a compound primary key declared out of table order.
func twoKeys() *schema.Table {
	return &schema.Table{DB: "shop", Name: "orders", Columns: []schema.Column{
		{Name: "region", Type: schema.TypeVarchar, TypeName: "VARCHAR", Length: 8},
		{Name: "amount", Type: schema.TypeDecimal, TypeName: "DECIMAL", Length: 18, Scale: 8, Nullable: true},
		{Name: "order_id", Type: schema.TypeBigInt, TypeName: "BIGINT"},
	}, PrimaryKey: []int{2, 0}}
}

type goldenCase struct {
	name   string
	cfg    func(*JSONConfig)
	events []event.ChangeEvent
}

func goldenCases() []goldenCase {
	types := typesTable()
	orders := twoKeys()
	log := noPK()
	noSchemas := func(c *JSONConfig) { c.KeySchemas, c.ValueSchemas = false, false }
	orderRow := func(region string, amount string, id int64) []event.Value {
		return []event.Value{str(region), event.Bytes(event.KindDecimal, []byte(amount)), event.Int(id)}
	}
	snap := event.Source{TsUs: 1718000001000000, Snapshot: "first", File: "mysql-bin.000004", Pos: 157, Thread: -1}
	maria := event.Source{TsUs: 1718000002123456, ServerID: 7, GTID: "0-7-1234", File: "mariadb-bin.000001",
		Pos: 900, Row: 2, Thread: 9, Query: "UPDATE orders SET amount = 1 /* \"q\" */"}
	return []goldenCase{
		{name: "types_insert", events: []event.ChangeEvent{
			{Op: event.OpCreate, Table: types, After: typesRow(1, "héllo ✓"), Source: streamSource}}},
		{name: "types_insert_noschema", cfg: noSchemas, events: []event.ChangeEvent{
			{Op: event.OpCreate, Table: types, After: typesRow(1, "héllo ✓"), Source: streamSource}}},
		{name: "types_update", events: []event.ChangeEvent{
			{Op: event.OpUpdate, Table: types, Before: typesRow(1, "before"), After: typesRow(1, "after"), Source: streamSource}}},
		{name: "types_delete", events: []event.ChangeEvent{
			{Op: event.OpDelete, Table: types, Before: typesRow(1, "gone"), Source: streamSource}}},
		{name: "types_delete_noschema_notombstone", cfg: func(c *JSONConfig) {
			noSchemas(c)
			c.TombstonesOnDelete = false
		}, events: []event.ChangeEvent{
			{Op: event.OpDelete, Table: types, Before: typesRow(1, "gone"), Source: streamSource}}},
		{name: "snapshot_read", events: []event.ChangeEvent{
			{Op: event.OpRead, Table: orders, After: orderRow("eu", "10.50000000", 1), Source: snap}}},
		{name: "nopk_insert_delete", events: []event.ChangeEvent{
			{Op: event.OpCreate, Table: log, After: []event.Value{str("hello"), event.Int(1)}, Source: streamSource},
			{Op: event.OpDelete, Table: log, Before: []event.Value{str("hello"), event.Int(1)}, Source: streamSource}}},
		{name: "pk_change", events: []event.ChangeEvent{
			{Op: event.OpUpdate, Table: orders, Before: orderRow("eu", "0.00000001", 1), After: orderRow("us\"x", "2.00000000", 2), Source: streamSource}}},
		{name: "pk_change_noschema", cfg: noSchemas, events: []event.ChangeEvent{
			{Op: event.OpUpdate, Table: orders, Before: orderRow("eu", "1.00000000", 1), After: orderRow("eu", "1.00000000", 3), Source: streamSource}}},
		{name: "mariadb_gtid_query", cfg: func(c *JSONConfig) { c.Connector = ConnectorMariaDB }, events: []event.ChangeEvent{
			{Op: event.OpUpdate, Table: orders, Before: orderRow("eu", "1.00000000", 1), After: orderRow("eu", "-1.00000000", 1), Source: maria}}},
		{name: "truncate", cfg: func(c *JSONConfig) { c.SkippedOperations = nil }, events: []event.ChangeEvent{
			{Op: event.OpTruncate, Table: orders, Source: streamSource}}},
		{name: "types_insert_modes", cfg: func(c *JSONConfig) {
			c.BigIntUnsignedMode = BigIntUnsignedPrecise
			c.DecimalMode = DecimalDouble
			c.BinaryMode = BinaryHex
			c.TimePrecisionMode = TimeConnect
		}, events: []event.ChangeEvent{
			{Op: event.OpCreate, Table: types, After: typesRow(1, "modes"), Source: streamSource}}},
	}
}

// TestJSON_Golden compares the records of each case with
// testdata/golden/<case>.{key,value,headers}.json: one line per record, the
// record's bytes or null. Run with -update to rewrite them; testdata/README.md
// says what each case was checked against.
func TestJSON_Golden(t *testing.T) {
	runGolden(t, goldenCases())
}

// TestJSON_GoldenModes is TestJSON_Golden for the cases of every mode,
// defaults and source type propagation (json_modes_golden_test.go).
func TestJSON_GoldenModes(t *testing.T) {
	runGolden(t, modeCases())
}

func runGolden(t *testing.T, cases []goldenCase) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultJSONConfig("dbserver1")
			cfg.Version = "3.2.0.Final"
			cfg.Now = func() time.Time { return time.Unix(1718000003, 123456789) }
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			enc, err := NewJSON(cfg)
			if err != nil {
				t.Fatal(err)
			}
			var recs []Record
			var buf []byte
			for i := range tc.events {
				if recs, buf, err = enc.AppendRecords(recs, buf, &tc.events[i]); err != nil {
					t.Fatal(err)
				}
			}
			var keys, values, headers bytes.Buffer
			hasHeaders := false
			for _, r := range recs {
				line := func(w *bytes.Buffer, b []byte) {
					if b == nil {
						w.WriteString("null")
					} else {
						w.Write(b)
					}
					w.WriteByte('\n')
				}
				line(&keys, r.Key)
				line(&values, r.Value)
				h := map[string]string{}
				for _, x := range r.Headers {
					h[x.Key] = string(x.Value)
					hasHeaders = true
				}
				b, _ := json.Marshal(h)
				line(&headers, b)
			}
			files := map[string][]byte{"key": keys.Bytes(), "value": values.Bytes()}
			if hasHeaders {
				files["headers"] = headers.Bytes()
			}
			for ext, got := range files {
				path := filepath.Join("testdata", "golden", tc.name+"."+ext+".json")
				if *update {
					if err := os.WriteFile(path, got, 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test ./sink -run TestJSON_Golden -update)", err)
				}
				gl, wl := bytes.Split(got, []byte("\n")), bytes.Split(want, []byte("\n"))
				if len(gl) != len(wl) {
					t.Errorf("%s: %d lines, want %d", path, len(gl), len(wl))
					continue
				}
				for i := range gl {
					compareJSON(t, path, gl[i], wl[i])
				}
			}
		})
	}
}
