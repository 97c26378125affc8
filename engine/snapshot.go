package engine

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/rivulet-cdc/rivulet/binlog"
	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/offsets"
	"github.com/rivulet-cdc/rivulet/schema"
	"github.com/rivulet-cdc/rivulet/snapshot"
)

// How the initial snapshot and the binlog stream interleave
//
// Rivulet runs the snapshot *inside* the stream, as Netflix's DBLog does,
// with one binlog connection and no watermark table:
//
//  1. With no stored offset, the stream's start P0 (the current end of the
//     binlog) is stored with snapshot=INITIAL before anything is read.
//  2. The binlog stream runs from P0 for the whole snapshot, and every
//     change it reads is emitted as usual, in binlog order.
//  3. Chunks are read with keyset SELECTs, each between a low watermark L
//     and a high watermark H (SHOW MASTER STATUS), and merged by the rule
//     of snapshot/merge.go (snapshot.Merge), which the incremental snapshot
//     shares. A chunk is emitted, as
//     op "r" events, only once the stream has passed H; before that, every
//     row whose key the stream saw changed at or after the chunk's Window
//     (the low watermark of the previous chunk read on the same connection,
//     or P0) is dropped from the chunk: the stream already emitted a change
//     for that key, which is at least as new as the row.
//  4. A row that survives had no change in [Window, now]: its value is the
//     table's value at H and at the moment it is emitted, and every later
//     change of that key is in the binlog after H, so it is emitted after
//     the row. A row that was dropped is represented by the stream's events
//     for its key (an insert, an update, or a delete and its tombstone).
//     Either way the last event per key is the table's row: topics end up
//     equal to the tables, and no emitted row is older than a change
//     already streamed.
//
// Window reaches one chunk back rather than to L because MySQL and MariaDB
// write a transaction to the binlog before they make it visible: a
// transaction below L may still be invisible to the SELECT. Dropping a row
// is always safe (the stream emits every change after P0), so the wider
// window costs only rows re-sent by the stream.
//
// Offsets: every batch handed to the engine while the snapshot runs carries
// the stream position reached so far, snapshot=INITIAL, and in
// SnapshotProgress the resume point after the last emitted chunk. After a
// crash the stream restarts from the stored position and the snapshot from
// the chunk after the stored progress: a chunk is delivered at least once,
// a stream change at least once, and the rule above holds across restarts.
// The last chunk's batch clears snapshot and progress.
//
// A DDL statement on a captured table while the snapshot runs (seen in the
// stream's Batch.Schema, or first as a failed chunk read) restarts the
// chunk reader after the last emitted chunk with the tables' new
// definitions; chunks read with the old one are dropped and read again.
//
// A table without a usable key is read whole in one consistent-snapshot
// transaction, handed out in chunk-size pieces as it is read (memory stays
// bounded), and emitted without reconciliation (there is no key): rows
// changed while the snapshot ran appear both as "r" and as stream events,
// and a restart reads the table again from its start.

// SnapshotMode says when the engine snapshots (config snapshot.mode).
type SnapshotMode string

// Snapshot modes.
const (
	// SnapshotInitial snapshots when no offset is stored, then streams.
	SnapshotInitial SnapshotMode = "initial"
	// SnapshotInitialOnly snapshots when no offset is stored and stops.
	SnapshotInitialOnly SnapshotMode = "initial_only"
	// SnapshotAlways snapshots on every start, then streams from where the
	// snapshot began.
	SnapshotAlways SnapshotMode = "always"
	// SnapshotWhenNeeded snapshots when no offset is stored or when the
	// stored position's binlog file is no longer on the server.
	SnapshotWhenNeeded SnapshotMode = "when_needed"
)

// SnapshotObserver receives snapshot progress for metrics (metrics.Snapshot);
// calls must not block. nil means no-op.
type SnapshotObserver interface {
	Started(tables []string)
	TableCompleted(table string)
	RowsScanned(table string, n int)
	RowsEstimated(table string, n int64)
	ChunkCompleted(table string)
	Completed()
	Aborted()
}

