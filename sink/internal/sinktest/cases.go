// Package sinktest holds what the tests of the sink's formats share and
// package sink's own tests cannot import (it imports sink): the cases of
// the JSON golden files, which the Avro format is checked against too, and
// the Avro wire decoding.
package sinktest

import (
	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/schema"
	"github.com/rivulet-cdc/rivulet/sink"
	"github.com/rivulet-cdc/rivulet/sink/internal/fixture"
)

// Case is one JSON golden case: the encoder setting (on top of the
// golden tests' defaults) and the events whose records are the golden file
// testdata/golden/<Name>.*.json.
type Case struct {
	Name   string
	Cfg    func(*sink.JSONConfig)
	Events []event.ChangeEvent
}

// GoldenCases are the cases of the type mappings, record sequences and
// sources (testdata/README.md).
func GoldenCases() []Case {
	types := fixture.TypesTable()
	orders := fixture.TwoKeys()
	log := fixture.NoPK()
	noSchemas := func(c *sink.JSONConfig) { c.KeySchemas, c.ValueSchemas = false, false }
	orderRow := func(region string, amount string, id int64) []event.Value {
		return []event.Value{fixture.Str(region), event.Bytes(event.KindDecimal, []byte(amount)), event.Int(id)}
	}
	snap := event.Source{TsUs: 1718000001000000, Snapshot: "first", File: "mysql-bin.000004", Pos: 157, Thread: -1}
	maria := event.Source{TsUs: 1718000002123456, ServerID: 7, GTID: "0-7-1234", File: "mariadb-bin.000001",
		Pos: 900, Row: 2, Thread: 9, Query: "UPDATE orders SET amount = 1 /* \"q\" */"}
	return []Case{
		{Name: "types_insert", Events: []event.ChangeEvent{
			{Op: event.OpCreate, Table: types, After: fixture.TypesRow(1, "héllo ✓"), Source: fixture.StreamSource}}},
		{Name: "types_insert_noschema", Cfg: noSchemas, Events: []event.ChangeEvent{
			{Op: event.OpCreate, Table: types, After: fixture.TypesRow(1, "héllo ✓"), Source: fixture.StreamSource}}},
		{Name: "types_update", Events: []event.ChangeEvent{
			{Op: event.OpUpdate, Table: types, Before: fixture.TypesRow(1, "before"), After: fixture.TypesRow(1, "after"), Source: fixture.StreamSource}}},
		{Name: "types_delete", Events: []event.ChangeEvent{
			{Op: event.OpDelete, Table: types, Before: fixture.TypesRow(1, "gone"), Source: fixture.StreamSource}}},
		{Name: "types_delete_noschema_notombstone", Cfg: func(c *sink.JSONConfig) {
			noSchemas(c)
			c.TombstonesOnDelete = false
		}, Events: []event.ChangeEvent{
			{Op: event.OpDelete, Table: types, Before: fixture.TypesRow(1, "gone"), Source: fixture.StreamSource}}},
		{Name: "snapshot_read", Events: []event.ChangeEvent{
			{Op: event.OpRead, Table: orders, After: orderRow("eu", "10.50000000", 1), Source: snap}}},
		{Name: "nopk_insert_delete", Events: []event.ChangeEvent{
			{Op: event.OpCreate, Table: log, After: []event.Value{fixture.Str("hello"), event.Int(1)}, Source: fixture.StreamSource},
			{Op: event.OpDelete, Table: log, Before: []event.Value{fixture.Str("hello"), event.Int(1)}, Source: fixture.StreamSource}}},
		{Name: "pk_change", Events: []event.ChangeEvent{
			{Op: event.OpUpdate, Table: orders, Before: orderRow("eu", "0.00000001", 1), After: orderRow("us\"x", "2.00000000", 2), Source: fixture.StreamSource}}},
		{Name: "pk_change_noschema", Cfg: noSchemas, Events: []event.ChangeEvent{
			{Op: event.OpUpdate, Table: orders, Before: orderRow("eu", "1.00000000", 1), After: orderRow("eu", "1.00000000", 3), Source: fixture.StreamSource}}},
		{Name: "mariadb_gtid_query", Cfg: func(c *sink.JSONConfig) { c.Connector = sink.ConnectorMariaDB }, Events: []event.ChangeEvent{
			{Op: event.OpUpdate, Table: orders, Before: orderRow("eu", "1.00000000", 1), After: orderRow("eu", "-1.00000000", 1), Source: maria}}},
		{Name: "truncate", Cfg: func(c *sink.JSONConfig) { c.SkippedOperations = nil }, Events: []event.ChangeEvent{
			{Op: event.OpTruncate, Table: orders, Source: fixture.StreamSource}}},
		{Name: "types_insert_modes", Cfg: func(c *sink.JSONConfig) {
			c.BigIntUnsignedMode = sink.BigIntUnsignedPrecise
			c.DecimalMode = sink.DecimalDouble
			c.BinaryMode = sink.BinaryHex
			c.TimePrecisionMode = sink.TimeConnect
		}, Events: []event.ChangeEvent{
			{Op: event.OpCreate, Table: types, After: fixture.TypesRow(1, "modes"), Source: fixture.StreamSource}}},
	}
}

