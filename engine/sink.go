package engine

import (
	"context"

	"github.com/rivulet-cdc/rivulet/event"
)

// Sink is what the engine needs of a transport (sink.Kafka, sink.Stdout).
type Sink interface {
	// Send encodes and hands off events in order; it blocks when the sink's
	// buffer is full. done is called exactly once, from any goroutine and
	// without blocking, after every record for these events was acknowledged
	// (nil) or once one failed (the error). Calls to done may arrive out of
	// order across Send calls. Send reads events and their values only
	// until it returns: the initial snapshot reuses their memory for the
	// next chunk then (SnapshotConfig.Recycle).
	Send(ctx context.Context, events []event.ChangeEvent, done func(error)) error
	// Flush waits until every record sent so far is acknowledged or failed.
	Flush(ctx context.Context) error
	// Close releases the transport; records not flushed may be lost.
	Close() error
}
