package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

	"golang.org/x/sync/errgroup"

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

// SnapshotConfig configures WithSnapshot.
type SnapshotConfig struct {
	Mode SnapshotMode
	// StopAfter ends the run once the snapshot is complete, without
	// streaming (implied by SnapshotInitialOnly).
	StopAfter   bool
	Catalog     snapshot.Catalog
	Snapshotter *snapshot.Snapshotter
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
}

// WithSnapshot returns a Source that runs the initial snapshot, merged with
// src's stream as described above, when the position says one is due.
func WithSnapshot(src Source, cfg SnapshotConfig) Source {
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
	return &snapshotSource{inner: src, cfg: cfg}
}

type snapshotSource struct {
	inner Source
	cfg   SnapshotConfig
}

// snapshotInitial is offsets.Position.Snapshot while the initial snapshot runs.
const snapshotInitial = "INITIAL"

// Start resolves the stream's start; with no stored position it marks the
// start as a snapshot to run.
func (s *snapshotSource) Start(ctx context.Context, pos offsets.Position) (offsets.Position, error) {
	fresh := pos.IsZero()
	p, err := s.inner.Start(ctx, pos)
	if err != nil {
		return p, err
	}
	if fresh {
		p.Snapshot, p.SnapshotProgress = snapshotInitial, ""
	}
	return p, nil
}

// Run streams from start; when start says a snapshot runs (or the mode is
// always), it runs the snapshot merged into the stream first.
func (s *snapshotSource) Run(ctx context.Context, start offsets.Position, out chan<- binlog.Batch) error {
	log := s.cfg.Logger
	if start.Snapshot != snapshotInitial && s.cfg.Mode == SnapshotWhenNeeded && start.File != "" {
		ok, err := s.cfg.Snapshotter.BinlogAvailable(ctx, start.File)
		if err != nil {
			return fmt.Errorf("snapshot.mode=when_needed: %w", err)
		}
		if !ok {
			log.Warn("snapshot.mode=when_needed: the stored position's binlog is no longer on the server; taking a new snapshot",
				"position", start.String())
			p, err := s.inner.Start(ctx, offsets.Position{})
			if err != nil {
				return err
			}
			start = p
			start.Snapshot = snapshotInitial
		}
	}
	if start.Snapshot != snapshotInitial {
		switch s.cfg.Mode {
		case SnapshotAlways:
			p, err := s.inner.Start(ctx, offsets.Position{})
			if err != nil {
				return err
			}
			log.Info("snapshot.mode=always: snapshotting again", "position", p.String())
			start = p
			start.Snapshot = snapshotInitial
		case SnapshotInitialOnly:
			log.Info("snapshot.mode=initial_only: the snapshot is complete, not streaming")
			return nil
		default:
			start.Snapshot, start.SnapshotProgress = "", ""
			return s.inner.Run(ctx, start, out)
		}
	}
	return s.runSnapshot(ctx, start, out)
}

