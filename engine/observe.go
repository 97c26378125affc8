package engine

import (
	"context"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/plugin/kprom"

	"github.com/rivulet-cdc/rivulet/config"
	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/metrics"
	"github.com/rivulet-cdc/rivulet/offsets"
	"github.com/rivulet-cdc/rivulet/schema"
)

// metricsOptions derives the metric labels and queue bounds from cfg.
func metricsOptions(cfg *config.Config, log *slog.Logger) metrics.Options {
	plugin := "mysql"
	if cfg.Flavor() == config.FlavorMariaDB {
		plugin = "mariadb" // the JMX exporter's plugin label comes from the MBean domain debezium.mariadb
	}
	return metrics.Options{
		Plugin: plugin, Name: cfg.TopicPrefix,
		QueueCapacity: cfg.MaxQueueSize, MaxQueueBytes: cfg.MaxQueueSizeInBytes,
		NoKafka: cfg.Sink != config.SinkKafka,
		Logger:  log.With("component", "health"),
	}
}

// observedSink counts what reaches the sink: events by table and operation,
// the last event's position and lag, and events awaiting acknowledgement.
// The engine calls Send from one goroutine, so the table cache needs no lock.
type observedSink struct {
	Sink
	m      *metrics.Stream
	skip   [256]bool // operations the encoder drops (skipped.operations)
	tables map[*schema.Table]*metrics.TableCounters

	prevFile string // position of the previous batch's last transaction
	prevPos  uint64
}

func newObservedSink(s Sink, m *metrics.Stream, cfg *config.Config) *observedSink {
	o := &observedSink{Sink: s, m: m, tables: make(map[*schema.Table]*metrics.TableCounters)}
	for _, op := range []byte{'c', 'u', 'd', 't'} {
		o.skip[op] = cfg.SkippedOperations.Has(op)
	}
	return o
}

func (o *observedSink) counters(t *schema.Table) *metrics.TableCounters {
	c := o.tables[t]
	if c == nil {
		if len(o.tables) > 4096 { // tables are replaced on DDL: bound the cache
			clear(o.tables)
		}
		c = o.m.Table(t.ID())
		o.tables[t] = c
	}
	return c
}

// Send counts runs of events of one table and operation, then forwards.
func (o *observedSink) Send(ctx context.Context, events []event.ChangeEvent, done func(error)) error {
	if len(events) == 0 {
		return o.Sink.Send(ctx, events, done)
	}
	var cur *schema.Table
	var curOp event.Op
	run, counted := 0, 0
	flush := func() {
		if run > 0 && cur != nil && !o.skip[curOp] {
			o.counters(cur).Add(byte(curOp), run)
			counted += run
		}
	}
	for i := range events {
		e := &events[i]
		if e.Op == event.OpUpdate && !o.skip['u'] && e.KeyChanged() {
			// Sent as a delete and a create (whatever skipped.operations
			// says of those), as Debezium does and counts it.
			flush()
			cur, run = nil, 0
			c := o.counters(e.Table)
			c.Add('d', 1)
			c.Add('c', 1)
			counted += 2
			continue
		}
		if e.Table != cur || e.Op != curOp {
			flush()
			cur, curOp, run = e.Table, e.Op, 0
		}
		run++
	}
	flush()
	first, last := &events[0].Source, &events[len(events)-1].Source
	n := counted
	done2 := func(err error) {
		o.m.EventsAcked(n)
		done(err)
	}
	if last.Snapshot != "" {
		o.m.SnapshotEventsSent(counted)
		return o.Sink.Send(ctx, events, done2)
	}
	// Events carry the position of their transaction's BEGIN: a batch that
	// starts in the transaction the previous one ended in continues a large
	// transaction, which the binlog reader cut at max.batch.size.
	cont := first.File == o.prevFile && first.Pos == o.prevPos && first.Snapshot == ""
	o.prevFile, o.prevPos = last.File, last.Pos
	o.m.EventsSent(counted, last.File, last.Pos, last.GTID, last.TsUs, cont)
	return o.Sink.Send(ctx, events, done2)
}

// observedStore reports each committed position to the metrics.
type observedStore struct {
	OffsetStore
	m *metrics.Stream
}

func (s observedStore) Save(ctx context.Context, p offsets.Position) error {
	if err := s.OffsetStore.Save(ctx, p); err != nil {
		return err
	}
	if p.File != "" {
		s.m.PositionCommitted(p.File, p.Pos)
	}
	return nil
}

// kafkaMetrics registers franz-go's producer metrics (plugin/kprom) on reg as
// rivulet_kafka_* and returns the client option that feeds them.
func kafkaMetrics(reg prometheus.Registerer) kgo.Opt {
	return kgo.WithHooks(kprom.NewMetrics("rivulet", kprom.Subsystem("kafka"), kprom.Registerer(reg),
		kprom.FetchAndProduceDetail(kprom.ByNode, kprom.ByTopic, kprom.Batches, kprom.Records,
			kprom.CompressedBytes, kprom.UncompressedBytes, kprom.ConsistentNaming)))
}
