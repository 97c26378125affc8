package debeziumjson

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/schema"
	"github.com/rivulet-cdc/rivulet/sink"
)

// The type mixes of the encoding benchmark: one insert envelope each.
func intsTable() *schema.Table {
	return &schema.Table{DB: "shop", Name: "ints", PrimaryKey: []int{0}, Columns: []schema.Column{
		{Name: "id", Type: schema.TypeBigInt, TypeName: "BIGINT"},
		{Name: "a", Type: schema.TypeTinyInt, TypeName: "TINYINT", Nullable: true},
		{Name: "b", Type: schema.TypeSmallInt, TypeName: "SMALLINT", Unsigned: true, Nullable: true},
		{Name: "c", Type: schema.TypeMediumInt, TypeName: "MEDIUMINT", Nullable: true},
		{Name: "d", Type: schema.TypeInt, TypeName: "INT", Nullable: true},
		{Name: "e", Type: schema.TypeInt, TypeName: "INT", Unsigned: true, Nullable: true},
		{Name: "f", Type: schema.TypeBigInt, TypeName: "BIGINT", Unsigned: true, Nullable: true},
		{Name: "g", Type: schema.TypeTinyInt, TypeName: "BOOLEAN", Nullable: true},
	}}
}

func intsRow() []event.Value {
	return []event.Value{event.Int(123456789), event.Int(-7), event.Int(65535), event.Int(-8388608),
		event.Int(2147483647), event.Int(4294967295), event.Uint(math.MaxUint64), event.Int(1)}
}

func stringsTable() *schema.Table {
	return &schema.Table{DB: "shop", Name: "strings", PrimaryKey: []int{0}, Columns: []schema.Column{
		{Name: "id", Type: schema.TypeInt, TypeName: "INT"},
		{Name: "code", Type: schema.TypeChar, TypeName: "CHAR", Length: 8, Charset: "latin1"},
		{Name: "name", Type: schema.TypeVarchar, TypeName: "VARCHAR", Length: 255, Charset: "utf8mb4", Nullable: true},
		{Name: "email", Type: schema.TypeVarchar, TypeName: "VARCHAR", Length: 255, Charset: "utf8mb4", Nullable: true},
		{Name: "bio", Type: schema.TypeText, TypeName: "TEXT", Charset: "utf8mb4", Nullable: true},
		{Name: "state", Type: schema.TypeEnum, TypeName: "ENUM", Values: []string{"new", "active", "gone"}},
		{Name: "tags", Type: schema.TypeSet, TypeName: "SET", Values: []string{"a", "b", "c"}, Nullable: true},
	}}
}

func stringsRow() []event.Value {
	return []event.Value{event.Int(42), str("AB-1234"), str("Zoë Ångström"), str("zoe@example.org"),
		str("Line one\nline \"two\" — with a tab\tand ünïcode ✓"), str("active"), str("a,c")}
}

// encodingMixes are the benchmark's and the allocation budget's inputs.
func encodingMixes() []struct {
	name string
	ev   event.ChangeEvent
} {
	ins := func(t *schema.Table, row []event.Value) event.ChangeEvent {
		return event.ChangeEvent{Op: event.OpCreate, Table: t, After: row, Source: streamSource}
	}
	return []struct {
		name string
		ev   event.ChangeEvent
	}{
		{"ints", ins(intsTable(), intsRow())},
		{"strings", ins(stringsTable(), stringsRow())},
		{"temporal", ins(temporalTable(), temporalRow())},
		{"wide", ins(typesTable(), typesRow(1, "wide row"))},
	}
}

// encodingModes: Debezium's defaults, and the string renderings.
var encodingModes = []struct {
	name string
	set  func(*sink.JSONConfig)
}{
	{"default", func(*sink.JSONConfig) {}},
	{"iso_string_base64", func(c *sink.JSONConfig) {
		c.TimePrecisionMode, c.DecimalMode, c.BinaryMode = sink.TimeISOString, sink.DecimalString, sink.BinaryBase64
	}},
	{"nanos_precise_hex", func(c *sink.JSONConfig) {
		c.TimePrecisionMode, c.BigIntUnsignedMode, c.BinaryMode = sink.TimeNanoseconds, sink.BigIntUnsignedPrecise, sink.BinaryHex
	}},
}

func mixEncoder(tb testing.TB, set func(*sink.JSONConfig)) *JSON {
	cfg := sink.DefaultJSONConfig("dbserver1")
	cfg.Version = "0.1.0"
	now := time.Unix(1718000003, 0)
	cfg.Now = func() time.Time { return now }
	set(&cfg)
	enc, err := NewJSON(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return enc
}

// TestJSON_EncodeAllocBudget pins the allocation budget of encoding one
// envelope, schemas on, for every type mix in every mode: zero once the
// table version's encoder is built (everything mode-dependent is prepared
// then, in newColEnc).
func TestJSON_EncodeAllocBudget(t *testing.T) {
	const budget = 0
	for _, m := range encodingModes {
		for _, mix := range encodingMixes() {
			enc := mixEncoder(t, m.set)
			recs := make([]sink.Record, 0, 4)
			buf := make([]byte, 0, 1<<16)
			ev := mix.ev
			encode := func() {
				var err error
				if recs, buf, err = enc.AppendRecords(recs[:0], buf[:0], &ev); err != nil {
					t.Fatal(err)
				}
			}
			encode()
			if n := testing.AllocsPerRun(200, encode); n > budget {
				t.Errorf("%s/%s: %v allocations per envelope, budget %d", m.name, mix.name, n, budget)
			}
		}
	}
}

// BenchmarkEncodeMix encodes one insert envelope (key and value, schemas
// on) per type mix and mode; ns/op is ns per event.
func BenchmarkEncodeMix(b *testing.B) {
	for _, m := range encodingModes {
		for _, mix := range encodingMixes() {
			b.Run(fmt.Sprintf("%s/%s", mix.name, m.name), func(b *testing.B) {
				enc := mixEncoder(b, m.set)
				recs := make([]sink.Record, 0, 4)
				buf := make([]byte, 0, 1<<16)
				ev := mix.ev
				recs, buf, _ = enc.AppendRecords(recs[:0], buf[:0], &ev)
				n := 0
				for _, r := range recs {
					n += len(r.Key) + len(r.Value)
				}
				b.SetBytes(int64(n))
				b.ReportAllocs()
				for b.Loop() {
					var err error
					if recs, buf, err = enc.AppendRecords(recs[:0], buf[:0], &ev); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
