// Package engine wires the stages: it owns the goroutines, the run loop that
// moves batches from binlog to sink, offset commits after acknowledgement and
// the ordered shutdown. Nothing imports engine except cmd/rivulet.
//
// The initial snapshot (snapshot.go) and the ad-hoc incremental snapshots
// asked for by signals (incremental.go) each run a loop that selects over
// stream batches, chunks and a timer and hands their chunks to a
// snapshot.Merge: the merge rule itself (watermarks, pruning, release, a
// table definition changing mid-snapshot) lives there, once; these loops
// own the chunk reader's goroutine, the wait limit, markers and offsets.
package engine
