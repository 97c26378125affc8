package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/rivulet-cdc/rivulet/binlog"
	"github.com/rivulet-cdc/rivulet/offsets"
	"github.com/rivulet-cdc/rivulet/snapshot"
)

// The source loop
//
// One goroutine owns the source side, as vitess's vstreamer does: it
// receives the binlog reader's batches straight from the reader's output
// channel, the chunks of the initial snapshot's and of the incremental
// snapshot's chunk readers, the Kafka signal channel's signals (signal
// table rows arrive inside the batches), the high-watermark timers and the
// context, and hands every batch to the sink side itself (Run's
// acknowledgement tracker, or runTransactional's Kafka transactions). A
// change crosses one channel and two goroutines on its way to the sink:
// the reader's and this loop's.
//
// The initial snapshot (snapshot.go) and the incremental snapshots asked
// for by signals (incremental.go) are two states the loop consults, each
// holding a snapshot.Merge; neither owns a goroutine or a channel, only
// the chunk reader it starts (one goroutine per run, snapRun). Every batch
// handed out carries the stream's position with both states' markers
// (sourceLoop.end): offsets.Position.Snapshot and SnapshotProgress while
// the initial snapshot runs, Incremental while signals are enabled.

// sourceLoop is the state of the loop; it is owned by the goroutine that
// runs it (runSource), and no lock guards it.
type sourceLoop struct {
	log *slog.Logger
	src Source
	// out hands a batch to the sink side; idle, when set, is called when
	// the loop has nothing at hand and is about to wait (a transaction
	// commits there).
	out  func(context.Context, binlog.Batch) error
	idle func(context.Context) error

	stream offsets.Position // End of the last stream batch, without markers
	init   *initialSnap     // nil: no initial snapshot this run
	inc    *incSnap         // nil: no signal channel
	kafka  <-chan Signal    // nil: no Kafka signal channel

	// chunkCtx ends when the graceful stop begins (the source's context):
	// the chunk readers run under it; after it the loop only drains the
	// stream (stopping).
	chunkCtx   context.Context
	stopping   bool
	stopStream func() // ends the binlog reader (initial_only)
	sinkErr    error  // the sink side's error, returned unwrapped
}

// end is the position a batch handed out now carries: the stream's, with
// the initial snapshot's progress while it runs and the incremental
// snapshot state while signals are enabled.
func (l *sourceLoop) end() offsets.Position {
	e := l.stream
	if l.init != nil && !l.init.done {
		e.Snapshot, e.SnapshotProgress = snapshotInitial, l.init.progress
	}
	if l.inc != nil {
		e.Incremental = l.inc.st.encode()
	}
	return e
}

// send hands b to the sink side.
func (l *sourceLoop) send(ctx context.Context, b binlog.Batch) error {
	if err := l.out(ctx, b); err != nil {
		l.sinkErr = err
		return err
	}
	return nil
}

// waitIdle tells the sink side that the loop is about to wait.
func (l *sourceLoop) waitIdle(ctx context.Context) error {
	if l.idle == nil {
		return nil
	}
	if err := l.idle(ctx); err != nil {
		l.sinkErr = err
		return err
	}
	return nil
}

// runSource runs the source side for Run and runTransactional: it decides
// whether an initial snapshot is due, starts the binlog reader and the
// Kafka signal reader in in's group, and runs the loop in the calling
// goroutine until the stream ends (a graceful stop, or initial_only done)
// or a stage fails. out and idle are the sink side (sourceLoop).
func runSource(in *intake, cfg Config, src Source, start offsets.Position,
	out func(context.Context, binlog.Batch) error, idle func(context.Context) error) error {
	l := &sourceLoop{log: cfg.Logger, src: src, out: out, idle: idle, chunkCtx: in.srcCtx}
	err := l.run(in, cfg, start)
	switch {
	case err == nil, errors.Is(err, context.Canceled):
		return nil // a stop; a failure elsewhere is the group's error
	case err == l.sinkErr:
		return err
	}
	return fmt.Errorf("source: %w", err)
}

