package debeziumjson

import (
	"testing"
	"time"

	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/sink"
)

func transformEncoder(tb testing.TB, schemas bool) *JSON {
	cfg := sink.DefaultJSONConfig("dbserver1")
	cfg.KeySchemas, cfg.ValueSchemas = schemas, schemas
	cfg.Version = "0.1.0"
	now := time.Unix(1718000003, 0)
	cfg.Now = func() time.Time { return now }
	cfg.SkipMessagesWithoutChange = true
	cfg.Transforms = []sink.TransformConfig{
		unwrap("unwrap", func(t *sink.TransformConfig) {
			t.DeleteHandling = sink.DeleteRewrite
			t.AddFields = []string{"op", "table", "source.ts_ms"}
		}),
		router("route", sink.TransformRegexRouter, `dbserver1\.(.*)`, "cdc.$1", nil),
		router("logical", sink.TransformLogicalTableRouter, `cdc\.inventory\.customers(.*)`, "cdc.customers", nil),
	}
	cfg.ColumnMappers = []sink.ColumnMapperConfig{
		{Kind: sink.ColumnMaskChars, N: 4, Columns: []string{`.*\.ssn`}},
		{Kind: sink.ColumnMaskHashV2, Algorithm: "SHA-256", Salt: "s", Columns: []string{`.*\.email`}},
		{Kind: sink.ColumnTruncate, N: 8, Columns: []string{`.*\.notes`}},
	}
	enc, err := NewJSON(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return enc
}

func transformEvents() []event.ChangeEvent {
	c := xfCustomers("customers")
	return []event.ChangeEvent{
		{Op: event.OpCreate, Table: c, After: customerRow(1, "Ann", "ann@example.com", 1), Source: streamSource},
		{Op: event.OpUpdate, Table: c, Before: customerRow(1, "Ann", "ann@example.com", 1), After: customerRow(1, "Anne", "ann@example.com", 2), Source: streamSource},
		{Op: event.OpUpdate, Table: c, Before: customerRow(1, "Anne", "ann@example.com", 2), After: customerRow(1, "Anne", "ann@example.com", 3), Source: streamSource},
		{Op: event.OpDelete, Table: c, Before: customerRow(1, "Anne", "ann@example.com", 3), Source: streamSource},
	}
}

// TestTransform_AppendRecordsAllocs: with transforms and column mappers the
// per-table plan is built once; encoding then allocates nothing (add.headers,
// not set here, costs one header slice per record).
func TestTransform_AppendRecordsAllocs(t *testing.T) {
	for _, schemas := range []bool{false, true} {
		enc := transformEncoder(t, schemas)
		evs := transformEvents()
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
		encodeAll()
		if n := testing.AllocsPerRun(100, encodeAll); n != 0 {
			t.Errorf("schemas=%v: %v allocations per run of %d events, want 0", schemas, n, len(evs))
		}
	}
}

func BenchmarkEncodeTransforms(b *testing.B) {
	for _, bc := range []struct {
		name       string
		schemas    bool
		transforms bool
	}{
		{"plain/payload", false, false},
		{"transforms/payload", false, true},
		{"plain/schemas", true, false},
		{"transforms/schemas", true, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			enc := benchEncoder(b, bc.schemas)
			if bc.transforms {
				enc = transformEncoder(b, bc.schemas)
			}
			evs := transformEvents()[:2] // c + u
			recs := make([]sink.Record, 0, 16)
			buf := make([]byte, 0, 1<<16)
			b.ReportAllocs()
			n := 0
			start := time.Now()
			for b.Loop() {
				var err error
				if recs, buf, err = enc.AppendRecords(recs[:0], buf[:0], &evs[n%len(evs)]); err != nil {
					b.Fatal(err)
				}
				n++
			}
			b.ReportMetric(float64(n)/time.Since(start).Seconds(), "events/s")
		})
	}
}