func (s *snapshotSource) runSnapshot(ctx context.Context, start offsets.Position, out chan<- binlog.Batch) error {
	log := s.cfg.Logger
	prog, err := snapshot.DecodeProgress(start.SnapshotProgress)
	if err != nil {
		return fmt.Errorf("stored offset: %w", err)
	}
	tables, err := snapshot.CapturedTables(ctx, s.cfg.Catalog)
	if err != nil {
		return fmt.Errorf("list captured tables: %w", err)
	}
	streamStart := start
	streamStart.Snapshot, streamStart.SnapshotProgress = "", ""
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
	s.cfg.Observer.Started(ids)
	prg := newProgress(log, s.cfg.ProgressInterval, s.cfg.Now)
	if est, err := s.cfg.Snapshotter.EstimateRows(ctx, tables); err != nil {
		log.Warn("could not read the tables' row estimates: progress lines show no total or ETA", "err", err)
	} else {
		prg.estimate(est)
		for id, n := range est {
			s.cfg.Observer.RowsEstimated(id, n)
		}
	}

	g, gctx := errgroup.WithContext(ctx)
	streamCtx, stopStream := context.WithCancel(gctx)
	defer stopStream()
	bin := make(chan binlog.Batch, 4)
	g.Go(func() error {
		defer close(bin)
		return s.inner.Run(streamCtx, streamStart, bin)
	})
	m := &merger{
		s: s, out: out, snap: s.cfg.Snapshotter, tables: tables, log: log,
		merge: snapshot.NewMerge(streamStart), last: start, progress: start.SnapshotProgress,
		firstDone: !prog.IsZero(), snapPos: streamStart, began: s.cfg.Now(), prg: prg,
	}
	g.Go(func() error {
		m.cur = m.startSnap(gctx, prog, streamStart)
		err := m.run(gctx, bin, stopStream)
		if errors.Is(err, context.Canceled) {
			return nil
		}
		return err
	})
	err = g.Wait()
	if !m.done {
		s.cfg.Observer.Aborted()
	}
	return err
}

// merger runs the initial snapshot's chunks through the merge rule
// (snapshot.Merge) and hands out the stream's batches and the surviving
// rows, with the snapshot's markers and offsets.
type merger struct {
	s      *snapshotSource
	out    chan<- binlog.Batch
	snap   *snapshot.Snapshotter
	tables []*schema.Table
	log    *slog.Logger
	merge  *snapshot.Merge // the merge rule; its Position is the stream's

	last      offsets.Position // End of the last batch handed out (stream part)
	progress  string           // progress after the last emitted chunk
	done      bool             // the last chunk was emitted
	firstDone bool             // the snapshot's first row was emitted (or before a restart)
	snapPos   offsets.Position // source.file/pos of snapshot rows
	began     time.Time

	rows      int64
	dropped   int64
	keep      [][]event.Value // Take's buffer
	lastTable *schema.Table
	cur       *snapRun // the chunk reader, nil once it finished
	ddl       bool     // a captured table changed: restart the reader
	restarts  int      // restarts after read failures
	prg       *progress
	chunks    int64 // chunks emitted
}

// definitionsChanged reports whether a captured table's columns or key
// differ from those the snapshot reads with.
func (m *merger) definitionsChanged(ctx context.Context) bool {
	invalidate(m.s.cfg.Catalog)
	now, err := snapshot.CapturedTables(ctx, m.s.cfg.Catalog)
	return err == nil && snapshot.Redefined(m.tables, now)
}

// invalidate drops the definitions a caching catalog (schema.Loader) holds,
// so that the next read sees a DDL statement's result.
func invalidate(cat snapshot.Catalog) {
	if inv, ok := cat.(interface{ InvalidateAll() }); ok {
		inv.InvalidateAll()
	}
}

// snapRun is one Snapshotter.Run in the background.
type snapRun struct {
	chunks chan *snapshot.Chunk
	errc   chan error // Run's result, sent after chunks is closed
	cancel context.CancelFunc
}

// startSnap starts reading chunks after from; start is the first Window.
func (m *merger) startSnap(ctx context.Context, from snapshot.Progress, start offsets.Position) *snapRun {
	sctx, cancel := context.WithCancel(ctx)
	r := &snapRun{chunks: make(chan *snapshot.Chunk, 1), errc: make(chan error, 1), cancel: cancel}
	tables := m.tables
	go func() {
		err := m.snap.Run(sctx, tables, from, start, r.chunks)
		close(r.chunks)
		r.errc <- err
	}()
	return r
}

// stop cancels the run, releases what it still hands out and waits for it.
func (r *snapRun) stop() {
	r.cancel()
	for ch := range r.chunks {
		ch.Release()
	}
	<-r.errc
}