func (l *sourceLoop) run(in *intake, cfg Config, start offsets.Position) error {
	ctx, gctx := in.srcCtx, in.gctx
	incremental := start.Incremental // kept when a snapshot starts the stream again
	stream := true
	if cfg.Snapshot != nil {
		var err error
		if l.init, start, stream, err = newInitialSnap(ctx, l, *cfg.Snapshot, start); err != nil {
			return err
		}
	}
	defer func() {
		l.halt()
		if l.init != nil && !l.init.done {
			l.init.cfg.Observer.Aborted()
		}
	}()
	if !stream {
		return nil
	}
	streamStart := start
	streamStart.Snapshot, streamStart.SnapshotProgress, streamStart.Incremental = "", "", ""
	l.stream = streamStart
	if cfg.Signals != nil {
		var err error
		if l.inc, err = newIncSnap(l, *cfg.Signals, incremental); err != nil {
			return err
		}
	}

	// The binlog reader: the one producer of bin, which it closes.
	bin := make(chan binlog.Batch, cfg.QueueBatches)
	readCtx, stopStream := context.WithCancel(ctx)
	defer stopStream()
	l.stopStream = stopStream
	in.g.Go(func() error {
		defer close(bin)
		err := l.src.Run(readCtx, streamStart, bin)
		if err != nil && !errors.Is(err, context.Canceled) {
			return fmt.Errorf("source: %w", err)
		}
		return nil
	})
	if l.inc != nil && l.inc.cfg.Kafka != nil {
		kafka := make(chan Signal, 16)
		kctx, stopKafka := context.WithCancel(ctx)
		defer stopKafka() // the loop ends: so does the signal reader
		from := l.inc.st.Kafka
		in.g.Go(func() error {
			err := l.inc.cfg.Kafka(kctx, from, kafka)
			if errors.Is(err, context.Canceled) {
				return nil
			}
			return err
		})
		l.kafka = kafka
	}
	if l.init != nil {
		l.init.begin()
	}
	if l.inc != nil {
		if err := l.inc.resume(gctx); err != nil {
			return err
		}
	}
	return l.loop(gctx, bin)
}

// halt stops the chunk readers; what they read and nothing emitted is
// read again after a restart.
func (l *sourceLoop) halt() {
	if l.init != nil {
		l.init.halt()
	}
	if l.inc != nil {
		l.inc.halt()
	}
}

// quiet reports whether nothing but the stream needs watching: no chunk
// reader, no held chunk, no Kafka signal channel.
func (l *sourceLoop) quiet() bool {
	return (l.init == nil || l.init.done && l.init.cur == nil) && l.kafka == nil &&
		(l.inc == nil || l.inc.run == nil && l.inc.merge.Held() == nil)
}

// loop is the select loop: ctx is the sink side's (it ends on a failure,
// or when the drain after a graceful stop timed out).
func (l *sourceLoop) loop(ctx context.Context, bin <-chan binlog.Batch) error {
	for {
		if !l.stopping {
			released, err := l.release(ctx)
			if err != nil {
				return err
			}
			if released {
				continue
			}
		}
		if l.quiet() || l.stopping {
			// The streaming path: a receive as cheap as a range over bin.
			// The reader closes bin when ctx or chunkCtx end.
			if len(bin) == 0 {
				if err := l.waitIdle(ctx); err != nil {
					return err
				}
			}
			b, ok := <-bin
			if !ok {
				return nil
			}
			if l.inc == nil && (l.init == nil || l.init.done) {
				// Plain streaming: no marker to add, no state to act on
				// (nor a later reader of l.stream).
				if err := l.send(ctx, b); err != nil {
					return err
				}
				continue
			}
			if err := l.onStream(ctx, b); err != nil {
				return err
			}
			continue
		}
		in := l.recv(ctx, bin)
		if in.kind == inFailed {
			return in.err
		}
		if (in.kind == inInitialChunk || in.kind == inIncrementalChunk) && !in.ok && l.chunkCtx.Err() != nil {
			in.kind = inStop // the reader ended because the stop began
		}
		switch in.kind {
		case inStream:
			if !in.ok {
				return nil // the stream ended: a stop, or its error is in the group
			}
			if err := l.onStream(ctx, in.b); err != nil {
				return err
			}
		case inInitialChunk:
			if err := l.init.onChunk(ctx, in.ch, in.ok); err != nil {
				return err
			}
		case inIncrementalChunk:
			if err := l.inc.onChunk(ctx, in.ch, in.ok); err != nil {
				return err
			}
		case inSignal:
			if err := l.inc.onKafka(ctx, in.sig); err != nil {
				return err
			}
		case inInitialWait:
			l.init.wait.fired(l.init.merge)
		case inIncrementalWait:
			l.inc.wait.fired(l.inc.merge)
		case inStop:
			// Graceful stop: the reader stops at a transaction boundary and
			// closes bin; what it handed out is still delivered. The chunk
			// readers stop now; their chunks are read again after a restart.
			l.stopping = true
			l.halt()
		case inCancel:
			return ctx.Err()
		}
	}
}

