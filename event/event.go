package event

import "github.com/rivulet-cdc/rivulet/schema"

// Op is the Debezium operation code.
type Op byte

// Operation codes, as Debezium's Envelope.Operation spells them.
const (
	OpCreate   Op = 'c'
	OpUpdate   Op = 'u'
	OpDelete   Op = 'd'
	OpRead     Op = 'r'
	OpTruncate Op = 't'
)

// ChangeEvent is one row change. Before and After are aligned with
// Table.Columns (same length, same order); the one that does not apply is nil.
type ChangeEvent struct {
	Op     Op
	Table  *schema.Table
	Before []Value
	After  []Value
	Source Source
	// Tx is the event's transaction block (provide.transaction.metadata),
	// set by the engine; a zero Tx (ID "") is rendered as null.
	Tx Tx
	// Replayed marks an event read again after a restart inside its
	// transaction: it was emitted before the restart and is only counted
	// for the transaction's orders, never sent again. Set by binlog only
	// when its Config.TxMetadata is on (otherwise such events are dropped).
	Replayed bool
}

// Source mirrors Debezium's MySQL source block (DEBEZIUM-REFERENCE §2.4) minus
// the connector-wide fields (version, connector, name) that sink fills in, and
// db/table that come from Table.
type Source struct {
	// TsUs is the change time in the database, microseconds since the epoch
	// (binlog header seconds ×1e6 unless a finer commit timestamp is known).
	TsUs int64
	// Snapshot is "" while streaming (rendered as "false"), otherwise one of
	// "true", "first", "first_in_data_collection", "last_in_data_collection", "last".
	Snapshot string
	ServerID uint32
	GTID     string // current transaction's GTID, "" for none
	File     string
	Pos      uint64 // start of the rows (or DDL) event, as Debezium's EventHeaderV4.getPosition
	Row      int32  // row index inside the rows event
	Thread   int64  // thread id of the transaction's QUERY event; -1 when unknown
	Query    string // original SQL, "" unless include.query is on
}

// KeyChanged reports an update that changes the record key: the columns of
// Table.Key() (message.key.columns, else the primary key), the columns the
// sink builds the key from, so that the metrics and the delete + create the
// sink writes for it agree.
func (e *ChangeEvent) KeyChanged() bool {
	if e.Op != OpUpdate || e.Before == nil || e.After == nil || e.Table == nil {
		return false
	}
	for _, i := range e.Table.Key() {
		if i >= len(e.Before) || i >= len(e.After) {
			return false
		}
		if !e.Before[i].Equal(e.After[i]) {
			return true
		}
	}
	return false
}
