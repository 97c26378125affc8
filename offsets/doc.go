// Package offsets owns the position model (binlog file/pos, GTID set, events
// and rows to skip inside a transaction) and its stores. It imports nothing
// of Rivulet's.
//
// Position is the restart point. Key, MarshalValue and UnmarshalValue speak
// Kafka Connect's offset format exactly as Debezium's MySQL and MariaDB
// connectors write it (DEBEZIUM-REFERENCE §4.2), so positions move between
// Debezium and Rivulet in both directions. FileStore keeps them in a JSON
// file, replaced atomically on every Save, or in the offsets file of a Kafka
// Connect standalone worker, in that file's own form (connectfile.go). KafkaStore keeps them in a Kafka
// Connect offsets topic (offset.storage.topic), one transaction per Save, so
// Rivulet continues in place from a Debezium connector's offsets. Both guard
// against a second writer: Lock (a file lock; a consumer-group lease plus
// transactional-id fencing) fails with ErrLocked while another process runs
// the connector. Interfaces over stores belong to their consumer
// (engine.OffsetStore); this package returns concrete types.
package offsets
