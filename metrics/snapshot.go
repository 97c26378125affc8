package metrics

import (
	"sync"
	"sync/atomic"
)

// Snapshot holds the snapshot-context metrics (Debezium's
// SnapshotChangeEventSourceMetricsMXBean). The snapshot stage reports to it;
// events it emits are counted by the run loop like streaming ones (op
// 'r'). Obtain it from Stream.Snapshot; methods are safe for concurrent use.
type Snapshot struct {
	s *Stream

	running, paused, aborted, completed, skipped, globalLock atomic.Bool

	totalTables, remainingTables atomic.Int64
	startNs, endNs               atomic.Int64 // wall clock, 0 = not yet
	pausedNs                     atomic.Int64 // total paused duration
	pauseStartNs                 atomic.Int64
	lastEventNs                  atomic.Int64
	inflight                     atomic.Int64
	erroneous                    atomic.Int64

	mu     sync.Mutex
	tables map[string]*snapshotTable
}

type snapshotTable struct {
	rows, chunks, chunksDone atomic.Int64
	// estimated is the server's row estimate (information_schema
	// TABLES.TABLE_ROWS), -1 when unknown; startNs and endNs the wall clock
	// of the table's first rows and of its completion (0: not yet).
	estimated, startNs, endNs atomic.Int64
}

func (sn *Snapshot) table(id string) *snapshotTable {
	sn.mu.Lock()
	defer sn.mu.Unlock()
	if sn.tables == nil {
		sn.tables = make(map[string]*snapshotTable)
	}
	t := sn.tables[id]
	if t == nil {
		t = &snapshotTable{}
		t.estimated.Store(-1)
		sn.tables[id] = t
	}
	return t
}

// Started records a snapshot of tables ("db.table") beginning.
func (sn *Snapshot) Started(tables []string) {
	sn.totalTables.Store(int64(len(tables)))
	sn.remainingTables.Store(int64(len(tables)))
	for _, t := range tables {
		sn.table(t)
	}
	sn.startNs.Store(sn.s.now().UnixNano())
	sn.endNs.Store(0)
	sn.aborted.Store(false)
	sn.completed.Store(false)
	sn.skipped.Store(false)
	sn.running.Store(true)
	sn.s.readyChanged("snapshot started")
}

// TableCompleted records one table fully read.
func (sn *Snapshot) TableCompleted(table string) {
	sn.remainingTables.Add(-1)
	t := sn.table(table)
	now := sn.s.now().UnixNano()
	t.startNs.CompareAndSwap(0, now)
	t.endNs.Store(now)
}

// RowsScanned adds n rows read from table (Debezium RowsScanned map).
func (sn *Snapshot) RowsScanned(table string, n int) {
	t := sn.table(table)
	now := sn.s.now().UnixNano()
	t.startNs.CompareAndSwap(0, now)
	t.rows.Add(int64(n))
	sn.lastEventNs.Store(now)
}

// RowsEstimated records the server's estimate of table's rows (-1: unknown).
func (sn *Snapshot) RowsEstimated(table string, n int64) { sn.table(table).estimated.Store(n) }

// ChunksPlanned records that table is read in n chunks (TableChunkCounts).
func (sn *Snapshot) ChunksPlanned(table string, n int) { sn.table(table).chunks.Store(int64(n)) }

// ChunkCompleted records one chunk of table done (TableChunksCompletedCounts).
func (sn *Snapshot) ChunkCompleted(table string) { sn.table(table).chunksDone.Add(1) }

// HoldingGlobalLock records whether FLUSH TABLES WITH READ LOCK is held.
func (sn *Snapshot) HoldingGlobalLock(held bool) { sn.globalLock.Store(held) }

// Paused records the snapshot paused (true) or resumed (false).
func (sn *Snapshot) Paused(p bool) {
	now := sn.s.now().UnixNano()
	if p && !sn.paused.Swap(true) {
		sn.pauseStartNs.Store(now)
	} else if !p && sn.paused.Swap(false) {
		sn.pausedNs.Add(now - sn.pauseStartNs.Load())
	}
}

// Completed records the snapshot finished successfully.
func (sn *Snapshot) Completed() { sn.finish(&sn.completed, "snapshot completed") }

