package metrics

import (
	"cmp"
	"encoding/json"
	"net/http"
	"slices"
	"sync/atomic"
	"time"
)

// Status is what GET /status answers (and `rivulet status` prints): the
// state of one running instance, read from the same atomics the Prometheus
// collector reads. Field names are the JSON contract of the endpoint.
type Status struct {
	Connector string    `json:"connector"`
	Plugin    string    `json:"plugin"`
	Time      time.Time `json:"time"`
	// Phase is "snapshot" while the initial snapshot reads tables,
	// "streaming" while the binlog connection is up, "starting" before
	// either, "disconnected" when the binlog connection dropped.
	Phase    string         `json:"phase"`
	Ready    bool           `json:"ready"`
	Snapshot SnapshotStatus `json:"snapshot"`
	Binlog   BinlogStatus   `json:"binlog"`
	Queue    QueueStatus    `json:"queue"`
	Offsets  OffsetStatus   `json:"offsets"`
	LastDDL  *Stamped       `json:"last_ddl,omitempty"`
	LastErr  *Stamped       `json:"last_error,omitempty"`
}

// SnapshotStatus is the initial snapshot's state and per-table progress.
type SnapshotStatus struct {
	Running         bool          `json:"running"`
	Completed       bool          `json:"completed"`
	Aborted         bool          `json:"aborted"`
	Skipped         bool          `json:"skipped"`
	DurationSeconds float64       `json:"duration_seconds"`
	TotalTables     int64         `json:"total_tables"`
	RemainingTables int64         `json:"remaining_tables"`
	Tables          []TableStatus `json:"tables,omitempty"`
}

// TableStatus is one table's snapshot progress. Estimated is the server's
// estimate (information_schema TABLES.TABLE_ROWS, approximate for InnoDB),
// -1 when unknown; RowsPerSecond and ETASeconds are derived from the rows
// read since the table's first chunk (ETASeconds -1: unknown).
type TableStatus struct {
	Table         string  `json:"table"`
	Rows          int64   `json:"rows"`
	Estimated     int64   `json:"estimated"`
	Chunks        int64   `json:"chunks"`
	Done          bool    `json:"done"`
	RowsPerSecond float64 `json:"rows_per_second"`
	ETASeconds    float64 `json:"eta_seconds"`
}

// BinlogStatus is where the binlog reader is and how far behind it runs.
type BinlogStatus struct {
	Connected bool   `json:"connected"`
	File      string `json:"file,omitempty"`
	Pos       int64  `json:"pos"`
	// LagSeconds is wall clock minus the database time of the last event
	// (-1 before the first); LagBytes the bytes the server wrote beyond
	// what was read (-1 unknown); ServerEndPos the server's binlog end.
	LagSeconds   float64 `json:"lag_seconds"`
	LagBytes     int64   `json:"lag_bytes"`
	ServerEndPos int64   `json:"server_end_pos"`
	Disconnects  int64   `json:"disconnects"`
}

// QueueStatus is the events waiting for Kafka acknowledgement.
type QueueStatus struct {
	Events   int64 `json:"events"`
	Capacity int64 `json:"capacity"`
}

// OffsetStatus compares the position last written to the offset store with
// the highest position whose every record Kafka acknowledged (the next
// commit, offset.flush.interval.ms later).
type OffsetStatus struct {
	Stored       Position `json:"stored"`
	Acknowledged Position `json:"acknowledged"`
	StoredAt     string   `json:"stored_at,omitempty"`
}

// Position is a binlog file and offset ("" and 0 when none yet).
type Position struct {
	File string `json:"file,omitempty"`
	Pos  int64  `json:"pos"`
}

// Stamped is a text with the time it was recorded.
type Stamped struct {
	Text string    `json:"text"`
	At   time.Time `json:"at"`
}

// stampedVal holds a *Stamped for lock-free reads.
type stampedVal struct{ p atomic.Pointer[Stamped] }

func (v *stampedVal) set(text string, at time.Time) { v.p.Store(&Stamped{Text: text, At: at}) }
func (v *stampedVal) get() *Stamped                 { return v.p.Load() }

