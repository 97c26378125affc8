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
// The package does not read the binlog, but it owns the rule that
// reconciles chunks with it (merge.go): Merge is that rule as a pure state
// machine (no goroutines, timers or I/O) that records the keys the stream
// changed since a chunk's Window, holds a chunk until the stream passes its
// high watermark, drops the rows the stream overtook, forgets changes below
// Snapshotter.Floor, and reports a DDL statement on a table being read
// (the caller then reads again after its last emitted chunk with the new
// definitions; Redefined compares definitions after a failed read). engine
// drives one Merge for the initial snapshot and one for the incremental
// snapshots, each from its own loop, and owns their goroutines, timers and
// offsets. It imports schema, offsets and event only. Main types:
// Snapshotter, Chunk, Merge, Progress, Config; CapturedTables lists what to
// read through a Catalog (schema.Loader).
//
// Rows are read with the binary protocol and converted to the event.Value
// kinds the binlog decoder produces for the same column (the session runs
// with SET NAMES utf8mb4 and time_zone +00:00), so a snapshot row and the
// same row streamed render identically. Temporal values are decoded from
// their binary bytes (converter.fields relabels those result columns so that
// go-mysql hands the bytes over instead of formatting them as text). The
// rows themselves are read by readRows (conn.go) straight from the
// session's socket buffer (frameConn, frame.go: plain sessions; TLS and
// compressed ones from go-mysql's packets, one buffer for all) rather than by go-mysql's loop,
// which copies each row out of a pooled buffer, and decoded straight into event values
// (converter.decode, decode.go) rather than through go-mysql's FieldValues
// when every result column is of a type the decoder knows. A chunk's rows live in memory of its own, which a
// caller that no longer reads them hands to the next chunk read with
// Chunk.Recycle (recycle.go); the initial snapshot does, once the sink
// encoded the chunk's events.
//
// No statement takes a lock: chunks are plain SELECTs in autocommit mode
// (InnoDB consistent non-locking reads), and the only transaction held open
// is the one that reads a table without a usable key in a single consistent
// snapshot (START TRANSACTION WITH CONSISTENT SNAPSHOT).
package snapshot
