// Package binlog owns the replication connection (go-mysql replication), the
// MySQL and MariaDB flavors, GTID and file/position positions, decoding row
// images straight into event.Values, transaction boundaries and reconnects.
//
// It imports schema, offsets and event; never sink, engine or config.
//
// # Main types
//
// Reader connects as a replica (Config.ServerID) and streams Batches: one per
// committed transaction that changed captured rows, partial ones inside
// transactions larger than Config.MaxBatchSize, and empty ones that only move
// the position past transactions that produced nothing. Batch.End is the
// position to store once the batch and everything before it is acknowledged;
// passing it back to Run resumes with nothing lost and nothing repeated
// (inside a transaction: its BEGIN plus rows events to skip, as Debezium's
// event/row offsets).
//
// Archive is a directory of binlog files copied from a server; ReadArchive
// streams them through the same decoding, batches and positions as Run, and
// ArchiveSource reads a stored position the archive holds from the files,
// then continues from the server where they end (CheckArchiveStart is the
// check before it; ArchiveGapError names what the files do not cover).
//
// Tables supplies schema.Table definitions (schema.Loader); Observer receives
// counts for metrics. Errors wrap the sentinels of errors.go; server errors
// come as *Error with a Hint naming the fix, and IsRetryable tells transient
// failures (retried inside Run) from fatal ones.
//
// # Decoding
//
// go-mysql's goroutine only splits rows events into header and body
// (Config.RowsEventDecodeFunc); the Reader's loop, which owns all table state,
// decodes row images with the TABLE_MAP metadata into values aligned with the
// schema.Table columns: one values slice per rows event, byte values pointing
// into the event's buffer (go-mysql allocates one per packet and never reuses
// it) or into a per-event arena for converted text, decimals and JSON.
package binlog
