package binlog

import (
	"bytes"
	"strconv"

	"github.com/go-mysql-org/go-mysql/replication"
)

// TxBoundary describes, with Config.TxMetadata, the transaction a Batch
// belongs to as Debezium's binlog connectors see transactions
// (BinlogStreamingChangeEventSource.handleTransactionBegin /
// handleTransactionCompletion): on MySQL a group that starts with a BEGIN
// query, on MariaDB every GTID event group; it ends at XID or COMMIT (not at
// ROLLBACK, and a MariaDB DDL group has no end: Debezium emits no END for
// it either).
type TxBoundary struct {
	// ID is the transaction id: the GTID, or without GTIDs
	// "file=<binlog>,pos=<position of BEGIN>"
	// (BinlogOffsetContext.NON_GTID_TRANSACTION_ID_FORMAT). "" when the
	// batch belongs to no transaction (a MySQL DDL statement, a position).
	ID string
	// Begin: the transaction starts in this batch (its BEGIN record is due
	// before the events). False for the later batches of a large
	// transaction and for a transaction resumed after a restart or a
	// reconnect inside it.
	Begin bool
	// End: the transaction committed at the end of this batch (its END
	// record is due after the events).
	End bool
	// BeginTsMs and EndTsMs are the boundaries' source times in
	// milliseconds: the commit timestamp of a MySQL 8 GTID event when there
	// is one, else the header time of the BEGIN (MariaDB: GTID) event and of
	// the XID or COMMIT event.
	BeginTsMs int64
	EndTsMs   int64
}

// txBegin records that a transaction Debezium would see began at the
// current group (MySQL BEGIN query, MariaDB GTID event at start).
func (s *stream) txBegin(h *replication.EventHeader, start uint64) {
	if !s.cfg.TxMetadata {
		return
	}
	s.tx.began = true
	if s.tx.gtid != "" {
		s.tx.txID = s.tx.gtid
	} else {
		s.tx.txID = "file=" + s.file + ",pos=" + strconv.FormatUint(start, 10)
	}
	s.tx.beginTsMs = int64(h.Timestamp) * 1000
	if s.tx.commitTsUs > 0 {
		s.tx.beginTsMs = s.tx.commitTsUs / 1000
	}
	// Inside the first transaction after connecting with events to skip,
	// its BEGIN was handed out before.
	s.tx.resumed = s.firstTx && (s.skipEvent > 0 || s.skipRow > 0)
}

// boundary returns the TxBoundary of a batch of the current transaction;
// end says it is handed out at the transaction's XID or COMMIT.
func (s *stream) boundary(tx *txState, end bool, h *replication.EventHeader) TxBoundary {
	if !tx.began {
		return TxBoundary{}
	}
	b := TxBoundary{ID: tx.txID, Begin: !tx.resumed && !tx.beginSent, BeginTsMs: tx.beginTsMs}
	if end {
		b.End = true
		b.EndTsMs = int64(h.Timestamp) * 1000
		if tx.commitTsUs > 0 {
			b.EndTsMs = tx.commitTsUs / 1000
		}
	}
	return b
}

// isBegin reports a literal BEGIN query, the only statement Debezium takes
// as a transaction start (XA START is not).
func isBegin(q []byte) bool { return bytes.EqualFold(bytes.TrimSpace(q), []byte("BEGIN")) }
