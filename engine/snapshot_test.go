package engine

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rivulet-cdc/rivulet/binlog"
	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/offsets"
	"github.com/rivulet-cdc/rivulet/schema"
	"github.com/rivulet-cdc/rivulet/snapshot"
)

// TestMerger_Reconciles drives the source loop's initial snapshot with scripted stream batches and
// chunks: a row changed in the stream at or after the chunk's window is
// dropped, a chunk waits for the stream to pass its high watermark (or for
// HighWaitLimit), markers follow Debezium, progress rides on the positions,
// and the last chunk ends the snapshot.
func TestMerger_Reconciles(t *testing.T) {
	tbl := &schema.Table{DB: "db", Name: "t", PrimaryKey: []int{0}, Columns: []schema.Column{{Name: "id", Type: schema.TypeInt}, {Name: "v", Type: schema.TypeInt}}}
	row := func(id, v int64) []event.Value { return []event.Value{event.Int(id), event.Int(v)} }
	pos := func(p uint64) offsets.Position { return offsets.Position{File: "bin.000001", Pos: p} }
	snap, err := snapshot.New(snapshot.Config{})
	if err != nil {
		t.Fatal(err)
	}
	start := pos(4)
	out := make(chan binlog.Batch)
	chunks := make(chan *snapshot.Chunk)
	snapErr := make(chan error, 1)
	l := newTestLoop(start, out)
	m := l.withInitial(SnapshotConfig{MaxBatch: 2, HighWaitLimit: 20 * time.Millisecond}, snap, []*schema.Table{tbl},
		chunks, snapErr, func() {})
	bin := make(chan binlog.Batch)
	next := func() string {
		b := <-out
		s := fmt.Sprintf("end=%d snap=%s prog=%s:", b.End.Pos, b.End.Snapshot, b.End.SnapshotProgress)
		for _, ev := range b.Events {
			s += fmt.Sprintf(" %c%d", ev.Op, ev.After[0].I)
			if ev.Op == event.OpRead {
				s += "/" + ev.Source.Snapshot
			}
		}
		return s
	}
	var got []string
	errc := make(chan error, 1)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() { errc <- l.loop(ctx, bin) }()

	update := func(id, v int64, at uint64) event.ChangeEvent {
		return event.ChangeEvent{Op: event.OpUpdate, Table: tbl, Before: row(id, v-1), After: row(id, v),
			Source: event.Source{File: "bin.000001", Pos: at}}
	}
	chunks <- &snapshot.Chunk{Table: tbl, TableFirst: true, Rows: [][]event.Value{row(1, 0), row(2, 0), row(3, 0)},
		Window: pos(10), Low: pos(20), High: pos(30), Progress: snapshot.Progress{DB: "db", Table: "t", After: []string{"i:3"}}}
	bin <- binlog.Batch{Events: []event.ChangeEvent{update(2, 1, 15), update(9, 1, 15)}, End: pos(20)}
	got = append(got, next())
	bin <- binlog.Batch{Events: []event.ChangeEvent{update(3, 1, 5)}, End: pos(30)} // before the window: kept
	got = append(got, next(), next())
	chunks <- &snapshot.Chunk{Table: tbl, TableLast: true, Rows: [][]event.Value{row(4, 0), row(5, 0), row(6, 0)},
		Window: pos(20), Low: pos(30), High: pos(40), Progress: snapshot.Progress{DB: "db", Table: "t", Done: true}}
	// No batch reaches 40: the chunk goes out after HighWaitLimit, in two
	// batches (MaxBatch 2), the first keeping the previous progress.
	got = append(got, next(), next())
	snapErr <- nil
	close(chunks)
	bin <- binlog.Batch{Events: []event.ChangeEvent{update(4, 1, 40)}, End: pos(50)}
	got = append(got, next())
	close(bin)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}

	p1 := `{"db":"db","table":"t","after":["i:3"]}`
	want := []string{
		"end=20 snap=INITIAL prog=: u2 u9",
		"end=30 snap=INITIAL prog=: u3",
		"end=30 snap=INITIAL prog=" + p1 + ": r1/first r3/true", // 2 changed at 15 >= window 10
		"end=30 snap=INITIAL prog=" + p1 + ": r4/true r5/true",
		"end=30 snap= prog=: r6/last",
		"end=50 snap= prog=: u4",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("merged batches (-want +got)\n%s", diff)
	}
	if !m.done || m.merge.Changes() != 0 {
		t.Errorf("done %v, %d changed keys kept", m.done, m.merge.Changes())
	}
}