// ModeCases: one case per type per mode (DEBEZIUM-REFERENCE §3), defaults
// and source type propagation; testdata/README.md names the sources.
func ModeCases() []Case {
	types := fixture.TypesTable()
	temporal := fixture.TemporalTable()
	defaults := fixture.DefaultsTable()
	var cases []Case
	for _, m := range []sink.TimePrecisionMode{sink.TimeAdaptiveMicroseconds, sink.TimeAdaptive, sink.TimeConnect, sink.TimeISOString, sink.TimeMicroseconds, sink.TimeNanoseconds} {
		cases = append(cases, Case{Name: "temporal_" + m.String(), Cfg: func(c *sink.JSONConfig) { c.TimePrecisionMode = m },
			Events: []event.ChangeEvent{{Op: event.OpCreate, Table: temporal, After: fixture.TemporalRow(), Source: fixture.StreamSource}}})
	}
	insert := func(tab *schema.Table, row []event.Value) []event.ChangeEvent {
		return []event.ChangeEvent{{Op: event.OpCreate, Table: tab, After: row, Source: fixture.StreamSource}}
	}
	return append(cases,
		Case{Name: "types_insert_isostring_string_base64", Cfg: func(c *sink.JSONConfig) {
			c.TimePrecisionMode, c.DecimalMode, c.BinaryMode = sink.TimeISOString, sink.DecimalString, sink.BinaryBase64
		}, Events: insert(types, fixture.TypesRow(1, "iso"))},
		Case{Name: "types_insert_microseconds_base64url", Cfg: func(c *sink.JSONConfig) {
			c.TimePrecisionMode, c.BinaryMode = sink.TimeMicroseconds, sink.BinaryBase64URLSafe
		}, Events: insert(types, fixture.TypesRow(1, "micro"))},
		Case{Name: "types_insert_nanoseconds_adaptive", Cfg: func(c *sink.JSONConfig) {
			c.TimePrecisionMode = sink.TimeNanoseconds
		}, Events: insert(types, fixture.TypesRow(1, "nano"))},
		Case{Name: "types_insert_adaptive", Cfg: func(c *sink.JSONConfig) {
			c.TimePrecisionMode = sink.TimeAdaptive
		}, Events: insert(types, fixture.TypesRow(1, "adaptive"))},
		Case{Name: "defaults_insert", Events: insert(defaults, fixture.DefaultsRow())},
		Case{Name: "defaults_insert_modes", Cfg: func(c *sink.JSONConfig) {
			c.TimePrecisionMode, c.DecimalMode, c.BinaryMode, c.BigIntUnsignedMode = sink.TimeISOString, sink.DecimalString, sink.BinaryHex, sink.BigIntUnsignedPrecise
		}, Events: insert(defaults, fixture.DefaultsRow())},
		Case{Name: "defaults_insert_connect_double", Cfg: func(c *sink.JSONConfig) {
			c.TimePrecisionMode, c.DecimalMode, c.BinaryMode = sink.TimeConnect, sink.DecimalDouble, sink.BinaryBase64
		}, Events: insert(defaults, fixture.DefaultsRow())},
		Case{Name: "propagate_source_type", Cfg: func(c *sink.JSONConfig) {
			c.PropagateSourceTypeColumns = `shop\.all_types\.c_varchar,SHOP.ALL_TYPES.C_DECIMAL,shop.all_types.id`
			c.PropagateSourceTypeDatatypes = `.+\.FLOAT,.+\.ENUM,shop\.all_types\.INT UNSIGNED,.+\.DATETIME`
		}, Events: insert(types, fixture.TypesRow(1, "propagate"))},
	)
}

// TxGoldenCases are the records of transactions with
// provide.transaction.metadata: BEGIN, the change events with their
// transaction blocks, END (testdata/README.md).
func TxGoldenCases() []Case {
	orders := fixture.TwoKeys()
	log := fixture.NoPK()
	orderRow := func(region string, amount string, id int64) []event.Value {
		return []event.Value{fixture.Str(region), event.Bytes(event.KindDecimal, []byte(amount)), event.Int(id)}
	}
	gtid := "3e11fa47-71ca-11e1-9e33-c80aa9429562:23"
	src := fixture.StreamSource
	src.GTID = gtid
	tx := func(total, dc int64) event.Tx { return event.Tx{ID: gtid, TotalOrder: total, DataCollectionOrder: dc} }
	noSchemas := func(c *sink.JSONConfig) { c.KeySchemas, c.ValueSchemas = false, false }
	fileTx := event.Tx{ID: "file=mysql-bin.000004,pos=4567", TotalOrder: 1, DataCollectionOrder: 1}
	return []Case{
		{Name: "tx_metadata", Events: []event.ChangeEvent{
			{Op: event.OpCreate, Table: orders, After: orderRow("eu", "1.00000000", 1), Source: src, Tx: tx(1, 1)},
			// A key change is two data records: d (2, 2) and c (3, 3).
			{Op: event.OpUpdate, Table: orders, Before: orderRow("eu", "1.00000000", 1), After: orderRow("eu", "1.00000000", 2), Source: src, Tx: tx(2, 2)},
			{Op: event.OpCreate, Table: log, After: []event.Value{fixture.Str("hello"), event.Int(1)}, Source: src, Tx: tx(4, 1)},
		}},
		{Name: "tx_metadata_noschema", Cfg: noSchemas, Events: []event.ChangeEvent{
			{Op: event.OpDelete, Table: log, Before: []event.Value{fixture.Str("bye"), event.Int(2)}, Source: fixture.StreamSource, Tx: fileTx},
		}},
	}
}
