package sink

import (
	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/schema"
)

// temporalTable has the temporal types at several precisions, with values
// that differ between time.precision.mode renderings: a negative TIME and
// one beyond 24 hours (no value in connect and isostring), fractions with
// trailing zeros (trimmed by the ISO formatters, not by ZonedTimestamp), a
// NOT NULL zero date (the epoch), a DATETIME before 1677 (no
// NanoTimestamp), and years 0012 and 0075 (enable.time.adjuster: 2012, 1975).
func temporalTable() *schema.Table {
	return &schema.Table{DB: "shop", Name: "temporal", PrimaryKey: []int{0}, Columns: []schema.Column{
		{Name: "id", Type: schema.TypeInt, TypeName: "INT"},
		{Name: "d", Type: schema.TypeDate, TypeName: "DATE", Nullable: true},
		{Name: "d_zero", Type: schema.TypeDate, TypeName: "DATE"},
		{Name: "t0", Type: schema.TypeTime, TypeName: "TIME", Nullable: true},
		{Name: "t6", Type: schema.TypeTime, TypeName: "TIME", FSP: 6, Nullable: true},
		{Name: "t_neg", Type: schema.TypeTime, TypeName: "TIME", Nullable: true},
		{Name: "t_big", Type: schema.TypeTime, TypeName: "TIME", FSP: 1, Nullable: true},
		{Name: "dt0", Type: schema.TypeDateTime, TypeName: "DATETIME"},
		{Name: "dt3", Type: schema.TypeDateTime, TypeName: "DATETIME", FSP: 3, Nullable: true},
		{Name: "dt6", Type: schema.TypeDateTime, TypeName: "DATETIME", FSP: 6, Nullable: true},
		{Name: "dt_old", Type: schema.TypeDateTime, TypeName: "DATETIME", FSP: 6, Nullable: true},
		{Name: "ts0", Type: schema.TypeTimestamp, TypeName: "TIMESTAMP"},
		{Name: "ts6", Type: schema.TypeTimestamp, TypeName: "TIMESTAMP", FSP: 6, Nullable: true},
		{Name: "y", Type: schema.TypeYear, TypeName: "YEAR", Nullable: true},
		{Name: "d_yy", Type: schema.TypeDate, TypeName: "DATE", Nullable: true},
		{Name: "dt_yy", Type: schema.TypeDateTime, TypeName: "DATETIME", FSP: 6, Nullable: true},
	}}
}

func temporalRow() []event.Value {
	tm := func(us int64) event.Value { return event.Value{Kind: event.KindTime, I: us} }
	dt := func(s string) event.Value { return event.Value{Kind: event.KindDateTime, I: micros(s)} }
	ts := func(s string) event.Value { return event.Value{Kind: event.KindTimestamp, I: micros(s)} }
	return []event.Value{
		event.Int(7),
		{Kind: event.KindDate, I: 17702},
		{Kind: event.KindDate, I: 0},
		tm((13*3600 + 37*60 + 3) * 1e6),
		tm((13*3600+37*60+3)*1e6 + 250),
		tm(-90 * 60 * 1e6),
		tm((838*3600+59*60+59)*1e6 + 500000),
		dt("2018-06-20 06:37:03"),
		dt("2018-06-20 06:37:03.1"),
		dt("2018-06-20 06:37:03.12"),
		dt("1600-01-01 00:00:00"),
		ts("2018-06-20 13:37:03"),
		ts("2018-06-20 13:37:03.5"),
		event.Int(2024),
		{Kind: event.KindDate, I: micros("0012-03-04 00:00:00") / 86_400_000_000},
		dt("0075-06-07 10:00:00.5"),
	}
}