// Snapshotter is what the engine needs of a chunk reader
// (snapshot.Snapshotter): Run reads tables' chunks in order and blocks
// until it sent the last one, ctx ended or a read failed; it does not close
// out. Floor is the merge rule's pruning bound (snapshot.Floorer).
type Snapshotter interface {
	Run(ctx context.Context, tables []*schema.Table, from snapshot.Progress, start offsets.Position, out chan<- *snapshot.Chunk) error
	Floor() (offsets.Position, bool)
	// EstimateRows returns the server's row estimate per "db.table".
	EstimateRows(ctx context.Context, tables []*schema.Table) (map[string]int64, error)
	// BinlogAvailable reports whether the server still has binlog file.
	BinlogAvailable(ctx context.Context, file string) (bool, error)
}

var _ Snapshotter = (*snapshot.Snapshotter)(nil)

// SnapshotConfig configures the initial snapshot (Config.Snapshot): the
// source loop runs it, merged with the stream as described above, when the
// position says one is due.
type SnapshotConfig struct {
	Mode SnapshotMode
	// StopAfter ends the run once the snapshot is complete, without
	// streaming (implied by SnapshotInitialOnly).
	StopAfter   bool
	Catalog     snapshot.Catalog
	Snapshotter Snapshotter
	// MaxBatch bounds the events per batch of snapshot rows. Default 2048.
	MaxBatch int
	Logger   *slog.Logger
	// Now returns the time of a snapshot read; default time.Now.
	Now func() time.Time
	// Observer receives progress; nil means no-op.
	Observer SnapshotObserver
	// HighWaitLimit is how long a chunk waits for the stream to pass its
	// high watermark while no batch arrives, before it is emitted at the
	// stream's position anyway. Topics still end equal to the tables (every
	// later change follows the rows); only a row may then be followed by an
	// older streamed change of its key. Default 5s: beyond the reader's
	// position interval (1s), so it fires only when the binlog moved
	// without a transaction (a rotation).
	HighWaitLimit time.Duration
	// ProgressInterval is how often, at most, one INFO line per table
	// reports its progress (rivulet.snapshot.progress.interval.ms);
	// zero means DefaultProgressInterval, negative no progress lines
	// (the per-table totals are logged still).
	ProgressInterval time.Duration
	// Recycle lets the snapshot reuse a chunk's rows, their values' memory
	// (snapshot.Chunk.Recycle) and its events for the next chunk once the
	// batches holding them were sent. Set it only when the sink side is done
	// with a batch's events and their values when its send returns: the
	// pipeline's sinks (sink.Kafka, sink.Stdout) encode in Send. Off, every
	// chunk's memory is left to the garbage collector.
	Recycle bool
}

// maxRowTables bounds the captured tables rowTables checks in its one
// query; with more, their topics are created by their writers.
const maxRowTables = 64

// rowTables returns, at a fresh start whose initial snapshot is due (cfg
// not nil), the captured tables that hold a row: their topics will get a
// record, so the sink may create them ahead (startFresh). It runs after
// the stream's start P0 was taken: a row present then is read by the
// snapshot, or changed after P0 and streamed (a delete and its tombstone
// included). A race that loses it (a row deleted by a transaction written
// to the binlog before P0 yet visible at the check, or a change to it that
// skipped.operations drops) leaves its topic as a Debezium snapshot taken
// at the check would: created, and holding no record of that row. Empty
// tables are left out: Debezium creates no topic for them. nil when there
// are more than maxRowTables tables, or the check fails (best effort: the
// writers create the topics as before).
func rowTables(ctx context.Context, cfg *SnapshotConfig) []*schema.Table {
	if cfg == nil {
		return nil
	}
	ne, ok := cfg.Snapshotter.(interface {
		NonEmpty(ctx context.Context, tables []*schema.Table) ([]bool, error)
	})
	if !ok {
		return nil
	}
	began := time.Now()
	tables, err := snapshot.CapturedTables(ctx, cfg.Catalog)
	if err != nil || len(tables) == 0 || len(tables) > maxRowTables {
		return nil
	}
	has, err := ne.NonEmpty(ctx, tables)
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err != nil {
		log.Debug("could not check which tables hold rows: their topics are created with their first records", "err", err)
		return nil
	}
	var out []*schema.Table
	for i, t := range tables {
		if has[i] {
			out = append(out, t)
		}
	}
	log.Debug("checked which captured tables hold rows", "tables", len(tables), "with_rows", len(out), "took", time.Since(began))
	return out
}

// snapshotInitial is offsets.Position.Snapshot while the initial snapshot runs.
const snapshotInitial = "INITIAL"

