package sink_test

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/schema"
	"github.com/rivulet-cdc/rivulet/sink"
	"github.com/rivulet-cdc/rivulet/sink/debeziumjson"
)

// benchTable is the bench's table (internal/bench: bench.t).
func benchTable() *schema.Table {
	return &schema.Table{DB: "bench", Name: "t", PrimaryKey: []int{0}, Columns: []schema.Column{
		{Name: "id", Type: schema.TypeBigInt, TypeName: "BIGINT"},
		{Name: "a", Type: schema.TypeInt, TypeName: "INT"},
		{Name: "b", Type: schema.TypeVarchar, TypeName: "VARCHAR", Length: 64, Nullable: true, Charset: "utf8mb4"},
		{Name: "c", Type: schema.TypeDecimal, TypeName: "DECIMAL", Length: 12, Scale: 2, Nullable: true},
		{Name: "d", Type: schema.TypeDateTime, TypeName: "DATETIME", FSP: 3, Nullable: true},
		{Name: "born_us", Type: schema.TypeBigInt, TypeName: "BIGINT", Nullable: true},
	}}
}

// cpuTime is the process's user and system CPU time.
func cpuTime() (user, sys time.Duration) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, 0
	}
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
}

// BenchmarkKafkaSend_Snapshot sends snapshot-shaped batches (2048 reads of
// the bench's table, JSON without schemas, as the engine's snapshot emits
// them) and reports the process's CPU time per event, and its user part
// (the system part is mostly the socket writes, the same for every sink). With
// RIVULET_BENCH_BROKERS (comma-separated) it produces to that broker
// instead of an in-process kfake, so that the CPU time is the sink's and
// franz-go's alone.
func BenchmarkKafkaSend_Snapshot(b *testing.B) {
	var brokers []string
	if s := os.Getenv("RIVULET_BENCH_BROKERS"); s != "" {
		brokers = strings.Split(s, ",")
	} else {
		c, err := kfake.NewCluster(kfake.NumBrokers(1))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(c.Close)
		brokers = c.ListenAddrs()
	}
	enc := sink.DefaultJSONConfig("bench" + fmt.Sprint(time.Now().UnixNano()))
	enc.KeySchemas, enc.ValueSchemas = false, false
	j, err := debeziumjson.NewJSON(enc)
	if err != nil {
		b.Fatal(err)
	}
	// The engine's buffer bounds (max.queue.size 8192, 8 MiB): a snapshot
	// fills them, so Send waits for acknowledgements most of the time.
	k, err := sink.NewKafka(sink.KafkaConfig{Brokers: brokers, Format: j.Format(),
		MaxBufferedRecords: 8192, MaxBufferedBytes: 8 << 20})
	if err != nil {
		b.Fatal(err)
	}
	defer k.Close()
	t := benchTable()
	const batchSize = 2048
	evs := make([]event.ChangeEvent, batchSize)
	src := event.Source{TsUs: 1718000000000000, Snapshot: "true", File: "mysql-bin.000004", Pos: 4567, Thread: -1}
	for i := range evs {
		id := int64(i)
		evs[i] = event.ChangeEvent{Op: event.OpRead, Table: t, Source: src, After: []event.Value{
			event.Int(id), event.Int(id * 7), str(fmt.Sprintf("name-%d", id)),
			event.Bytes(event.KindDecimal, fmt.Appendf(nil, "%d.%02d", id, id%100)),
			{Kind: event.KindDateTime, I: 1763719200000000 + id%1000*1000}, event.Int(0),
		}}
	}
	done := warmedUp(b, k, evs[:1])
	b.ReportAllocs()
	user0, sys0 := cpuTime()
	n := 0
	for b.Loop() {
		if err := k.Send(b.Context(), evs, done); err != nil {
			b.Fatal(err)
		}
		n += batchSize
	}
	if err := k.Flush(b.Context()); err != nil {
		b.Fatal(err)
	}
	user, sys := cpuTime()
	b.ReportMetric(float64(user-user0+sys-sys0)/float64(n), "cpu-ns/event")
	b.ReportMetric(float64(user-user0)/float64(n), "user-ns/event")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/event")
}

// warmedUp sends first with k and waits for it (topic creation, producer
// id, metadata), and returns the done for the measured Sends: it fails b
// on the first error reported.
func warmedUp(b *testing.B, k *sink.Kafka, first []event.ChangeEvent) func(error) {
	b.Helper()
	var failed sync.Once
	done := func(err error) {
		if err != nil {
			failed.Do(func() { b.Error(err) })
		}
	}
	if err := k.Send(b.Context(), first, done); err != nil {
		b.Fatal(err)
	}
	if err := k.Flush(b.Context()); err != nil {
		b.Fatal(err)
	}
	return done
}