// defaultsTable has a DEFAULT of each kind Debezium's
// BinlogDefaultValueConverter distinguishes (schema.Column.Default as the
// DDL parser records it).
func defaultsTable() *schema.Table {
	d := func(s string) *string { return &s }
	return &schema.Table{DB: "shop", Name: "defaults", PrimaryKey: []int{0}, Columns: []schema.Column{
		{Name: "id", Type: schema.TypeInt, TypeName: "INT", HasDefault: true, Default: d("0")},
		{Name: "c_bool", Type: schema.TypeTinyInt, TypeName: "BOOLEAN", Nullable: true, HasDefault: true, Default: d("true")},
		{Name: "c_tinyint", Type: schema.TypeTinyInt, TypeName: "TINYINT", Nullable: true, HasDefault: true, Default: d("-5")},
		{Name: "c_smallint_round", Type: schema.TypeSmallInt, TypeName: "SMALLINT", Nullable: true, HasDefault: true, Default: d("2.5")},
		{Name: "c_int_u", Type: schema.TypeInt, TypeName: "INT", Unsigned: true, HasDefault: true, Default: d("4294967295")},
		{Name: "c_bigint_u", Type: schema.TypeBigInt, TypeName: "BIGINT", Unsigned: true, Nullable: true, HasDefault: true, Default: d("18446744073709551615")},
		{Name: "c_int_bad", Type: schema.TypeInt, TypeName: "INT", Nullable: true, HasDefault: true, Default: d("abc")},
		{Name: "c_int_null", Type: schema.TypeInt, TypeName: "INT", Nullable: true, HasDefault: true},
		{Name: "c_decimal", Type: schema.TypeDecimal, TypeName: "DECIMAL", Length: 10, Scale: 2, HasDefault: true, Default: d("1.005")},
		{Name: "c_decimal_neg", Type: schema.TypeDecimal, TypeName: "DECIMAL", Length: 5, Scale: 0, Nullable: true, HasDefault: true, Default: d("-12")},
		{Name: "c_float", Type: schema.TypeFloat, TypeName: "FLOAT", Nullable: true, HasDefault: true, Default: d("1.1")},
		{Name: "c_double", Type: schema.TypeDouble, TypeName: "DOUBLE", Nullable: true, HasDefault: true, Default: d("1e3")},
		{Name: "c_bit1", Type: schema.TypeBit, TypeName: "BIT", Length: 1, Nullable: true, HasDefault: true, Default: d("1")},
		{Name: "c_bit10", Type: schema.TypeBit, TypeName: "BIT", Length: 10, Nullable: true, HasDefault: true, Default: d("1000000001")},
		{Name: "c_varchar", Type: schema.TypeVarchar, TypeName: "VARCHAR", Length: 20, Charset: "utf8mb4", HasDefault: true, Default: d("it''s ü")},
		{Name: "c_varchar_empty", Type: schema.TypeVarchar, TypeName: "VARCHAR", Length: 20, Charset: "utf8mb4", Nullable: true, HasDefault: true, Default: d("")},
		{Name: "c_binary", Type: schema.TypeBinary, TypeName: "BINARY", Length: 4, Charset: "binary", Nullable: true, HasDefault: true, Default: d("ab")},
		{Name: "c_enum", Type: schema.TypeEnum, TypeName: "ENUM", Values: []string{"x", "y"}, HasDefault: true, Default: d("y")},
		{Name: "c_set", Type: schema.TypeSet, TypeName: "SET", Values: []string{"p", "q"}, Nullable: true, HasDefault: true, Default: d("p,q")},
		{Name: "c_date", Type: schema.TypeDate, TypeName: "DATE", Nullable: true, HasDefault: true, Default: d("2020-02-30")},
		{Name: "c_date_zero", Type: schema.TypeDate, TypeName: "DATE", Nullable: true, HasDefault: true, Default: d("0000-00-00")},
		{Name: "c_date_zero_nn", Type: schema.TypeDate, TypeName: "DATE", HasDefault: true, Default: d("0000-00-00")},
		{Name: "c_time", Type: schema.TypeTime, TypeName: "TIME", FSP: 3, Nullable: true, HasDefault: true, Default: d("-12:30:00.5")},
		{Name: "c_datetime", Type: schema.TypeDateTime, TypeName: "DATETIME", FSP: 6, Nullable: true, HasDefault: true, Default: d("2021-03-04 05:06:07.25")},
		{Name: "c_datetime_now", Type: schema.TypeDateTime, TypeName: "DATETIME", HasDefault: true, Default: d("1970-01-01 00:00:00")},
		{Name: "c_ts_now", Type: schema.TypeTimestamp, TypeName: "TIMESTAMP", FSP: 3, HasDefault: true, Default: d("1970-01-01 00:00:00")},
		{Name: "c_ts_now_null", Type: schema.TypeTimestamp, TypeName: "TIMESTAMP", Nullable: true, HasDefault: true, Default: d("1970-01-01 00:00:00")},
		{Name: "c_ts", Type: schema.TypeTimestamp, TypeName: "TIMESTAMP", Nullable: true, HasDefault: true, Default: d("2021-03-04 05:06:07")},
		{Name: "c_year", Type: schema.TypeYear, TypeName: "YEAR", Nullable: true, HasDefault: true, Default: d("69")},
	}}
}

