package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/plugin/kprom"

	"github.com/rivulet-cdc/rivulet/config"
	"github.com/rivulet-cdc/rivulet/engine"
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
	engine.Sink
	m      *metrics.Stream
	skip   [256]bool // operations the encoder drops (skipped.operations)
	tables map[*schema.Table]*metrics.TableCounters

	prevFile string // position of the previous batch's last transaction
	prevPos  uint64
}

func newObservedSink(s engine.Sink, m *metrics.Stream, cfg *config.Config) *observedSink {
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
	engine.OffsetStore
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

// healthInterval is how often Kafka and the database are checked for /readyz
// and the binlog lag in bytes is measured.
const healthInterval = 5 * time.Second

// pinger is what sink.Kafka offers to check the brokers.
type pinger interface {
	Ping(ctx context.Context) error
}

// watchHealth checks Kafka (Ping) and the database (SHOW BINARY LOGS, which
// also gives the lag in bytes) every healthInterval until ctx is done. State
// changes are logged once, by the metrics.
func watchHealth(ctx context.Context, cfg *config.Config, snk engine.Sink, m *metrics.Stream, log *slog.Logger) {
	p, _ := snk.(pinger)
	var conn *client.Conn
	defer func() {
		if conn != nil {
			_ = conn.Close()
		}
	}()
	t := time.NewTicker(healthInterval)
	defer t.Stop()
	for {
		cctx, cancel := context.WithTimeout(ctx, healthInterval)
		if p != nil {
			err := p.Ping(cctx)
			if err != nil && ctx.Err() == nil {
				log.Debug("kafka check failed", "err", err)
			}
			m.KafkaReachable(err == nil)
		}
		var err error
		if conn == nil {
			// Every read and write bounded: a query on a black-holed connection
			// would otherwise hang this loop (and the shutdown that waits for it).
			d := net.Dialer{Timeout: healthInterval}
			conn, err = mysqlFor(cfg).Connect(cctx, d.DialContext,
				func(c *client.Conn) error { c.ReadTimeout, c.WriteTimeout = healthInterval, healthInterval; return nil })
		}
		if err == nil {
			err = pollBinlog(conn, m)
			var serverErr *mysql.MyError
			if errors.As(err, &serverErr) {
				// The server answered (missing REPLICATION CLIENT, say): it is
				// reachable, only the lag in bytes is unknown.
				log.Debug("SHOW BINARY LOGS failed", "err", err)
				m.SourceStatus(0, -1)
				err = nil
			}
		}
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			log.Debug("database check failed", "err", err)
			m.DatabaseReachable(false)
			if conn != nil {
				_ = conn.Close()
				conn = nil
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// pollBinlog reads SHOW BINARY LOGS and reports the server's end position and
// the bytes between it and what Rivulet has read.
func pollBinlog(conn *client.Conn, m *metrics.Stream) error {
	r, err := conn.Execute("SHOW BINARY LOGS")
	if err != nil {
		return err
	}
	defer r.Close()
	file, pos, ok := m.ReadPosition()
	var lag int64
	found := false
	var end uint64
	for i := range r.RowNumber() {
		name, err := r.GetString(i, 0)
		if err != nil {
			return err
		}
		size, err := r.GetUint(i, 1)
		if err != nil {
			return err
		}
		end = size
		switch c := strings.Compare(name, file); {
		case c == 0:
			found = true
			lag += max(0, int64(size)-int64(pos))
		case c > 0:
			lag += int64(size)
		}
	}
	if !ok || !found {
		lag = -1
	}
	m.SourceStatus(end, lag)
	return nil
}

// kafkaMetrics registers franz-go's producer metrics (plugin/kprom) on reg as
// rivulet_kafka_* and returns the client option that feeds them.
func kafkaMetrics(reg prometheus.Registerer) kgo.Opt {
	return kgo.WithHooks(kprom.NewMetrics("rivulet", kprom.Subsystem("kafka"), kprom.Registerer(reg),
		kprom.FetchAndProduceDetail(kprom.ByNode, kprom.ByTopic, kprom.Batches, kprom.Records,
			kprom.CompressedBytes, kprom.UncompressedBytes, kprom.ConsistentNaming)))
}
