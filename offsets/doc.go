// Package offsets owns the position model (binlog file/pos, GTID set, events
// and rows to skip inside a transaction) and its stores. It imports nothing
// of Rivulet's.
//
// Position is the restart point. Key, MarshalValue and UnmarshalValue speak
// Kafka Connect's offset format exactly as Debezium's MySQL and MariaDB
// connectors write it (DEBEZIUM-REFERENCE §4.2), so positions move between
// Debezium and Rivulet in both directions. FileStore keeps them in a JSON
// file, replaced atomically on every Save. Interfaces over stores belong to
// their consumer (engine.OffsetStore); this package returns concrete types.
package offsets