func defaultsRow() []event.Value {
	row := make([]event.Value, len(defaultsTable().Columns))
	row[0] = event.Int(1)
	row[8] = event.Bytes(event.KindDecimal, []byte("1.01"))
	row[14] = str("v")
	row[17] = str("x")
	row[21] = event.Value{Kind: event.KindDate}
	row[24] = event.Value{Kind: event.KindDateTime}
	row[25] = event.Value{Kind: event.KindTimestamp}
	row[4] = event.Int(0)
	return row
}

// modeCases: one case per type per mode (DEBEZIUM-REFERENCE §3), defaults
// and source type propagation; testdata/README.md names the sources.
func modeCases() []goldenCase {
	types := typesTable()
	temporal := temporalTable()
	defaults := defaultsTable()
	var cases []goldenCase
	for _, m := range []TimePrecisionMode{TimeAdaptiveMicroseconds, TimeAdaptive, TimeConnect, TimeISOString, TimeMicroseconds, TimeNanoseconds} {
		cases = append(cases, goldenCase{name: "temporal_" + m.String(), cfg: func(c *JSONConfig) { c.TimePrecisionMode = m },
			events: []event.ChangeEvent{{Op: event.OpCreate, Table: temporal, After: temporalRow(), Source: streamSource}}})
	}
	insert := func(tab *schema.Table, row []event.Value) []event.ChangeEvent {
		return []event.ChangeEvent{{Op: event.OpCreate, Table: tab, After: row, Source: streamSource}}
	}
	return append(cases,
		goldenCase{name: "types_insert_isostring_string_base64", cfg: func(c *JSONConfig) {
			c.TimePrecisionMode, c.DecimalMode, c.BinaryMode = TimeISOString, DecimalString, BinaryBase64
		}, events: insert(types, typesRow(1, "iso"))},
		goldenCase{name: "types_insert_microseconds_base64url", cfg: func(c *JSONConfig) {
			c.TimePrecisionMode, c.BinaryMode = TimeMicroseconds, BinaryBase64URLSafe
		}, events: insert(types, typesRow(1, "micro"))},
		goldenCase{name: "types_insert_nanoseconds_adaptive", cfg: func(c *JSONConfig) {
			c.TimePrecisionMode = TimeNanoseconds
		}, events: insert(types, typesRow(1, "nano"))},
		goldenCase{name: "types_insert_adaptive", cfg: func(c *JSONConfig) {
			c.TimePrecisionMode = TimeAdaptive
		}, events: insert(types, typesRow(1, "adaptive"))},
		goldenCase{name: "defaults_insert", events: insert(defaults, defaultsRow())},
		goldenCase{name: "defaults_insert_modes", cfg: func(c *JSONConfig) {
			c.TimePrecisionMode, c.DecimalMode, c.BinaryMode, c.BigIntUnsignedMode = TimeISOString, DecimalString, BinaryHex, BigIntUnsignedPrecise
		}, events: insert(defaults, defaultsRow())},
		goldenCase{name: "defaults_insert_connect_double", cfg: func(c *JSONConfig) {
			c.TimePrecisionMode, c.DecimalMode, c.BinaryMode = TimeConnect, DecimalDouble, BinaryBase64
		}, events: insert(defaults, defaultsRow())},
		goldenCase{name: "propagate_source_type", cfg: func(c *JSONConfig) {
			c.PropagateSourceTypeColumns = `shop\.all_types\.c_varchar,SHOP.ALL_TYPES.C_DECIMAL,shop.all_types.id`
			c.PropagateSourceTypeDatatypes = `.+\.FLOAT,.+\.ENUM,shop\.all_types\.INT UNSIGNED,.+\.DATETIME`
		}, events: insert(types, typesRow(1, "propagate"))},
	)
}
