// Package sink turns change events into Kafka records and delivers them.
//
// It owns the record planner, the type mapping, the JSON value formatting
// the formats share, and the transports: Kafka through franz-go, and stdout
// for trying things out. The formats live in their own packages behind the
// Format interface (sink/debeziumjson: Debezium JSON as Kafka Connect's
// JsonConverter writes it; sink/avro: Avro with a schema registry); they
// import sink, sink imports none of them. It imports only schema and event; it
// never sees offsets (the engine commits positions once the done callbacks
// of Send report success).
//
// The record sequence of one event (which records, which row images, the
// key change as delete + tombstone + create with its headers, tombstones,
// the transaction block's orders) is decided once, by planRecords in
// plan.go; the JSON, Avro and transformed encoders only render its steps
// (through AppendRecordsWith and a Renderer, or, for a format that emits
// its records itself as JSON's transforms do, by walking a Plan).
// Column values are rendered by the type mapping (mapping.go, columns.go),
// which every format shares (format.go: Table, Column).
//
// Main types:
//   - Planner (planner.go) is the record planner every format renders
//     from: the table versions (topic, emitted and key columns) cached per
//     *schema.Table, skipped.operations, DataRecords; its record sequence
//     is plan.go's. It also makes the schema-change events' payloads
//     (SchemaChangePayloads, schemachange.go), which every format wraps or
//     converts.
//   - Format is what the transports render records with; their caller
//     picks it: sink/debeziumjson's JSON.Format or sink/avro's Encoder.
//     A Format that is also an EventsFormat renders a Send's events in
//     one call (Debezium JSON: one processing-clock reading per batch).
//     ConnectSchema is a column's Connect schema, which the formats write.
//     The settings of Debezium JSON's transforms and column mappers stay
//     here (TransformConfig, ColumnMapperConfig: the engine's
//     configuration).
//   - Kafka implements the engine's Sink over a franz-go client: idempotent,
//     acks=all, bounded buffering (Send blocks), topics created on first use.
//   - Stdout implements the same contract by writing one JSON line per
//     record, key and value inlined: a JSON format's (the engine gives it
//     sink/debeziumjson's JSON.Format).
//
// Format facts cite their source: DEBEZIUM-REFERENCE sections 2 and 3, and
// the Debezium / Kafka Java classes named next to the code that mirrors them.
package sink
