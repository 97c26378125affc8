package engine

import (
	"context"
	"fmt"
	"testing"

	"github.com/rivulet-cdc/rivulet/binlog"
	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/offsets"
	"github.com/rivulet-cdc/rivulet/schema"
)

// replaySource hands out the same batches on every Run, then stops: the
// engine drains them, flushes and returns.
type replaySource struct{ batches []binlog.Batch }

func (s *replaySource) Start(_ context.Context, p offsets.Position) (offsets.Position, error) {
	return p, nil
}

func (s *replaySource) Run(ctx context.Context, _ offsets.Position, out chan<- binlog.Batch) error {
	for _, b := range s.batches {
		select {
		case out <- b:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// ackSink acknowledges every Send at once.
type ackSink struct{ events int }

func (s *ackSink) Send(_ context.Context, ev []event.ChangeEvent, done func(error)) error {
	s.events += len(ev)
	done(nil)
	return nil
}
func (s *ackSink) Flush(context.Context) error { return nil }
func (s *ackSink) Close() error                { return nil }

// BenchmarkEngine_Stream is the streaming path with nothing but the engine
// in it: 1M change events from a fake source, in transactions of perTx
// events, through Run to a sink that acknowledges at once. One op is one
// Run over all of them.
func BenchmarkEngine_Stream(b *testing.B) {
	const total = 1 << 20
	tbl := &schema.Table{DB: "db", Name: "t", PrimaryKey: []int{0}, Columns: []schema.Column{{Name: "id", Type: schema.TypeInt}}}
	for _, perTx := range []int{1, 16} {
		b.Run(fmt.Sprintf("tx=%d", perTx), func(b *testing.B) {
			src := &replaySource{}
			for i := 0; i < total; i += perTx {
				evs := make([]event.ChangeEvent, perTx)
				for j := range evs {
					evs[j] = event.ChangeEvent{Op: event.OpCreate, Table: tbl, After: []event.Value{event.Int(int64(i + j))},
						Source: event.Source{File: "bin.000001", Pos: uint64(4 + i)}}
				}
				src.batches = append(src.batches, binlog.Batch{Events: evs, End: offsets.Position{File: "bin.000001", Pos: uint64(4 + i + perTx)}})
			}
			b.ReportAllocs()
			for b.Loop() {
				store := &memStore{p: offsets.Position{File: "bin.000001", Pos: 4}}
				snk := &ackSink{}
				if err := Run(b.Context(), Config{}, src, snk, store); err != nil {
					b.Fatal(err)
				}
				if snk.events != total {
					b.Fatalf("%d events reached the sink, want %d", snk.events, total)
				}
			}
			b.ReportMetric(float64(b.N)*total/b.Elapsed().Seconds(), "events/s")
		})
	}
}