func (cfg *SnapshotConfig) setDefaults() {
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 2048
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Observer == nil {
		cfg.Observer = nopSnapshotObserver{}
	}
	if cfg.HighWaitLimit <= 0 {
		cfg.HighWaitLimit = 5 * time.Second
	}
	if cfg.ProgressInterval == 0 {
		cfg.ProgressInterval = DefaultProgressInterval
	}
}

// initialSnap is the initial snapshot's state in the source loop: its
// chunks go through the merge rule (snapshot.Merge), and the loop hands
// out the surviving rows with the snapshot's markers and offsets. It owns
// no goroutine but its chunk reader's (cur).
type initialSnap struct {
	l      *sourceLoop
	cfg    SnapshotConfig
	snap   Snapshotter
	tables []*schema.Table
	log    *slog.Logger
	merge  *snapshot.Merge // the merge rule; its Position is the stream's
	wait   *highWait

	from      snapshot.Progress // where the first chunk reader starts
	progress  string            // progress after the last emitted chunk
	done      bool              // the last chunk was emitted
	firstDone bool              // the snapshot's first row was emitted (or before a restart)
	snapPos   offsets.Position  // source.file/pos of snapshot rows; the first Window
	began     time.Time

	rows      int64
	dropped   int64
	keep      [][]event.Value     // Take's buffer
	events    []event.ChangeEvent // emit's buffer when cfg.Recycle
	lastTable *schema.Table
	cur       *snapRun // the chunk reader, nil once it finished
	restarts  int      // restarts after read failures
	prg       *progress
	chunks    int64 // chunks emitted
}

// newInitialSnap decides from the stored start and the mode whether an
// initial snapshot runs (nil: none) and whether the stream runs at all
// (initial_only after a completed snapshot: no), and returns the position
// streaming starts from (a new one for always and when_needed).
func newInitialSnap(ctx context.Context, l *sourceLoop, cfg SnapshotConfig, start offsets.Position) (
	_ *initialSnap, _ offsets.Position, stream bool, _ error) {
	cfg.setDefaults()
	log := cfg.Logger
	if start.Snapshot != snapshotInitial && cfg.Mode == SnapshotWhenNeeded && start.File != "" {
		ok, err := cfg.Snapshotter.BinlogAvailable(ctx, start.File)
		if err != nil {
			return nil, start, false, fmt.Errorf("snapshot.mode=when_needed: %w", err)
		}
		if !ok {
			log.Warn("snapshot.mode=when_needed: the stored position's binlog is no longer on the server; taking a new snapshot",
				"position", start.String())
			p, err := l.src.Start(ctx, offsets.Position{})
			if err != nil {
				return nil, start, false, err
			}
			start = p
			start.Snapshot = snapshotInitial
		}
	}
	if start.Snapshot != snapshotInitial {
		switch cfg.Mode {
		case SnapshotAlways:
			p, err := l.src.Start(ctx, offsets.Position{})
			if err != nil {
				return nil, start, false, err
			}
			log.Info("snapshot.mode=always: snapshotting again", "position", p.String())
			start = p
			start.Snapshot = snapshotInitial
		case SnapshotInitialOnly:
			log.Info("snapshot.mode=initial_only: the snapshot is complete, not streaming")
			return nil, start, false, nil
		default:
			start.Snapshot, start.SnapshotProgress = "", ""
			return nil, start, true, nil
		}
	}

	prog, err := snapshot.DecodeProgress(start.SnapshotProgress)
	if err != nil {
		return nil, start, false, fmt.Errorf("stored offset: %w", err)
	}
	tables, err := snapshot.CapturedTables(ctx, cfg.Catalog)
	if err != nil {
		return nil, start, false, fmt.Errorf("list captured tables: %w", err)
	}
	streamStart := start
	streamStart.Snapshot, streamStart.SnapshotProgress, streamStart.Incremental = "", "", ""
	if prog.IsZero() {
		log.Info("initial snapshot started: no locks are taken (snapshot.locking.mode makes no difference)",
			"tables", len(tables), "position", streamStart.String())
	} else {
		log.Info("initial snapshot resumed", "table", prog.DB+"."+prog.Table, "position", streamStart.String())
	}

	ids := make([]string, len(tables))
	for i, t := range tables {
		ids[i] = t.ID()
	}
	cfg.Observer.Started(ids)
	prg := newProgress(log, cfg.ProgressInterval, cfg.Now)
	if est, err := cfg.Snapshotter.EstimateRows(ctx, tables); err != nil {
		log.Warn("could not read the tables' row estimates: progress lines show no total or ETA", "err", err)
	} else {
		prg.estimate(est)
		for id, n := range est {
			cfg.Observer.RowsEstimated(id, n)
		}
	}
	s := &initialSnap{
		l: l, cfg: cfg, snap: cfg.Snapshotter, tables: tables, log: log,
		merge: snapshot.NewMerge(streamStart), wait: newHighWait(cfg.HighWaitLimit),
		from: prog, progress: start.SnapshotProgress, firstDone: !prog.IsZero(), snapPos: streamStart,
		began: cfg.Now(), prg: prg,
	}
	return s, start, true, nil
}