// Aborted records the snapshot stopped before the end (error or shutdown).
func (sn *Snapshot) Aborted() { sn.finish(&sn.aborted, "snapshot aborted") }

// Skipped records that no snapshot runs (snapshot.mode no_data or never).
func (sn *Snapshot) Skipped() { sn.skipped.Store(true) }

// Erroneous counts an event that could not be processed.
func (sn *Snapshot) Erroneous() { sn.erroneous.Add(1) }

func (sn *Snapshot) finish(flag *atomic.Bool, cause string) {
	sn.endNs.Store(sn.s.now().UnixNano())
	sn.Paused(false)
	flag.Store(true)
	sn.running.Store(false)
	sn.s.readyChanged(cause)
}

// durationSec is SnapshotDurationInSeconds: running time so far, or total.
func (sn *Snapshot) durationSec() float64 {
	start := sn.startNs.Load()
	if start == 0 {
		return 0
	}
	end := sn.endNs.Load()
	if end == 0 {
		end = sn.s.now().UnixNano()
	}
	return float64((end - start) / 1e9)
}

func (sn *Snapshot) pausedSec() float64 {
	d := sn.pausedNs.Load()
	if sn.paused.Load() {
		d += sn.s.now().UnixNano() - sn.pauseStartNs.Load()
	}
	return float64(d / 1e9)
}

// SchemaHistory holds the schema-history-context metrics (Debezium's
// SchemaHistoryMXBean) and the count of DDL statements skipped as
// unparseable. Obtain it from Stream.SchemaHistory.
type SchemaHistory struct {
	s *Stream

	status                         atomic.Int32 // historyStopped, …
	recoveryStartNs                atomic.Int64
	recovered, applied             atomic.Int64
	lastRecoveredNs, lastAppliedNs atomic.Int64
	ddlSkipped                     atomic.Int64
	ddlNeutral                     atomic.Int64
	ddlFallback                    [len(DDLFallbackKinds)]atomic.Int64
}

// DDLFallbackKinds are the ways a DDL statement the parser could not read is
// resolved (schema.Tracker), the kind label of rivulet_ddl_fallback_total.
var DDLFallbackKinds = [...]string{"binlog_metadata", "reload", "dropped_later"}

// Schema history states (Debezium SchemaHistoryMXBean Status).
const (
	historyStopped int32 = iota
	historyRecovering
	historyRunning
)

var historyStatusNames = [...]string{"STOPPED", "RECOVERING", "RUNNING"}

// RecoveryStarted records that the stored history is being replayed.
func (h *SchemaHistory) RecoveryStarted() {
	h.recoveryStartNs.Store(h.s.now().UnixNano())
	h.status.Store(historyRecovering)
}

// ChangeRecovered counts one stored DDL replayed.
func (h *SchemaHistory) ChangeRecovered() {
	h.recovered.Add(1)
	h.lastRecoveredNs.Store(h.s.now().UnixNano())
}

// Running records that recovery is over and new DDL is being applied.
func (h *SchemaHistory) Running() { h.status.Store(historyRunning) }

// Stopped records the history closed.
func (h *SchemaHistory) Stopped() { h.status.Store(historyStopped) }

// ChangeApplied counts one DDL read from the binlog and recorded.
func (h *SchemaHistory) ChangeApplied() {
	h.applied.Add(1)
	h.lastAppliedNs.Store(h.s.now().UnixNano())
}

// DDLSkipped counts one DDL statement skipped because it could not be parsed
// (schema.history.internal.skip.unparseable.ddl=true).
func (h *SchemaHistory) DDLSkipped() { h.ddlSkipped.Add(1) }

// DDLNeutralUnparsed counts one statement the parser could not read that
// cannot change columns (an index, constraint, partition or table-option
// change): recorded and passed over.
func (h *SchemaHistory) DDLNeutralUnparsed() { h.ddlNeutral.Add(1) }

// DDLFallback counts one statement, or one table map of a table the history
// lacked, resolved by fallback kind (one of DDLFallbackKinds; others are
// not counted).
func (h *SchemaHistory) DDLFallback(kind string) {
	for i, k := range DDLFallbackKinds {
		if k == kind {
			h.ddlFallback[i].Add(1)
		}
	}
}
