// Package debeziumjson is the Debezium JSON record format of the sink:
// what Debezium 3.x writes through Kafka Connect's JsonConverter, with or
// without schemas (DEBEZIUM-REFERENCE §2, §3). The name keeps the package
// clear of encoding/json.
//
// It imports sink (the record planner, the type mapping, the shared JSON
// value formatting and the Format interface it implements), schema and
// event; sink does not import it. Its callers (the engine's sink
// configuration, cmd/rivulet's verify) hand JSON.Format to the transports
// as sink.KafkaConfig.Format or to sink.NewStdout.
//
// The records of an event (topic, key, tombstones, the key-change split and
// its headers, the transaction block's orders) are the planner's
// (sink.AppendRecordsWith, or a sink.Plan walked by the transforms); this
// package renders the envelope, its schemas and the payload. Column values
// come from the shared type mapping (sink.Column.AppendJSON); the package
// keeps each column's name, key prefix and a copy of its Connect schema
// (jsonCol, json_column.go; sink.ConnectSchema), whose parameters the
// column mappers change.
//
// Main types and files:
//   - JSON (json.go) encodes one event.ChangeEvent into its records using
//     per-table schema JSON built once per *schema.Table from its Planner;
//     AppendEvents (sink.EventsFormat) encodes a batch with one reading of
//     the processing clock, copying a source block equal to the previous
//     record's (tailCache);
//     schema-change envelopes (json_schemachange.go) wrap the planner's
//     payloads; transaction metadata records (txmeta.go).
//   - Transforms (transform.go, transform_unwrap.go: ByLogicalTableRouter,
//     RegexRouter, ExtractNewRecordState), column mappers (columnmask.go:
//     mask, truncate, hash) and skip.messages.without.change, as configured
//     by sink.TransformConfig and sink.ColumnMapperConfig.
//
// The golden files stay in sink/testdata (testdata/README.md), shared with
// sink/avro's tests.
package debeziumjson