// release emits a held chunk that is due (the stream passed its high
// watermark, or its wait is over), and restarts the initial snapshot's
// reader after a DDL statement; it reports whether it did anything.
func (l *sourceLoop) release(ctx context.Context) (bool, error) {
	if s := l.init; s != nil && !s.done {
		if ok, late := s.wait.release(s.merge); ok {
			if late {
				s.log.Debug("stream did not pass a chunk's high watermark: emitting it at the stream's position",
					"high", s.merge.Held().High.String(), "stream", s.merge.Position().String())
			}
			return true, s.emit(ctx)
		}
	}
	if s := l.inc; s != nil {
		if ok, _ := s.wait.release(s.merge); ok {
			return true, s.emit(ctx)
		}
	}
	return false, nil
}

// onStream hands one stream batch to both states' merges, then to the
// sink side with their markers, then lets the states act on it (a DDL
// statement on a table being read, signals in the signal table).
func (l *sourceLoop) onStream(ctx context.Context, b binlog.Batch) error {
	prev := l.stream
	l.stream = b.End
	var initDDL, incDDL bool
	var sigs []Signal
	if l.init != nil && !l.init.done {
		initDDL = l.init.merge.Stream(b.Events, b.Schema, b.End)
	}
	if l.inc != nil {
		sigs = l.inc.signals(b.Events)
		incDDL = l.inc.merge.Stream(b.Events, b.Schema, b.End)
	}
	b.End = l.end()
	if err := l.send(ctx, b); err != nil {
		return err
	}
	if s := l.init; s != nil && !s.done {
		if initDDL && s.cur != nil {
			if err := s.restart(ctx); err != nil {
				return err
			}
		}
		if s.merge.Held() != nil {
			s.wait.arm()
		}
	}
	if s := l.inc; s != nil {
		if err := s.afterStream(ctx, b.Events, incDDL, sigs, prev); err != nil {
			return err
		}
		if s.merge.Held() != nil {
			s.wait.arm()
		}
	}
	return nil
}

// input is what one select of the loop received.
type input struct {
	kind inputKind
	b    binlog.Batch
	ch   *snapshot.Chunk
	sig  Signal
	ok   bool  // false: the channel was closed
	err  error // inFailed
}

type inputKind uint8

const (
	inStream inputKind = iota
	inFailed
	inInitialChunk
	inIncrementalChunk
	inSignal
	inInitialWait
	inIncrementalWait
	inStop
	inCancel
)

// recv waits for the next thing the loop must act on. A chunk channel is
// watched only while its state holds no chunk (and, incremental, is not
// paused). When no channel holds anything yet, the sink side is told
// first (waitIdle; a failure there is inFailed).
func (l *sourceLoop) recv(ctx context.Context, bin <-chan binlog.Batch) (in input) {
	var initCh, incCh <-chan *snapshot.Chunk
	var initWait, incWait <-chan time.Time
	if s := l.init; s != nil {
		// Watched after the last chunk too: the reader's end says whether
		// the snapshot mode streams on.
		if s.cur != nil && s.merge.Held() == nil {
			initCh = s.cur.chunks
		}
		if !s.done {
			initWait = s.wait.C()
		}
	}
	if s := l.inc; s != nil {
		if s.run != nil && s.merge.Held() == nil && !s.st.Paused {
			incCh = s.run.chunks
		}
		incWait = s.wait.C()
	}
	if len(bin) == 0 && len(initCh) == 0 && len(incCh) == 0 && len(l.kafka) == 0 {
		if in.err = l.waitIdle(ctx); in.err != nil {
			in.kind = inFailed
			return in
		}
	}
	select {
	case in.b, in.ok = <-bin:
		in.kind = inStream
	case in.ch, in.ok = <-initCh:
		in.kind = inInitialChunk
	case in.ch, in.ok = <-incCh:
		in.kind = inIncrementalChunk
	case in.sig = <-l.kafka:
		in.kind = inSignal
	case <-initWait:
		in.kind = inInitialWait
	case <-incWait:
		in.kind = inIncrementalWait
	case <-l.chunkCtx.Done():
		in.kind = inStop
	case <-ctx.Done():
		in.kind = inCancel
	}
	return in
}
