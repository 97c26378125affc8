// Package config reads a Debezium MySQL/MariaDB connector configuration, the
// JSON a user POSTs to Kafka Connect ({"name": ..., "config": {...}}) or the
// same keys in a Java .properties file, into one typed Config with Debezium's
// defaults, and validates it.
//
// Every problem is reported at once (errors.Join), each naming the key, the
// value and the fix; all of them match ErrInvalid, and values Rivulet does
// not support yet also match ErrUnsupported. Keys with no effect in Rivulet
// (Kafka Connect and converter noise such as tasks.max or errors.*) are
// listed in one Warning rather than silently dropped; deprecated Debezium 1.x
// names (database.server.name, database.history.*, *.whitelist/*.blacklist)
// are accepted with a Warning.
//
// The main types are Config (with Database, Filters, Converter,
// SchemaHistory, Kafka and Offsets groups), Secret (a string that never
// prints), Warning and FieldError. Each pipeline stage takes its own small
// Config; the engine maps this one onto them, so no stage imports config.
// config imports nothing of Rivulet's.
package config
