// Package avro is the Avro record format of the sink: what Kafka Connect's
// io.confluent.connect.avro.AvroConverter writes for Debezium's records,
// in Confluent's wire format (magic byte 0, the 4-byte schema id, the Avro
// binary datum), with the schemas registered in a Confluent-compatible
// schema registry under <topic>-key and <topic>-value (TopicNameStrategy).
//
// It imports sink (the record planner, the type mapping and the Format
// interface it implements), schema and event; sink does not import it. The
// caller (cmd/rivulet) picks it when key.converter/value.converter name
// the AvroConverter and hands it to the Kafka transport as
// sink.KafkaConfig.Format.
//
// The records of an event (topic, key, tombstones, the key-change split and
// its headers, the transaction block's orders) are the planner's
// (sink.AppendRecordsWith); this package renders each planned key and
// value. Column values come from the shared type mapping
// (sink.Column.AppendJSON) and are converted to their Avro datum, so that
// JSON and Avro apply the same conversions.
//
// Main types:
//   - Encoder implements sink.Format: data change, schema change and
//     transaction metadata records; Schemas returns a table's Avro schemas.
//   - Registry is the schema registry client (franz-go's sr), with retries
//     while the registry is unavailable and a cache of registered ids;
//     SchemaRegistrar is the one method Encoder needs of it.
//   - NameAdjustment is schema.name.adjustment.mode / field.name.adjustment.mode.
//   - Heartbeat encodes the heartbeat records.
//
// Its tests decode every record with goavro and compare it with the JSON
// golden files (../testdata/golden, the cases of sink/internal/sinktest).
// The Kafka transport's test with an unavailable registry is in sink
// (kafka_avro_test.go).
//
// Format facts cite their source: Confluent's AvroData and AvroConverter,
// and DEBEZIUM-REFERENCE sections 2 and 3.
package avro
