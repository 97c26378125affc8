package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/rivulet-cdc/rivulet/offsets"
	"github.com/rivulet-cdc/rivulet/schema"
	"github.com/rivulet-cdc/rivulet/snapshot"
)

// snapRun is one Snapshotter.Run in the background: the one goroutine of
// a snapshot, whose chunks the source loop receives.
type snapRun struct {
	chunks chan *snapshot.Chunk
	errc   chan error // Run's result, sent after chunks is closed
	cancel context.CancelFunc
}

// startRun starts reading tables' chunks after from; window is the first
// chunk's Window. The run stops when ctx ends.
func startRun(ctx context.Context, snap Snapshotter, tables []*schema.Table, from snapshot.Progress, window offsets.Position) *snapRun {
	sctx, cancel := context.WithCancel(ctx)
	r := &snapRun{chunks: make(chan *snapshot.Chunk, 1), errc: make(chan error, 1), cancel: cancel}
	go func() {
		err := snap.Run(sctx, tables, from, window, r.chunks)
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

// highWait bounds how long a held chunk waits for the stream to pass its
// high watermark while no batch arrives (HighWaitLimit): the binlog can
// move with no transaction to hand out (a rotation's new file header), and
// then nothing would pass it until the next write. The source loop
// selects on each snapshot state's C; the merge rule itself is snapshot.Merge's.
type highWait struct {
	t       *time.Timer
	limit   time.Duration
	expired bool
}

func newHighWait(limit time.Duration) *highWait {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &highWait{t: t, limit: limit}
}

// C fires when the wait is over.
func (w *highWait) C() <-chan time.Time { return w.t.C }

// arm starts the wait again: a chunk was held, or a batch arrived while
// one is held.
func (w *highWait) arm() { w.t.Reset(w.limit) }

// fired notes that the wait is over for the chunk held now, if any.
func (w *highWait) fired(m *snapshot.Merge) { w.expired = m.Held() != nil }

// release reports whether m's held chunk goes out now (the stream passed
// its high watermark, or the wait is over: late), and then disarms.
func (w *highWait) release(m *snapshot.Merge) (ok, late bool) {
	if m.Held() == nil || !w.expired && !m.Due() {
		return false, false
	}
	late = w.expired
	w.expired = false
	w.t.Stop()
	return true, late
}

func (w *highWait) stop() { w.t.Stop() }

// maxReadRestarts bounds the restarts after failed chunk reads.
const maxReadRestarts = 5

// readEnded handles the end of a chunk reader's run (its result err): nil
// when it finished; when a read failed because a table definition changed
// before the stream showed it (a chunk read can meet a DDL statement first:
// unknown column), it restarts with the new definitions, a few times at
// most, and reports retried. Otherwise it returns the failure, prefixed
// with what.
func readEnded(ctx context.Context, what string, err error, restarts *int, redefined func(context.Context) bool,
	restart func(context.Context) error) (retried bool, _ error) {
	switch {
	case err == nil:
		return false, nil
	case ctx.Err() != nil:
		return false, ctx.Err()
	case *restarts >= maxReadRestarts || !redefined(ctx):
		return false, fmt.Errorf("%s: %w", what, err)
	}
	*restarts++
	return true, restart(ctx)
}
