package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/rivulet-cdc/rivulet/binlog"
	"github.com/rivulet-cdc/rivulet/config"
	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/metrics"
	"github.com/rivulet-cdc/rivulet/schema"
	"github.com/rivulet-cdc/rivulet/sink"
	"github.com/rivulet-cdc/rivulet/sink/debeziumjson"
)

// gatherValues maps "name{label=value,...}" (labels sorted as gathered) to values.
func gatherValues(t *testing.T, reg prometheus.Gatherer) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			key := mf.GetName()
			for _, l := range m.GetLabel() {
				if l.GetName() == "plugin" || l.GetName() == "name" {
					continue
				}
				key += fmt.Sprintf(",%s=%s", l.GetName(), l.GetValue())
			}
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				out[key] = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				out[key] = m.GetGauge().GetValue()
			}
		}
	}
	return out
}

// TestSendCounter_CountsWhatIsProduced streams random batches through the
// run loop's counter into the real encoder (stdout sink) and checks that every
// counter equals the change events actually written, by table and operation:
// primary-key changes count as a delete and a create, tombstones not at all,
// skipped operations not at all.
func TestSendCounter_CountsWhatIsProduced(t *testing.T) {
	tables := []*schema.Table{
		{DB: "shop", Name: "orders", PrimaryKey: []int{0}, Columns: []schema.Column{
			{Name: "id", Type: schema.TypeInt, TypeName: "INT"}, {Name: "qty", Type: schema.TypeInt, TypeName: "INT", Nullable: true}}},
		{DB: "shop", Name: "log", Columns: []schema.Column{
			{Name: "n", Type: schema.TypeInt, TypeName: "INT", Nullable: true}}},
	}
	for _, skipped := range []string{"", "t", "u,d"} {
		t.Run("skipped="+skipped, func(t *testing.T) {
			cfg := &config.Config{TopicPrefix: "p", MaxQueueSize: 100}
			for _, op := range []byte(skipped) {
				if op != ',' {
					cfg.SkippedOperations = cfg.SkippedOperations.With(op)
				}
			}
			enc := sink.DefaultJSONConfig("p")
			enc.KeySchemas, enc.ValueSchemas = false, false
			enc.SkippedOperations = skippedOperations(cfg) // as EncoderConfig does
			j, err := debeziumjson.NewJSON(enc)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			reg := prometheus.NewRegistry()
			m := metrics.NewWithOptions(reg, metrics.Options{Name: "p", QueueCapacity: 100, NoKafka: true})
			snk, c := sink.NewStdout(&out, j.Format()), newSendCounter(m, skippedOperations(cfg)) // as New does

			rng := rand.New(rand.NewPCG(1, 2))
			pos := uint64(4)
			for range 200 {
				n := 1 + rng.IntN(20)
				batch := make([]event.ChangeEvent, 0, n)
				for range n {
					tbl := tables[rng.IntN(len(tables))]
					row := func() []event.Value {
						r := make([]event.Value, len(tbl.Columns))
						for i := range r {
							r[i] = event.Int(int64(rng.IntN(4)))
						}
						return r
					}
					e := event.ChangeEvent{Table: tbl, Source: event.Source{File: "bin.000001", Pos: pos, TsUs: 1}}
					switch rng.IntN(4) {
					case 0:
						e.Op, e.After = event.OpCreate, row()
					case 1:
						e.Op, e.Before, e.After = event.OpUpdate, row(), row()
					case 2:
						e.Op, e.Before = event.OpDelete, row()
					case 3:
						e.Op = event.OpTruncate
					}
					batch = append(batch, e)
				}
				pos += 100
				if err := sendEvents(t.Context(), nil, c, snk, &binlog.Batch{Events: batch}, func(err error) {
					if err != nil {
						t.Error(err)
					}
				}); err != nil {
					t.Fatal(err)
				}
			}

			// What was produced, from the records themselves.
			want := map[string]float64{}
			total := 0.0
			dec := json.NewDecoder(&out)
			for dec.More() {
				var rec struct {
					Topic string
					Value *struct {
						Op string `json:"op"`
					}
				}
				if err := dec.Decode(&rec); err != nil {
					t.Fatal(err)
				}
				if rec.Value == nil {
					continue // tombstone
				}
				table := rec.Topic[len("p."):]
				want["rivulet_events_total,op="+rec.Value.Op+",table="+table]++
				total++
			}
			got := gatherValues(t, reg)
			for k, v := range want {
				if got[k] != v {
					t.Errorf("%s = %v, want %v (produced)", k, got[k], v)
				}
			}
			for k, v := range got {
				if len(k) > len("rivulet_events_total") && k[:len("rivulet_events_total")] == "rivulet_events_total" && want[k] != v {
					t.Errorf("%s = %v, but %v produced", k, v, want[k])
				}
			}
			if k := "debezium_metrics_TotalNumberOfEventsSeen,context=streaming"; got[k] != total {
				t.Errorf("%s = %v, want %v produced", k, got[k], total)
			}
			var creates float64
			for k, v := range want {
				if bytes.Contains([]byte(k), []byte("op=c,")) {
					creates += v
				}
			}
			if k := "debezium_metrics_TotalNumberOfCreateEventsSeen,context=streaming"; got[k] != creates {
				t.Errorf("%s = %v, want %v", k, got[k], creates)
			}
			if k := "rivulet_queue_events"; got[k] != 0 {
				t.Errorf("%s = %v after every ack, want 0", k, got[k])
			}
			if k := "debezium_metrics_BinlogPosition,context=streaming"; got[k] != float64(pos-100) {
				t.Errorf("%s = %v, want %v", k, got[k], pos-100)
			}
		})
	}
}

