package engine

import (
	"context"
	"fmt"
	"io"
	"syscall"
	"testing"
	"time"

	"github.com/rivulet-cdc/rivulet/binlog"
	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/offsets"
	"github.com/rivulet-cdc/rivulet/schema"
	"github.com/rivulet-cdc/rivulet/sink"
	"github.com/rivulet-cdc/rivulet/sink/debeziumjson"
	"github.com/rivulet-cdc/rivulet/snapshot"
)

// BenchmarkInitialSnap_Emit hands chunks of 8192 rows of the bench's
// table (bench.t: BIGINT key, INT, VARCHAR, DECIMAL, DATETIME, BIGINT)
// through emit to a sink that encodes in Send (sink.Stdout's JSON lines,
// discarded), with and without SnapshotConfig.Recycle: the hand-over's
// cost per row, encoding included.
func BenchmarkInitialSnap_Emit(b *testing.B) {
	tbl := &schema.Table{DB: "bench", Name: "t", PrimaryKey: []int{0}, Columns: []schema.Column{
		{Name: "id", Type: schema.TypeBigInt}, {Name: "a", Type: schema.TypeInt}, {Name: "b", Type: schema.TypeVarchar},
		{Name: "c", Type: schema.TypeDecimal, Length: 12, Scale: 2}, {Name: "d", Type: schema.TypeDateTime, FSP: 3},
		{Name: "born_us", Type: schema.TypeBigInt}}}
	const rows = 8192
	var chunkRows [][]event.Value
	for i := range rows {
		chunkRows = append(chunkRows, []event.Value{event.Int(int64(i)), event.Int(int64(i % 1000)),
			{Kind: event.KindString, B: fmt.Appendf(nil, "row %d of the bench table", i)},
			{Kind: event.KindDecimal, B: fmt.Appendf(nil, "%d.25", i)},
			{Kind: event.KindDateTime, I: 1_700_000_000_000_000 + int64(i)*1000}, event.Int(1_700_000_000_000_000)})
	}
	j, err := debeziumjson.NewJSON(sink.JSONConfig{TopicPrefix: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	snap, err := snapshot.New(snapshot.Config{})
	if err != nil {
		b.Fatal(err)
	}
	for _, recycle := range []bool{false, true} {
		b.Run(fmt.Sprint("recycle=", recycle), func(b *testing.B) {
			snk := sink.NewStdout(io.Discard, j.Format())
			start := offsets.Position{File: "bin.000001", Pos: 4}
			l := &sourceLoop{stream: start, out: func(ctx context.Context, bt binlog.Batch) error {
				return snk.Send(ctx, bt.Events, func(error) {})
			}}
			s := l.withInitial(SnapshotConfig{MaxBatch: 2048, HighWaitLimit: time.Hour, Recycle: recycle}, snap,
				[]*schema.Table{tbl}, nil, nil, func() {})
			s.firstDone = true
			ctx := b.Context()
			b.ReportAllocs()
			cpu0 := cpuTime(b)
			for b.Loop() {
				s.merge.Hold(&snapshot.Chunk{Table: tbl, Rows: chunkRows, Progress: snapshot.Progress{DB: "bench", Table: "t", After: []string{"i:1"}}})
				if err := s.emit(ctx); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(b.N*rows), "cpu-ns/row")
		})
	}
}

// cpuTime is the CPU time this process used so far (user and system, all
// threads), in nanoseconds: less noisy than wall time on a shared machine.
func cpuTime(b *testing.B) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
