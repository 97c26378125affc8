package avro_test

import (
	"context"
	"testing"
	"time"

	"github.com/rivulet-cdc/rivulet/sink"
	"github.com/rivulet-cdc/rivulet/sink/avro"
)

func benchAvro(tb testing.TB) *avro.Encoder {
	cfg := sink.DefaultJSONConfig("dbserver1")
	cfg.Version = "0.1.0"
	now := time.Unix(1718000003, 0)
	cfg.Now = func() time.Time { return now }
	enc, err := avro.New(cfg, avro.Config{Registry: newMemRegistrar()})
	if err != nil {
		tb.Fatal(err)
	}
	return enc
}

// TestAvro_AppendRecordsAllocs: with reused buffers and registered schemas,
// Avro encoding allocates nothing per event.
func TestAvro_AppendRecordsAllocs(t *testing.T) {
	enc := benchAvro(t)
	evs := benchEvents()
	recs := make([]sink.Record, 0, 16)
	buf := make([]byte, 0, 1<<16)
	ctx := context.Background()
	encodeAll := func() {
		recs, buf = recs[:0], buf[:0]
		var err error
		for i := range evs {
			if recs, buf, err = enc.AppendRecords(ctx, recs, buf, &evs[i]); err != nil {
				t.Fatal(err)
			}
		}
	}
	encodeAll() // build and register the schemas
	if n := testing.AllocsPerRun(100, encodeAll); n != 0 {
		t.Errorf("%v allocations per run of %d events, want 0", n, len(evs))
	}
}

// BenchmarkEncodeAvro is BenchmarkEncode's payload cases in Avro.
func BenchmarkEncodeAvro(b *testing.B) {
	for _, bc := range []struct {
		name string
		wide bool
	}{{"narrow", false}, {"wide", true}} {
		b.Run(bc.name, func(b *testing.B) {
			enc := benchAvro(b)
			ctx := context.Background()
			evs := benchEvents()[:2]
			if bc.wide {
				evs = benchEvents()[2:3]
			}
			recs := make([]sink.Record, 0, 16)
			buf := make([]byte, 0, 1<<16)
			var bytes int64
			for i := range evs {
				recs, buf, _ = enc.AppendRecords(ctx, recs[:0], buf[:0], &evs[i])
				for _, r := range recs {
					bytes += int64(len(r.Key) + len(r.Value))
				}
			}
			b.SetBytes(bytes / int64(len(evs)))
			b.ReportAllocs()
			n := 0
			start := time.Now()
			for b.Loop() {
				var err error
				if recs, buf, err = enc.AppendRecords(ctx, recs[:0], buf[:0], &evs[n%len(evs)]); err != nil {
					b.Fatal(err)
				}
				n++
			}
			b.ReportMetric(float64(n)/time.Since(start).Seconds(), "events/s")
		})
	}
}
