package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/rivulet-cdc/rivulet/binlog"
	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/offsets"
)

// Source is what the engine needs of a change source (binlog.Reader).
type Source interface {
	// Start resolves where streaming begins: the stored position, or for a
	// zero one the current end of the binlog.
	Start(ctx context.Context, pos offsets.Position) (offsets.Position, error)
	// Run streams batches from start into out until ctx is cancelled (it then
	// stops at a transaction boundary and returns nil or ctx.Err()) or a fatal
	// error occurs. It does not close out.
	Run(ctx context.Context, start offsets.Position, out chan<- binlog.Batch) error
}

// OffsetStore is what the engine needs of an offset store (offsets.FileStore).
type OffsetStore interface {
	Load(ctx context.Context) (offsets.Position, bool, error)
	Save(ctx context.Context, p offsets.Position) error
}

// Observer receives engine-level facts for metrics (metrics.Stream); nil
// means no-op. Calls come from the run loop and must not block.
type Observer interface {
	// BatchQueued counts a batch of events taken from the source.
	BatchQueued(events int)
	// OffsetCommitted records a position written to the offsets store (or
	// committed with a Kafka transaction): binlog file:pos.
	OffsetCommitted(file string, pos uint64)
}

// AckObserver is an Observer that also wants the highest position whose
// every record was acknowledged, as it moves (before it is committed,
// FlushInterval later). Called from the sink's callbacks: must not block.
type AckObserver interface {
	PositionAcked(file string, pos uint64)
}

// Config holds what the run loop needs; zero means default.
type Config struct {
	// FlushInterval is how often acknowledged positions are written to the
	// store (offset.flush.interval.ms). Default 1s; Debezium's 60s default
	// only widens the duplicate window after a crash.
	FlushInterval time.Duration
	// QueueBatches bounds the batches between source and sink (max.queue.size
	// divided by max.batch.size). Default 4.
	QueueBatches int
	// ShutdownTimeout bounds the drain after the context is cancelled. Default 30s.
	ShutdownTimeout time.Duration
	Logger          *slog.Logger
	// Observer, when set, receives the run loop's facts; when it is also
	// an AckObserver or a SendObserver, those too.
	Observer Observer
	// SkippedOperations are the operations the sink drops
	// (skipped.operations): a SendObserver does not count them as sent.
	SkippedOperations []event.Op
	// History, when set, is started before streaming and records every
	// batch's schema changes before the batch's position can be committed.
	History SchemaHistory
	// SchemaChanges, when set (include.schema.changes), publishes a
	// schema-change event per recorded DDL.
	SchemaChanges SchemaChangeSink
	// Transactions, when set (exactly.once.support=required), writes
	// batches and their offsets in sink transactions (see eos.go); the store
	// then only loads the start and saves it when none was stored.
	Transactions Transactions
	// TransactionEvents bounds the change events of one transaction.
	// Default DefaultTransactionEvents.
	TransactionEvents int
	// TxMetadata, when set (provide.transaction.metadata), writes the
	// BEGIN/END records of the source's transactions and the transaction
	// block of their events (txmeta.go); the source must describe them
	// (binlog.Config.TxMetadata).
	TxMetadata TxMetadataSink
	// Snapshot, when set, runs the initial snapshot its mode asks for,
	// merged into the stream (snapshot.go); the stored position then says
	// whether one is due.
	Snapshot *SnapshotConfig
	// Signals, when set, acts on Debezium signals (signal table, Kafka
	// channel) and runs the incremental snapshots they ask for
	// (incremental.go).
	Signals *SignalConfig
}

