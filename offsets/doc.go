// Package offsets owns the position model (binlog file/pos, GTID set, events and
// rows to skip inside a transaction) and its stores. It imports nothing of Rivulet's.
package offsets