// PositionAcked records the highest binlog position whose every record
// Kafka acknowledged (engine's tracker); it is stored at the next commit.
func (s *Stream) PositionAcked(file string, pos uint64) {
	if p := s.ackFile.Load(); p == nil || *p != file {
		f := file
		s.ackFile.Store(&f)
	}
	s.ackPos.Store(int64(pos))
}

// Error records the last error a stage reported (a dropped connection, a
// failed snapshot read), shown by /status. err must not carry secrets.
func (s *Stream) Error(err error) {
	if err != nil {
		s.lastErr.set(err.Error(), s.now())
	}
}

// DDLRecorded records the last DDL statement applied and recorded in the
// schema history (db is the database it applies to).
func (h *SchemaHistory) DDLRecorded(db, ddl string) {
	text := ddl
	if db != "" {
		text = db + ": " + ddl
	}
	h.s.lastDDL.set(text, h.s.now())
}

// Status returns the instance's state now.
func (s *Stream) Status() Status {
	sn := s.snapshot
	st := Status{Connector: s.opts.Name, Plugin: s.opts.Plugin, Time: s.now().UTC(), Ready: s.Ready()}
	switch {
	case sn.running.Load():
		st.Phase = "snapshot"
	case s.connected.Load():
		st.Phase = "streaming"
	case s.disconnects.Load() > 0:
		st.Phase = "disconnected"
	default:
		st.Phase = "starting"
	}
	st.Snapshot = SnapshotStatus{
		Running: sn.running.Load(), Completed: sn.completed.Load(), Aborted: sn.aborted.Load(),
		Skipped: sn.skipped.Load(), DurationSeconds: sn.durationSec(),
		TotalTables: sn.totalTables.Load(), RemainingTables: sn.remainingTables.Load(),
	}
	now := s.now().UnixNano()
	sn.mu.Lock()
	for id, t := range sn.tables {
		st.Snapshot.Tables = append(st.Snapshot.Tables, t.status(id, now))
	}
	sn.mu.Unlock()
	slices.SortFunc(st.Snapshot.Tables, func(a, b TableStatus) int { return cmp.Compare(a.Table, b.Table) })

	st.Binlog = BinlogStatus{Connected: s.connected.Load(), Pos: s.binlogPos.Load(),
		LagSeconds: -1, LagBytes: s.lagBytes.Load(), ServerEndPos: s.sourceEndPos.Load(), Disconnects: s.disconnects.Load()}
	if f := s.binlogFile.Load(); f != nil {
		st.Binlog.File = *f
	}
	if ms := s.behindMs.Load(); ms >= 0 {
		st.Binlog.LagSeconds = float64(ms) / 1000
	}
	st.Queue = QueueStatus{Events: s.inflight.Load(), Capacity: int64(s.opts.QueueCapacity)}
	st.Offsets.Stored.Pos = s.commitPos.Load()
	if f := s.commitFile.Load(); f != nil {
		st.Offsets.Stored.File = *f
	}
	if ns := s.commitNs.Load(); ns > 0 {
		st.Offsets.StoredAt = time.Unix(0, ns).UTC().Format(time.RFC3339Nano)
	}
	st.Offsets.Acknowledged.Pos = s.ackPos.Load()
	if f := s.ackFile.Load(); f != nil {
		st.Offsets.Acknowledged.File = *f
	}
	st.LastDDL, st.LastErr = s.lastDDL.get(), s.lastErr.get()
	return st
}

// status derives one table's progress at wall clock now (ns).
func (t *snapshotTable) status(id string, now int64) TableStatus {
	ts := TableStatus{Table: id, Rows: t.rows.Load(), Estimated: t.estimated.Load(), Chunks: t.chunksDone.Load(),
		ETASeconds: -1}
	start, end := t.startNs.Load(), t.endNs.Load()
	ts.Done = end != 0
	if ts.Done {
		now = end
		ts.ETASeconds = 0
	}
	if start != 0 && now > start {
		ts.RowsPerSecond = float64(ts.Rows) / (float64(now-start) / 1e9)
	}
	if !ts.Done && ts.Estimated >= 0 && ts.RowsPerSecond > 0 {
		ts.ETASeconds = max(0, float64(ts.Estimated-ts.Rows)/ts.RowsPerSecond)
	}
	return ts
}

// statusHandler serves Status as JSON.
func statusHandler(s *Stream) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(s.Status())
	}
}