func (c *Config) setDefaults() {
	if c.FlushInterval <= 0 {
		c.FlushInterval = time.Second
	}
	if c.QueueBatches <= 0 {
		c.QueueBatches = 4
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = 30 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Run moves batches from src to snk and commits positions to store once every
// record before them was acknowledged. Cancelling ctx is a graceful stop: the
// source stops at a transaction boundary, everything read is flushed, the last
// acknowledged position is saved, and Run returns nil. A fatal error of any
// stage stops the others and is returned; the position is not moved past
// anything unacknowledged.
func Run(ctx context.Context, cfg Config, src Source, snk Sink, store OffsetStore) error {
	cfg.setDefaults()
	store, cfg.History = faultStore(store), faultHistory(cfg.History) // build tag rivuletfault only
	log := cfg.Logger

	start, found, err := store.Load(ctx)
	if err != nil {
		return fmt.Errorf("load offsets: %w", err)
	}
	if found {
		log.Info("resuming from stored position", "position", start.String())
		if cfg.History != nil {
			if err := cfg.History.Start(ctx, start, true); err != nil {
				return err
			}
		}
	} else {
		// Store where streaming begins before anything is read, so that a
		// crash before the first commit restarts here instead of at a later end.
		if start, err = src.Start(ctx, start); err != nil {
			return err
		}
		if cfg.Snapshot != nil {
			// With no stored position, the initial snapshot is due.
			start.Snapshot, start.SnapshotProgress = snapshotInitial, ""
		}
		if cfg.History != nil {
			// The schema at the start is recorded (and published) before
			// the start is.
			if err := startFresh(ctx, cfg, start); err != nil {
				return err
			}
		}
		if err := store.Save(ctx, start); err != nil {
			return fmt.Errorf("save start position %s: %w", start.String(), err)
		}
		if cfg.Observer != nil && start.File != "" {
			cfg.Observer.OffsetCommitted(start.File, start.Pos)
		}
		log.Info("no stored position: streaming from the current end of the binlog", "position", start.String())
	}

	if cfg.Transactions != nil {
		return runTransactional(ctx, cfg, src, snk, start)
	}
	tr := newTracker(start)
	if ao, ok := cfg.Observer.(AckObserver); ok {
		tr.onAck = ao.PositionAcked
		// Everything before the start was acknowledged by an earlier run:
		// say so now, not only once a new change arrives (`rivulet verify`
		// waits for the acknowledged position to pass its reads).
		// Not a start inside an initial snapshot: its rows are not acknowledged.
		if start.File != "" && start.Snapshot == "" {
			ao.PositionAcked(start.File, start.Pos)
		}
	}
	txm := newTxMeta(cfg.TxMetadata)
	counter := newSendCounter(cfg.Observer, cfg.SkippedOperations)
	in := startIntake(ctx, cfg)
	defer in.release()
	g, gctx := in.g, in.gctx
	drained := make(chan struct{})
	// The sink side of the source loop: each batch's DDL is recorded, its
	// end tracked until every record before it is acknowledged.
	deliver := func(ctx context.Context, b binlog.Batch) error {
		if err := recordSchema(ctx, &cfg, &b); err != nil {
			return err
		}
		seq := tr.add(b.End)
		ack := func(err error) { tr.done(seq, err) }
		if len(b.Schema) > 0 && cfg.SchemaChanges != nil {
			// Schema-change events: acknowledged before b.End commits too.
			ack = joinAcks(2, ack)
			if err := cfg.SchemaChanges.SendSchemaChanges(ctx, b.Schema, ddlSources(&b), ack); err != nil {
				return fmt.Errorf("schema changes: %w", err)
			}
		}
		if err := sendEvents(ctx, txm, counter, snk, &b, ack); err != nil {
			return err
		}
		return tr.failed()
	}
	g.Go(func() error {
		defer close(drained)
		if err := runSource(in, cfg, src, start, deliver, nil); err != nil {
			return err
		}
		// The source stopped: wait for every record, then the final commit below.
		if err := snk.Flush(gctx); err != nil {
			return fmt.Errorf("flush sink: %w", err)
		}
		return tr.failed()
	})
	g.Go(func() error {
		t := time.NewTicker(cfg.FlushInterval)
		defer t.Stop()
		for {
			select {
			case <-gctx.Done():
				return nil
			case <-drained: // the final commit follows g.Wait
				return nil
			case <-t.C:
				if err := commit(gctx, store, tr, cfg, false); err != nil {
					return err
				}
			case <-tr.fail:
				return tr.failed()
			}
		}
	})
	runErr := g.Wait()
	// Commit whatever is acknowledged, even after a failure: those records are in Kafka.
	commitCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := commit(commitCtx, store, tr, cfg, true); err != nil {
		runErr = errors.Join(runErr, err)
	}
	if in.timedOut(ctx) {
		// The drain was cut by shutdown.timeout: say so rather than the
		// context error it caused somewhere below.
		return fmt.Errorf("shutdown timed out after %s: unacknowledged records will be re-read on restart", cfg.ShutdownTimeout)
	}
	return runErr
}

func commit(ctx context.Context, store OffsetStore, tr *tracker, cfg Config, final bool) error {
	p, ok := tr.committable()
	if !ok {
		return nil
	}
	if err := store.Save(ctx, p); err != nil {
		return fmt.Errorf("save offsets at %s: %w", p.String(), err)
	}
	tr.committed(p)
	if cfg.Observer != nil {
		cfg.Observer.OffsetCommitted(p.File, p.Pos)
	}
	if final {
		cfg.Logger.Info("offsets committed", "position", p.String())
	}
	return nil
}

// tracker follows batches in order and knows the highest position whose
// every earlier record was acknowledged. done may be called from any goroutine.
type tracker struct {
	mu      sync.Mutex
	next    uint64 // seq of the next batch added
	low     uint64 // lowest seq not yet acknowledged
	pending map[uint64]offsets.Position
	acked   map[uint64]bool
	best    offsets.Position // highest contiguous acknowledged position
	dirty   bool             // best moved since the last commit
	err     error
	fail    chan struct{}
	onAck   func(file string, pos uint64) // nil: none; called when best moves
}

func newTracker(start offsets.Position) *tracker {
	return &tracker{
		pending: make(map[uint64]offsets.Position),
		acked:   make(map[uint64]bool),
		best:    start,
		fail:    make(chan struct{}),
	}
}

func (t *tracker) add(p offsets.Position) uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	seq := t.next
	t.next++
	t.pending[seq] = p
	return seq
}

func (t *tracker) done(seq uint64, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err != nil {
		if t.err == nil {
			t.err = err
			close(t.fail)
		}
		return
	}
	t.acked[seq] = true
	for t.acked[t.low] {
		t.best = t.pending[t.low]
		delete(t.acked, t.low)
		delete(t.pending, t.low)
		t.low++
		t.dirty = true
	}
	// A position inside the initial snapshot is not reported: the binlog
	// position of its chunks is where streaming will start, yet rows of later
	// chunks are still to come (`rivulet verify` would compare too early).
	if t.dirty && t.onAck != nil && t.best.File != "" && t.best.Snapshot == "" {
		t.onAck(t.best.File, t.best.Pos)
	}
}

func (t *tracker) failed() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.err != nil {
		return fmt.Errorf("sink: %w", t.err)
	}
	return nil
}

func (t *tracker) committable() (offsets.Position, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.best, t.dirty && !t.best.IsZero()
}

func (t *tracker) committed(p offsets.Position) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.best == p {
		t.dirty = false
	}
}
