package debeziumjson

import (
	"strconv"
	"testing"
	"time"

	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/schema"
	"github.com/rivulet-cdc/rivulet/sink"
)

// snapshotTable is the table of `make bench` (internal/bench: bench.t).
func snapshotTable() *schema.Table {
	return &schema.Table{DB: "bench", Name: "t", PrimaryKey: []int{0}, Columns: []schema.Column{
		{Name: "id", Type: schema.TypeBigInt, TypeName: "BIGINT"},
		{Name: "a", Type: schema.TypeInt, TypeName: "INT"},
		{Name: "b", Type: schema.TypeVarchar, TypeName: "VARCHAR", Length: 64, Charset: "utf8mb4", Nullable: true},
		{Name: "c", Type: schema.TypeDecimal, TypeName: "DECIMAL", Length: 12, Scale: 2, Nullable: true},
		{Name: "d", Type: schema.TypeDateTime, TypeName: "DATETIME", FSP: 3, Nullable: true},
		{Name: "born_us", Type: schema.TypeBigInt, TypeName: "BIGINT", Nullable: true},
	}}
}

// snapshotEvents is one batch of an initial snapshot as the engine emits it
// (engine/snapshot.go emit): "r" events of one table, one source block
// (one read time, the snapshot's binlog position) marked "true".
func snapshotEvents(n int) []event.ChangeEvent {
	t := snapshotTable()
	base := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC).UnixMicro()
	evs := make([]event.ChangeEvent, n)
	for i := range evs {
		id := int64(100000 + i)
		dec := strconv.AppendInt(nil, id, 10)
		dec = append(dec, '.', byte('0'+id%100/10), byte('0'+id%10))
		evs[i] = event.ChangeEvent{Op: event.OpRead, Table: t, After: []event.Value{
			event.Int(id), event.Int(id * 7), str("name-" + strconv.FormatInt(id, 10)),
			event.Bytes(event.KindDecimal, dec), {Kind: event.KindDateTime, I: base + id%1000*1000}, event.Int(0),
		}, Source: event.Source{
			TsUs: 1718000000123456, Snapshot: "true", File: "mysql-bin.000004", Pos: 4567, Thread: -1,
		}}
	}
	return evs
}

// BenchmarkEncodeSnapshot encodes batches of snapshot events without
// schemas (the bench's converter setting), on the real clock: "batch" as
// the Kafka sink does (AppendEvents, via sink.EventsFormat), "event" one
// AppendRecords per event. ns/op is per event.
func BenchmarkEncodeSnapshot(b *testing.B) {
	const batch = 256
	for _, mode := range []string{"batch", "event"} {
		b.Run(mode, func(b *testing.B) {
			cfg := sink.DefaultJSONConfig("dbserver1")
			cfg.KeySchemas, cfg.ValueSchemas = false, false
			cfg.Version = "0.1.0"
			enc, err := NewJSON(cfg)
			if err != nil {
				b.Fatal(err)
			}
			evs := snapshotEvents(batch)
			recs := make([]sink.Record, 0, batch)
			buf := make([]byte, 0, 1<<20)
			if recs, buf, err = enc.AppendEvents(recs, buf, evs); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				if mode == "batch" {
					if recs, buf, err = enc.AppendEvents(recs[:0], buf[:0], evs); err != nil {
						b.Fatal(err)
					}
					n += batch
					continue
				}
				for i := range evs {
					if recs, buf, err = enc.AppendRecords(recs, buf, &evs[i]); err != nil {
						b.Fatal(err)
					}
				}
				recs, buf = recs[:0], buf[:0]
				n += batch
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/event")
		})
	}
}
