// Package binlog owns the replication connection (go-mysql replication), the
// MySQL and MariaDB flavors, GTID and file/position positions, decoding row
// images straight into event.Values, transaction boundaries and reconnects.
//
// It imports schema, offsets and event; never sink, engine or config.
package binlog