// restart rereads the captured tables' definitions after a DDL statement
// changed one of them mid-snapshot and continues after the last emitted
// chunk: chunks read with the old definition are dropped unread.
func (m *merger) restart(ctx context.Context) error {
	if m.cur != nil {
		m.cur.stop()
		m.cur = nil
	}
	m.merge.Discard()
	invalidate(m.s.cfg.Catalog)
	tables, err := snapshot.CapturedTables(ctx, m.s.cfg.Catalog)
	if err != nil {
		return fmt.Errorf("list captured tables: %w", err)
	}
	from, err := snapshot.DecodeProgress(m.progress)
	if err != nil {
		return err
	}
	m.tables, m.lastTable = tables, nil
	if len(tables) > 0 {
		m.lastTable = tables[len(tables)-1]
	}
	m.merge.Begin(tables, m.snap)
	m.log.Info("a captured table changed during the snapshot: continuing with its new definition",
		"after", m.progress, "position", m.merge.Position().String())
	m.cur = m.startSnap(ctx, from, m.merge.Position())
	return nil
}

func (m *merger) run(ctx context.Context, bin <-chan binlog.Batch, stopStream func()) error {
	defer func() {
		m.merge.Discard()
		if m.cur != nil {
			m.cur.stop()
		}
	}()
	if len(m.tables) > 0 {
		m.lastTable = m.tables[len(m.tables)-1]
	}
	m.merge.Begin(m.tables, m.snap)
	wait := newHighWait(m.s.cfg.HighWaitLimit)
	defer wait.stop()
	for {
		if m.ddl {
			m.ddl = false
			if m.cur != nil && !m.done {
				if err := m.restart(ctx); err != nil {
					return err
				}
			}
		}
		if ok, late := wait.release(m.merge); ok {
			if late {
				m.log.Debug("stream did not pass a chunk's high watermark: emitting it at the stream's position",
					"high", m.merge.Held().High.String(), "stream", m.merge.Position().String())
			}
			if err := m.emit(ctx); err != nil {
				return err
			}
			continue
		}
		var chunkCh chan *snapshot.Chunk
		if m.cur != nil && m.merge.Held() == nil {
			chunkCh = m.cur.chunks
		}
		select {
		case b, ok := <-bin:
			if !ok {
				return nil // the stream stopped: ctx ended, or its error is in the group
			}
			if err := m.stream(ctx, b); err != nil {
				return err
			}
			if m.merge.Held() != nil {
				wait.arm()
			}
		case ch, ok := <-chunkCh:
			if !ok {
				readErr := <-m.cur.errc
				m.cur = nil
				retried, err := readEnded(ctx, "snapshot", readErr, &m.restarts, m.definitionsChanged, func(ctx context.Context) error {
					m.log.Warn("snapshot read failed after a table definition changed: continuing with the new definition", "error", readErr)
					return m.restart(ctx)
				})
				if err != nil {
					return err
				}
				if retried {
					continue
				}
				if !m.done {
					// No tables, or every table was done before a restart.
					if err := m.finish(ctx); err != nil {
						return err
					}
				}
				if m.s.cfg.Mode == SnapshotInitialOnly || m.s.cfg.StopAfter {
					m.log.Info("snapshot complete; the snapshot mode does not stream, stopping", "mode", string(m.s.cfg.Mode))
					stopStream()
				}
				continue
			}
			m.merge.Hold(ch)
			wait.arm()
		case <-wait.C():
			wait.fired(m.merge)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// stream records the keys a batch changes and forwards it.
func (m *merger) stream(ctx context.Context, b binlog.Batch) error {
	if m.merge.Stream(b.Events, b.Schema, b.End) {
		m.ddl = true
	}
	m.last = b.End
	if !m.done {
		b.End.Snapshot, b.End.SnapshotProgress = snapshotInitial, m.progress
	}
	return m.send(ctx, b)
}

// emit takes the held chunk's rows that the stream did not overtake and
// hands them out as "r" events with Debezium's source.snapshot markers
// (DEBEZIUM-REFERENCE §2.6).
func (m *merger) emit(ctx context.Context) error {
	ch, keep := m.merge.Take(m.keep)
	defer ch.Release()
	m.keep = keep[:0]
	m.dropped += m.merge.Dropped()
	final := ch.TableLast && ch.Table == m.lastTable
	tsUs := m.s.cfg.Now().UnixMicro()
	events := make([]event.ChangeEvent, len(keep))
	for i, row := range keep {
		mark := "true"
		switch {
		case final && i == len(keep)-1:
			mark = "last"
		case !m.firstDone && i == 0:
			mark = "first"
		case ch.TableLast && i == len(keep)-1:
			mark = "last_in_data_collection"
		case ch.TableFirst && i == 0:
			mark = "first_in_data_collection"
		}
		events[i] = event.ChangeEvent{Op: event.OpRead, Table: ch.Table, After: row, Source: event.Source{
			TsUs: tsUs, Snapshot: mark, File: m.snapPos.File, Pos: m.snapPos.Pos, Thread: -1,
		}}
	}
	if len(keep) > 0 {
		m.firstDone = true
	}
	m.rows += int64(len(keep))
	obs := m.s.cfg.Observer
	obs.RowsScanned(ch.Table.ID(), len(ch.Rows))
	obs.ChunkCompleted(ch.Table.ID())
	m.chunks++
	if m.prg != nil {
		m.prg.chunk(ctx, ch.Table, len(ch.Rows))
	}
	// Every batch but the chunk's last keeps the previous progress: a
	// chunk counts as done only when all of its rows are acknowledged.
	for len(events) > m.s.cfg.MaxBatch {
		end := m.last
		end.Snapshot, end.SnapshotProgress = snapshotInitial, m.progress
		if err := m.send(ctx, binlog.Batch{Events: events[:m.s.cfg.MaxBatch:m.s.cfg.MaxBatch], End: end}); err != nil {
			return err
		}
		events = events[m.s.cfg.MaxBatch:]
	}
	m.progress = ch.Progress.Encode()
	end := m.last
	end.Snapshot, end.SnapshotProgress = snapshotInitial, m.progress
	if final {
		end.Snapshot, end.SnapshotProgress = "", ""
	}
	if err := m.send(ctx, binlog.Batch{Events: events, End: end}); err != nil {
		return err
	}
	if ch.TableLast {
		obs.TableCompleted(ch.Table.ID())
		if m.prg != nil {
			m.prg.tableDone(ctx, ch.Table)
		} else {
			m.log.Info("table snapshot complete", "table", ch.Table.ID())
		}
	}
	if final {
		m.complete()
	}
	return nil
}

// finish ends a snapshot that had no chunk left to emit.
func (m *merger) finish(ctx context.Context) error {
	end := m.last
	end.Snapshot, end.SnapshotProgress = "", ""
	if err := m.send(ctx, binlog.Batch{End: end}); err != nil {
		return err
	}
	m.complete()
	return nil
}

func (m *merger) complete() {
	m.done = true
	m.s.cfg.Observer.Completed()
	m.merge.End()
	took := m.s.cfg.Now().Sub(m.began)
	m.log.Info("initial snapshot complete", "rows", m.rows, "rows_superseded_by_stream", m.dropped,
		"chunks", m.chunks, "rows_per_sec", math.Round(ratePerSec(m.rows, took)), "took", took.Round(time.Millisecond))
}

func (m *merger) send(ctx context.Context, b binlog.Batch) error {
	select {
	case m.out <- b:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

type nopSnapshotObserver struct{}

func (nopSnapshotObserver) Started([]string)            {}
func (nopSnapshotObserver) TableCompleted(string)       {}
func (nopSnapshotObserver) RowsScanned(string, int)     {}
func (nopSnapshotObserver) ChunkCompleted(string)       {}
func (nopSnapshotObserver) RowsEstimated(string, int64) {}
func (nopSnapshotObserver) Completed()                  {}
func (nopSnapshotObserver) Aborted()                    {}
