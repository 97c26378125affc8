// Package snapshot reads the rows that exist when capture starts, without
// locks and resumably: each captured table is split by its key into chunks
// read with keyset queries (WHERE key > lo AND key <= hi), each chunk
// bracketed by two binlog positions read with SHOW MASTER STATUS, the low
// and high watermarks (the DBLog / Flink CDC chunk algorithm). Several
// connections read chunks in parallel; chunks come out in table and key
// order with the positions the caller needs to reconcile them with the
// binlog stream, and a Progress that says where to resume once the chunk is
// delivered.
//
// The package does not read the binlog: engine merges chunks into the stream
// (see engine/snapshot.go for the reconciliation rule), using Chunk.Window,
// Snapshotter.Floor (how far back streamed changes still matter) and
// AppendKey (the same key identity for snapshot rows and binlog rows). It
// imports schema, offsets and event only. Main types: Snapshotter, Chunk,
// Progress, Config; CapturedTables lists what to read through a Catalog
// (schema.Loader).
//
// Rows are read with the binary protocol and converted to the event.Value
// kinds the binlog decoder produces for the same column (the session runs
// with SET NAMES utf8mb4 and time_zone +00:00), so a snapshot row and the
// same row streamed render identically.
//
// No statement takes a lock: chunks are plain SELECTs in autocommit mode
// (InnoDB consistent non-locking reads), and the only transaction held open
// is the one that reads a table without a usable key in a single consistent
// snapshot (START TRANSACTION WITH CONSISTENT SNAPSHOT).
package snapshot
