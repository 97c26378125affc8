package debeziumjson

import (
	"testing"
	"time"

	"github.com/rivulet-cdc/rivulet/sink"
)

func benchEncoder(tb testing.TB, schemas bool) *JSON {
	cfg := sink.DefaultJSONConfig("dbserver1")
	cfg.KeySchemas, cfg.ValueSchemas = schemas, schemas
	cfg.Version = "0.1.0"
	now := time.Unix(1718000003, 0)
	cfg.Now = func() time.Time { return now }
	enc, err := NewJSON(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return enc
}

// TestJSON_AppendRecordsAllocs pins the hot path: with reused record and byte
// buffers, encoding allocates nothing once a table's schema is cached.
func TestJSON_AppendRecordsAllocs(t *testing.T) {
	for _, schemas := range []bool{false, true} {
		enc := benchEncoder(t, schemas)
		evs := benchEvents()
		recs := make([]sink.Record, 0, 16)
		buf := make([]byte, 0, 1<<16)
		encodeAll := func() {
			recs, buf = recs[:0], buf[:0]
			var err error
			for i := range evs {
				if recs, buf, err = enc.AppendRecords(recs, buf, &evs[i]); err != nil {
					t.Fatal(err)
				}
			}
		}
		encodeAll() // build the table caches
		if n := testing.AllocsPerRun(100, encodeAll); n != 0 {
			t.Errorf("schemas=%v: %v allocations per run of %d events, want 0", schemas, n, len(evs))
		}
	}
}

func BenchmarkEncode(b *testing.B) {
	for _, bc := range []struct {
		name    string
		schemas bool
		wide    bool
	}{
		{"narrow/payload", false, false},
		{"narrow/schemas", true, false},
		{"wide/payload", false, true},
		{"wide/schemas", true, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			enc := benchEncoder(b, bc.schemas)
			evs := benchEvents()[:2] // customers c + u
			if bc.wide {
				evs = benchEvents()[2:3] // 37-column all_types insert
			}
			recs := make([]sink.Record, 0, 16)
			buf := make([]byte, 0, 1<<16)
			var bytes int64
			for i := range evs {
				recs, buf, _ = enc.AppendRecords(recs[:0], buf[:0], &evs[i])
				for _, r := range recs {
					bytes += int64(len(r.Key) + len(r.Value))
				}
			}
			b.SetBytes(bytes / int64(len(evs)))
			b.ReportAllocs()
			n := 0
			start := time.Now()
			for b.Loop() {
				ev := &evs[n%len(evs)]
				var err error
				if recs, buf, err = enc.AppendRecords(recs[:0], buf[:0], ev); err != nil {
					b.Fatal(err)
				}
				n++
			}
			b.ReportMetric(float64(n)/time.Since(start).Seconds(), "events/s")
		})
	}
}