// begin starts the chunk reader; the stream starts at snapPos.
func (s *initialSnap) begin() {
	if len(s.tables) > 0 {
		s.lastTable = s.tables[len(s.tables)-1]
	}
	s.merge.Begin(s.tables, s.snap)
	s.cur = startRun(s.l.chunkCtx, s.snap, s.tables, s.from, s.snapPos)
}

// halt stops the chunk reader and drops the held chunk: a stop or a
// failure; the chunks not emitted are read again after a restart.
func (s *initialSnap) halt() {
	s.merge.Discard()
	s.wait.stop()
	if s.cur != nil {
		s.cur.stop()
		s.cur = nil
	}
}

// definitionsChanged reports whether a captured table's columns or key
// differ from those the snapshot reads with.
func (s *initialSnap) definitionsChanged(ctx context.Context) bool {
	invalidate(s.cfg.Catalog)
	now, err := snapshot.CapturedTables(ctx, s.cfg.Catalog)
	return err == nil && snapshot.Redefined(s.tables, now)
}

// invalidate drops the definitions a caching catalog (schema.Loader) holds,
// so that the next read sees a DDL statement's result.
func invalidate(cat snapshot.Catalog) {
	if inv, ok := cat.(interface{ InvalidateAll() }); ok {
		inv.InvalidateAll()
	}
}

// restart rereads the captured tables' definitions after a DDL statement
// changed one of them mid-snapshot and continues after the last emitted
// chunk: chunks read with the old definition are dropped unread.
func (s *initialSnap) restart(ctx context.Context) error {
	if s.cur != nil {
		s.cur.stop()
		s.cur = nil
	}
	s.merge.Discard()
	invalidate(s.cfg.Catalog)
	tables, err := snapshot.CapturedTables(ctx, s.cfg.Catalog)
	if err != nil {
		return fmt.Errorf("list captured tables: %w", err)
	}
	from, err := snapshot.DecodeProgress(s.progress)
	if err != nil {
		return err
	}
	s.tables, s.lastTable = tables, nil
	if len(tables) > 0 {
		s.lastTable = tables[len(tables)-1]
	}
	s.merge.Begin(tables, s.snap)
	s.log.Info("a captured table changed during the snapshot: continuing with its new definition",
		"after", s.progress, "position", s.merge.Position().String())
	s.cur = startRun(s.l.chunkCtx, s.snap, tables, from, s.merge.Position())
	return nil
}

// onChunk takes the chunk reader's next chunk (ok false: it ended).
func (s *initialSnap) onChunk(ctx context.Context, ch *snapshot.Chunk, ok bool) error {
	if ok {
		s.merge.Hold(ch)
		s.wait.arm()
		return nil
	}
	readErr := <-s.cur.errc
	s.cur = nil
	retried, err := readEnded(ctx, "snapshot", readErr, &s.restarts, s.definitionsChanged, func(ctx context.Context) error {
		s.log.Warn("snapshot read failed after a table definition changed: continuing with the new definition", "error", readErr)
		return s.restart(ctx)
	})
	if err != nil || retried {
		return err
	}
	if !s.done {
		// No tables, or every table was done before a restart.
		if err := s.finish(ctx); err != nil {
			return err
		}
	}
	if s.cfg.Mode == SnapshotInitialOnly || s.cfg.StopAfter {
		s.log.Info("snapshot complete; the snapshot mode does not stream, stopping", "mode", string(s.cfg.Mode))
		s.l.stopStream()
	}
	return nil
}

