package engine

import (
	"context"
	"log/slog"
	"time"

	"github.com/rivulet-cdc/rivulet/binlog"
	"github.com/rivulet-cdc/rivulet/offsets"
	"github.com/rivulet-cdc/rivulet/schema"
	"github.com/rivulet-cdc/rivulet/snapshot"
)

// runLoop runs the source side as Run does (the binlog reader, the source
// loop) and hands every batch the loop delivers to out, End and all, until
// ctx ends or the source stops.
func runLoop(ctx context.Context, cfg Config, src Source, start offsets.Position, out chan<- binlog.Batch) error {
	cfg.setDefaults()
	in := startIntake(ctx, cfg)
	defer in.release()
	in.g.Go(func() error {
		return runSource(in, cfg, src, start, func(ctx context.Context, b binlog.Batch) error {
			select {
			case out <- b:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}, nil)
	})
	return in.g.Wait()
}

// newTestLoop returns a source loop at start that hands its batches to
// out, for a test to give snapshot states and drive with loop.
func newTestLoop(start offsets.Position, out chan<- binlog.Batch) *sourceLoop {
	return &sourceLoop{
		log: slog.New(slog.DiscardHandler), chunkCtx: context.Background(), stream: start, stopStream: func() {},
		out: func(ctx context.Context, b binlog.Batch) error {
			select {
			case out <- b:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		},
	}
}

// withInitial gives l an initial snapshot reading tables with snap, its
// chunk reader replaced by chunks and errc.
func (l *sourceLoop) withInitial(cfg SnapshotConfig, snap *snapshot.Snapshotter, tables []*schema.Table,
	chunks chan *snapshot.Chunk, errc chan error, cancel func()) *initialSnap {
	cfg.setDefaults()
	s := &initialSnap{l: l, cfg: cfg, snap: snap, tables: tables, log: cfg.Logger,
		merge: snapshot.NewMerge(l.stream), wait: newHighWait(cfg.HighWaitLimit), snapPos: l.stream, began: time.Now()}
	s.lastTable = tables[len(tables)-1]
	s.merge.Begin(tables, snap)
	s.cur = &snapRun{chunks: chunks, errc: errc, cancel: cancel}
	l.init = s
	return s
}

// withIncremental gives l an incremental snapshot of tables running with
// snap, its chunk reader replaced by chunks and errc.
func (l *sourceLoop) withIncremental(cfg SignalConfig, snap *snapshot.Snapshotter, tables []*schema.Table,
	chunks chan *snapshot.Chunk, errc chan error, cancel func()) *incSnap {
	cfg.setDefaults()
	m := &incSnap{l: l, cfg: cfg, log: cfg.Logger, merge: snapshot.NewMerge(l.stream),
		wait: newHighWait(cfg.HighWaitLimit), window: l.stream, snap: snap, tables: tables}
	for _, t := range tables {
		m.st.Tables = append(m.st.Tables, t.ID())
	}
	m.merge.Begin(tables, snap)
	m.run = &snapRun{chunks: chunks, errc: errc, cancel: cancel}
	l.inc = m
	return m
}
