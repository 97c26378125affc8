// Package engine wires the stages: it owns the goroutines, the run loop that
// moves batches from binlog to sink, offset commits after acknowledgement and
// the ordered shutdown. Nothing imports engine except cmd/rivulet.
package engine
