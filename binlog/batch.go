package binlog

import (
	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/offsets"
	"github.com/rivulet-cdc/rivulet/schema"
)

// Batch is a run of change events followed by a point where the position may
// be committed: End is the position to store once every event of this batch
// and of all earlier batches has been acknowledged downstream. A batch ends at
// a transaction commit, or inside a large transaction at a rows-event boundary
// (End then carries the events to skip on restart). Ownership of Events passes
// with the send.
type Batch struct {
	Events []event.ChangeEvent
	End    offsets.Position
	// Schema holds the schema changes (DDL) of this batch, in binlog order,
	// when the Reader tracks DDL (Config.DDL). They must be recorded in the
	// schema history before End is committed.
	Schema []*schema.Change
	// SchemaSource holds, for each of Schema, the source block Debezium
	// gives its schema-change event: the statement's start position, its
	// transaction's GTID, its time and server, and the row index of the
	// last rows event read before it (Debezium's source.row is not reset
	// by a DDL; seen by the differential suite).
	SchemaSource []event.Source
	// Tx describes the batch's transaction when Config.TxMetadata is on
	// (provide.transaction.metadata); zero otherwise.
	Tx TxBoundary
}