// emit takes the held chunk's rows that the stream did not overtake and
// hands them out as "r" events with Debezium's source.snapshot markers
// (DEBEZIUM-REFERENCE §2.6).
func (s *initialSnap) emit(ctx context.Context) error {
	ch, keep := s.merge.Take(s.keep)
	defer ch.Release()
	s.keep = keep[:0]
	s.dropped += s.merge.Dropped()
	final := ch.TableLast && ch.Table == s.lastTable
	tsUs := s.cfg.Now().UnixMicro()
	var events []event.ChangeEvent
	if s.cfg.Recycle && cap(s.events) >= len(keep) {
		events = s.events[:len(keep)]
	} else {
		events = make([]event.ChangeEvent, len(keep))
	}
	all := events
	for i, row := range keep {
		mark := "true"
		switch {
		case final && i == len(keep)-1:
			mark = "last"
		case !s.firstDone && i == 0:
			mark = "first"
		case ch.TableLast && i == len(keep)-1:
			mark = "last_in_data_collection"
		case ch.TableFirst && i == 0:
			mark = "first_in_data_collection"
		}
		events[i] = event.ChangeEvent{Op: event.OpRead, Table: ch.Table, After: row, Source: event.Source{
			TsUs: tsUs, Snapshot: mark, File: s.snapPos.File, Pos: s.snapPos.Pos, Thread: -1,
		}}
	}
	if len(keep) > 0 {
		s.firstDone = true
	}
	s.rows += int64(len(keep))
	obs := s.cfg.Observer
	obs.RowsScanned(ch.Table.ID(), len(ch.Rows))
	obs.ChunkCompleted(ch.Table.ID())
	s.chunks++
	if s.prg != nil {
		s.prg.chunk(ctx, ch.Table, len(ch.Rows))
	}
	// Every batch but the chunk's last keeps the previous progress: a
	// chunk counts as done only when all of its rows are acknowledged.
	for len(events) > s.cfg.MaxBatch {
		if err := s.l.send(ctx, binlog.Batch{Events: events[:s.cfg.MaxBatch:s.cfg.MaxBatch], End: s.l.end()}); err != nil {
			return err
		}
		events = events[s.cfg.MaxBatch:]
	}
	s.progress = ch.Progress.Encode()
	end := s.l.end()
	if final {
		end.Snapshot, end.SnapshotProgress = "", ""
	}
	if err := s.l.send(ctx, binlog.Batch{Events: events, End: end}); err != nil {
		return err
	}
	if s.cfg.Recycle {
		// Every batch was sent and encoded: nothing reads the rows any more.
		s.events = all[:0]
		ch.Recycle()
	}
	if ch.TableLast {
		obs.TableCompleted(ch.Table.ID())
		if s.prg != nil {
			s.prg.tableDone(ctx, ch.Table)
		} else {
			s.log.Info("table snapshot complete", "table", ch.Table.ID())
		}
	}
	if final {
		s.complete()
	}
	return nil
}

// finish ends a snapshot that had no chunk left to emit.
func (s *initialSnap) finish(ctx context.Context) error {
	end := s.l.end()
	end.Snapshot, end.SnapshotProgress = "", ""
	if err := s.l.send(ctx, binlog.Batch{End: end}); err != nil {
		return err
	}
	s.complete()
	return nil
}

func (s *initialSnap) complete() {
	s.done = true
	s.cfg.Observer.Completed()
	s.merge.End()
	s.wait.stop()
	took := s.cfg.Now().Sub(s.began)
	s.log.Info("initial snapshot complete", "rows", s.rows, "rows_superseded_by_stream", s.dropped,
		"chunks", s.chunks, "rows_per_sec", math.Round(ratePerSec(s.rows, took)), "took", took.Round(time.Millisecond))
}

type nopSnapshotObserver struct{}

func (nopSnapshotObserver) Started([]string)            {}
func (nopSnapshotObserver) TableCompleted(string)       {}
func (nopSnapshotObserver) RowsScanned(string, int)     {}
func (nopSnapshotObserver) ChunkCompleted(string)       {}
func (nopSnapshotObserver) RowsEstimated(string, int64) {}
func (nopSnapshotObserver) Completed()                  {}
func (nopSnapshotObserver) Aborted()                    {}
