package engine

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/rivulet-cdc/rivulet/binlog"
	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/offsets"
	"github.com/rivulet-cdc/rivulet/schema"
	"github.com/rivulet-cdc/rivulet/snapshot"
)

// benchMerge is the input of the merge benchmarks: per round one chunk of
// 1024 rows and one stream batch of 256 updates, a quarter of them to keys
// of the chunk after its window (dropped), the batch passing the chunk's
// high watermark.
type benchMerge struct {
	tbl    *schema.Table
	rows   [][]event.Value
	events []event.ChangeEvent
}

func newBenchMerge() *benchMerge {
	tbl := &schema.Table{DB: "db", Name: "t", PrimaryKey: []int{0}, Columns: []schema.Column{{Name: "id", Type: schema.TypeInt}, {Name: "v", Type: schema.TypeVarchar}}}
	bm := &benchMerge{tbl: tbl}
	for i := range 1024 {
		bm.rows = append(bm.rows, []event.Value{event.Int(int64(i)), {Kind: event.KindString, B: []byte(fmt.Sprintf("row %d", i))}})
	}
	for i := range 256 {
		id := int64(i * 16) // every 4th falls in the chunk's 1024 keys
		bm.events = append(bm.events, event.ChangeEvent{Op: event.OpUpdate, Table: tbl,
			Before: []event.Value{event.Int(id), {Kind: event.KindString, B: []byte("a")}},
			After:  []event.Value{event.Int(id), {Kind: event.KindString, B: []byte("b")}}})
	}
	return bm
}

// stopped is a snapRun's result channel holding a clean stop.
func stopped() chan error {
	c := make(chan error, 1)
	c <- nil
	return c
}

// round feeds one chunk and one batch at base and reads the two batches out.
func (bm *benchMerge) round(b *testing.B, base uint64, chunks chan<- *snapshot.Chunk, bin chan<- binlog.Batch, out <-chan binlog.Batch) {
	pos := func(p uint64) offsets.Position { return offsets.Position{File: "bin.000001", Pos: p} }
	chunks <- &snapshot.Chunk{Table: bm.tbl, Rows: bm.rows, Window: pos(base), Low: pos(base + 1), High: pos(base + 10),
		Progress: snapshot.Progress{DB: "db", Table: "t", After: []string{"i:1023"}}}
	for i := range bm.events {
		bm.events[i].Source.File, bm.events[i].Source.Pos = "bin.000001", base+5
	}
	bin <- binlog.Batch{Events: bm.events, End: pos(base + 20)}
	n := 0
	for n < 1024-64+256 {
		bt := <-out
		n += len(bt.Events)
	}
	if n != 1024-64+256 {
		b.Fatalf("%d events out", n)
	}
}

// BenchmarkMerge_Initial drives the source loop with an initial snapshot: stream
// batches forwarded, chunks filtered and emitted as "r" events.
func BenchmarkMerge_Initial(b *testing.B) {
	bm := newBenchMerge()
	snap, err := snapshot.New(snapshot.Config{})
	if err != nil {
		b.Fatal(err)
	}
	start := offsets.Position{File: "bin.000001", Pos: 4}
	bin := make(chan binlog.Batch)
	chunks := make(chan *snapshot.Chunk)
	out := make(chan binlog.Batch, 4)
	l := newTestLoop(start, out)
	l.withInitial(SnapshotConfig{MaxBatch: 2048, HighWaitLimit: time.Hour}, snap, []*schema.Table{bm.tbl},
		chunks, stopped(), func() { close(chunks) })
	ctx, cancel := context.WithCancel(b.Context())
	errc := make(chan error, 1)
	go func() { errc <- l.loop(ctx, bin) }()
	b.ReportAllocs()
	base := uint64(100)
	for b.Loop() {
		bm.round(b, base, chunks, bin, out)
		base += 100
	}
	b.ReportMetric(float64(b.N*(1024+256))/b.Elapsed().Seconds(), "events/s")
	cancel()
	<-errc
}

// BenchmarkMerge_Incremental drives the source loop with an incremental
// snapshot the same way.
func BenchmarkMerge_Incremental(b *testing.B) {
	bm := newBenchMerge()
	snap, err := snapshot.New(snapshot.Config{})
	if err != nil {
		b.Fatal(err)
	}
	start := offsets.Position{File: "bin.000001", Pos: 4}
	bin := make(chan binlog.Batch)
	chunks := make(chan *snapshot.Chunk)
	out := make(chan binlog.Batch, 4)
	l := newTestLoop(start, out)
	l.withIncremental(SignalConfig{MaxBatch: 2048, HighWaitLimit: time.Hour}, snap, []*schema.Table{bm.tbl},
		chunks, stopped(), func() { close(chunks) })
	ctx, cancel := context.WithCancel(b.Context())
	errc := make(chan error, 1)
	go func() { errc <- l.loop(ctx, bin) }()
	b.ReportAllocs()
	base := uint64(100)
	for b.Loop() {
		bm.round(b, base, chunks, bin, out)
		base += 100
	}
	b.ReportMetric(float64(b.N*(1024+256))/b.Elapsed().Seconds(), "events/s")
	cancel()
	<-errc
}