// BenchmarkSendCounter measures the counter's cost per event.
func BenchmarkSendCounter(b *testing.B) {
	tbl := &schema.Table{DB: "shop", Name: "orders", PrimaryKey: []int{0}, Columns: []schema.Column{{Name: "id", Type: schema.TypeInt}}}
	batch := make([]event.ChangeEvent, 1024)
	for i := range batch {
		batch[i] = event.ChangeEvent{Op: event.OpUpdate, Table: tbl, Before: []event.Value{event.Int(1)}, After: []event.Value{event.Int(1)}}
	}
	m := metrics.NewWithOptions(prometheus.NewRegistry(), metrics.Options{NoKafka: true})
	c := newSendCounter(m, nil)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		_ = nopSink{}.Send(context.Background(), batch, c.count(batch, func(error) {}))
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(batch)), "ns/event")
}

type nopSink struct{}

func (nopSink) Send(_ context.Context, _ []event.ChangeEvent, done func(error)) error {
	done(nil)
	return nil
}
func (nopSink) Flush(context.Context) error { return nil }
func (nopSink) Close() error                { return nil }

// TestSendCounter_SnapshotEvents counts snapshot reads in the snapshot
// context without moving the streaming position or lag.
func TestSendCounter_SnapshotEvents(t *testing.T) {
	tbl := &schema.Table{DB: "shop", Name: "orders", PrimaryKey: []int{0}, Columns: []schema.Column{{Name: "id", Type: schema.TypeInt, TypeName: "INT"}}}
	reg := prometheus.NewRegistry()
	m := metrics.NewWithOptions(reg, metrics.Options{NoKafka: true})
	c := newSendCounter(m, nil)
	batch := make([]event.ChangeEvent, 3)
	for i := range batch {
		batch[i] = event.ChangeEvent{Op: event.OpRead, Table: tbl, After: []event.Value{event.Int(int64(i))},
			Source: event.Source{Snapshot: "true", File: "bin.000009", Pos: 77, TsUs: 1}}
	}
	if err := sendEvents(t.Context(), nil, c, nopSink{}, &binlog.Batch{Events: batch}, func(error) {}); err != nil {
		t.Fatal(err)
	}
	got := gatherValues(t, reg)
	for k, want := range map[string]float64{
		"debezium_metrics_TotalNumberOfEventsSeen,context=snapshot":   3,
		"debezium_metrics_TotalNumberOfEventsSeen,context=streaming":  0,
		"rivulet_events_total,op=r,table=shop.orders":                 3,
		"debezium_metrics_BinlogPosition,context=streaming":           0,
		"debezium_metrics_MilliSecondsBehindSource,context=streaming": -1,
	} {
		if got[k] != want {
			t.Errorf("%s = %v, want %v", k, got[k], want)
		}
	}
}
