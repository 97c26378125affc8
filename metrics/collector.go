package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Debezium contexts (the "context" label).
const (
	ContextStreaming     = "streaming"
	ContextSnapshot      = "snapshot"
	ContextSchemaHistory = "schema-history"
)

// gauge is one unlabelled sample computed at scrape time.
type gauge struct {
	desc  *prometheus.Desc
	kind  prometheus.ValueType
	value func() float64
}

// tableSeries is one sample per table, computed at scrape time.
type tableSeries struct {
	desc  *prometheus.Desc
	kind  prometheus.ValueType
	value func(*TableCounters) float64
}

// collector turns the atomics of Stream, Snapshot and SchemaHistory into
// samples on each scrape: the hot path never touches a Prometheus type.
type collector struct {
	s            *Stream
	gauges       []gauge
	streamTables []tableSeries // debezium per-table maps, streaming context
	snapTables   []struct {
		desc  *prometheus.Desc
		value func(*snapshotTable) float64
	}
	events        *prometheus.Desc // rivulet_events_total{table,op}
	historyStatus *prometheus.Desc
	snapEstimated *prometheus.Desc // rivulet_snapshot_table_rows_estimated{table}
	snapETA       *prometheus.Desc // rivulet_snapshot_table_eta_seconds{table}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func newCollector(s *Stream) *collector {
	c := &collector{s: s}
	// A name has one help text across contexts: the first one given wins,
	// so the streaming texts of shared attributes are written for both.
	helps := map[string]string{}
	dz := func(context string) func(attr, help string, labels ...string) *prometheus.Desc {
		cl := prometheus.Labels{"plugin": s.opts.Plugin, "name": s.opts.Name, "context": context}
		return func(attr, help string, labels ...string) *prometheus.Desc {
			if h, ok := helps[attr]; ok {
				help = h
			} else {
				helps[attr] = help
			}
			return prometheus.NewDesc("debezium_metrics_"+attr, help, labels, cl)
		}
	}
	str, snp, his := dz(ContextStreaming), dz(ContextSnapshot), dz(ContextSchemaHistory)
	g := func(d *prometheus.Desc, f func() float64) {
		c.gauges = append(c.gauges, gauge{desc: d, kind: prometheus.GaugeValue, value: f})
	}
	ctr := func(d *prometheus.Desc, f func() float64) {
		c.gauges = append(c.gauges, gauge{desc: d, kind: prometheus.CounterValue, value: f})
	}
	i64 := func(a interface{ Load() int64 }) func() float64 { return func() float64 { return float64(a.Load()) } }
	bl := func(a interface{ Load() bool }) func() float64 { return func() float64 { return b2f(a.Load()) } }
	sn, h := s.snapshot, s.history
	msSince := func(ns interface{ Load() int64 }) func() float64 {
		return func() float64 {
			t := ns.Load()
			if t == 0 {
				return -1
			}
			return float64((s.now().UnixNano() - t) / 1e6)
		}
	}
	queueCap := float64(s.opts.QueueCapacity)
	remaining := func(in interface{ Load() int64 }) func() float64 {
		return func() float64 { return max(0, queueCap-float64(in.Load())) }
	}
	streamTotal := func(op byte) func() float64 {
		return func() float64 { return s.sumTables(op) }
	}

	// ---- Debezium streaming context (BinlogStreamingChangeEventSourceMetricsMXBean).
	g(str("Connected", "Debezium Connected: 1 while the binlog replication connection is up."), bl(&s.connected))
	g(str("MilliSecondsSinceLastEvent", "Debezium MilliSecondsSinceLastEvent: milliseconds since the last change event of this context (streaming: handed to Kafka, snapshot: rows read); -1 before the first."), msSince(&s.lastEventNs))
	g(str("MilliSecondsBehindSource", "Debezium MilliSecondsBehindSource: wall clock minus the database time of the last event, in ms (includes clock skew); -1 before the first."), i64(&s.behindMs))
	g(str("MilliSecondsBehindSourceMinValue", "Debezium MilliSecondsBehindSourceMinValue: smallest lag seen since start, ms; -1 before the first event."), i64(&s.lag.min))
	g(str("MilliSecondsBehindSourceMaxValue", "Debezium MilliSecondsBehindSourceMaxValue: largest lag seen since start, ms; -1 before the first event."), i64(&s.lag.max))
	g(str("MilliSecondsBehindSourceAverageValue", "Debezium MilliSecondsBehindSourceAverageValue: mean lag per batch since start, ms; -1 before the first event."), func() float64 {
		n := s.lag.n.Load()
		if n == 0 {
			return -1
		}
		return float64(s.lag.sum.Load()) / float64(n)
	})
	for _, q := range []struct {
		attr string
		q    float64
	}{{"P50", 0.5}, {"P95", 0.95}, {"P99", 0.99}} {
		g(str("MilliSecondsBehindSource"+q.attr, "Debezium MilliSecondsBehindSource"+q.attr+": lag percentile since start, ms, as the upper bound of a power-of-two bucket; -1 before the first event."),
			func() float64 { return s.lag.quantile(q.q) })
	}
	g(str("TotalNumberOfEventsSeen", "Debezium TotalNumberOfEventsSeen: change events since start; streaming: create, update, delete and truncate events from the binlog; snapshot: read events."), streamTotal(0))
	g(str("TotalNumberOfCreateEventsSeen", "Debezium TotalNumberOfCreateEventsSeen: insert events since start (0 in the snapshot context, which emits reads)."), streamTotal('c'))
	g(str("TotalNumberOfUpdateEventsSeen", "Debezium TotalNumberOfUpdateEventsSeen: update events since start (0 in the snapshot context)."), streamTotal('u'))
	g(str("TotalNumberOfDeleteEventsSeen", "Debezium TotalNumberOfDeleteEventsSeen: delete events since start (0 in the snapshot context)."), streamTotal('d'))
	g(str("NumberOfEventsFiltered", "Debezium NumberOfEventsFiltered: streaming: binlog rows events skipped because their table is not captured; snapshot: 0 (filters select whole tables)."), i64(&s.filtered))
	g(str("NumberOfErroneousEvents", "Debezium NumberOfErroneousEvents: events that failed processing (streaming: Rivulet stops on such events instead, so 0)."), func() float64 { return 0 })
	g(str("NumberOfUnchangedEventsSkipped", "Debezium NumberOfUnchangedEventsSkipped: updates skip.messages.without.change dropped since start; -1 when it is off."), func() float64 {
		if f := s.unchangedSkipped.Load(); f != nil {
			return float64((*f)())
		}
		return -1
	})
	g(str("QueueTotalCapacity", "Debezium QueueTotalCapacity: max.queue.size, the events that may wait for Kafka acknowledgement."), func() float64 { return queueCap })
	g(str("QueueRemainingCapacity", "Debezium QueueRemainingCapacity: free queue slots; 0 means Kafka is the bottleneck and reading the binlog waits."), remaining(&s.inflight))
	g(str("MaxQueueSizeInBytes", "Debezium MaxQueueSizeInBytes: max.queue.size.in.bytes, 0 when unset."), func() float64 { return float64(s.opts.MaxQueueBytes) })
	g(str("CurrentQueueSizeInBytes", "Debezium CurrentQueueSizeInBytes: not measured by Rivulet (0); see QueueRemainingCapacity."), func() float64 { return 0 })
	g(str("NumberOfCommittedTransactions", "Debezium NumberOfCommittedTransactions: transactions read from the binlog to their commit since start."), i64(&s.txCommitted))
	g(str("BinlogPosition", "Debezium BinlogPosition: position within the current binlog file of the last event read."), i64(&s.binlogPos))
	g(str("IsGtidModeEnabled", "Debezium IsGtidModeEnabled: 1 when the last event carried a GTID."), bl(&s.gtidMode))
	g(str("NumberOfSkippedEvents", "Debezium NumberOfSkippedEvents: binlog events skipped as undecodable (Rivulet stops instead, so 0)."), func() float64 { return 0 })
	g(str("NumberOfDisconnects", "Debezium NumberOfDisconnects: times the binlog connection dropped since start."), i64(&s.disconnects))
	g(str("NumberOfRolledBackTransactions", "Debezium NumberOfRolledBackTransactions: rolled-back transactions seen in the binlog (none are written by the server for transactional tables, so 0)."), func() float64 { return 0 })
	g(str("NumberOfNotWellFormedTransactions", "Debezium NumberOfNotWellFormedTransactions: transactions with unexpected BEGIN/COMMIT structure (0)."), func() float64 { return 0 })
	g(str("NumberOfLargeTransactions", "Debezium NumberOfLargeTransactions: transactions larger than one batch, sent in several parts."), i64(&s.largeTx))
	// Legacy 1.x attributes that dashboard 11523 still queries.
	g(str("SecondsBehindMaster", "Legacy Debezium 1.x SecondsBehindMaster (dashboard 11523): MilliSecondsBehindSource / 1000."), func() float64 {
		ms := s.behindMs.Load()
		if ms < 0 {
			return -1
		}
		return float64(ms) / 1000
	})
	g(str("SecondsSinceLastEvent", "Legacy Debezium 1.x SecondsSinceLastEvent (dashboard 11523): MilliSecondsSinceLastEvent / 1000."), func() float64 {
		t := s.lastEventNs.Load()
		if t == 0 {
			return -1
		}
		return float64(s.now().UnixNano()-t) / 1e9
	})
	for _, m := range []struct {
		attr, verb string
		op         byte
	}{{"NumberOfCreateEventsSeen", "insert", 'c'}, {"NumberOfUpdateEventsSeen", "update", 'u'}, {"NumberOfDeleteEventsSeen", "delete", 'd'}, {"NumberOfTruncateEventsSeen", "truncate", 't'}} {
		c.streamTables = append(c.streamTables, tableSeries{
			desc:  str(m.attr, "Debezium "+m.attr+" map: "+m.verb+" events streamed since start, per table.", "table"),
			kind:  prometheus.GaugeValue,
			value: func(t *TableCounters) float64 { return t.load(m.op) },
		})
	}

	// ---- Debezium snapshot context (SnapshotChangeEventSourceMetricsMXBean).
	snapTotal := func() float64 { return s.sumTables('r') }
	g(snp("SnapshotRunning", "Debezium SnapshotRunning: 1 while the initial snapshot reads tables."), bl(&sn.running))
	g(snp("SnapshotPaused", "Debezium SnapshotPaused: 1 while the snapshot is paused."), bl(&sn.paused))
	g(snp("SnapshotAborted", "Debezium SnapshotAborted: 1 if the snapshot stopped before reading every table; it restarts on the next run."), bl(&sn.aborted))
	g(snp("SnapshotCompleted", "Debezium SnapshotCompleted: 1 once every captured table was read."), bl(&sn.completed))
	g(snp("SnapshotSkipped", "Debezium SnapshotSkipped: 1 when snapshot.mode asks for no data snapshot."), bl(&sn.skipped))
	g(snp("SnapshotDurationInSeconds", "Debezium SnapshotDurationInSeconds: seconds the snapshot has run (so far, or in total once done)."), sn.durationSec)
	g(snp("SnapshotPausedDurationInSeconds", "Debezium SnapshotPausedDurationInSeconds: seconds the snapshot spent paused."), sn.pausedSec)
	g(snp("TotalTableCount", "Debezium TotalTableCount: tables the snapshot reads."), i64(&sn.totalTables))
	g(snp("RemainingTableCount", "Debezium RemainingTableCount: tables the snapshot has not finished yet."), i64(&sn.remainingTables))
	g(snp("HoldingGlobalLock", "Debezium HoldingGlobalLock: 1 while a global read lock is held (Rivulet's snapshot takes none, so normally 0)."), bl(&sn.globalLock))
	g(snp("TotalNumberOfEventsSeen", "Debezium TotalNumberOfEventsSeen (snapshot): read events emitted by the snapshot."), snapTotal)
	g(snp("TotalNumberOfCreateEventsSeen", "Debezium TotalNumberOfCreateEventsSeen (snapshot): 0, a snapshot emits read events."), func() float64 { return 0 })
	g(snp("TotalNumberOfUpdateEventsSeen", "Debezium TotalNumberOfUpdateEventsSeen (snapshot): 0, a snapshot emits read events."), func() float64 { return 0 })
	g(snp("TotalNumberOfDeleteEventsSeen", "Debezium TotalNumberOfDeleteEventsSeen (snapshot): 0, a snapshot emits read events."), func() float64 { return 0 })
	g(snp("MilliSecondsSinceLastEvent", "Debezium MilliSecondsSinceLastEvent (snapshot): ms since the snapshot last read rows; -1 before."), msSince(&sn.lastEventNs))
	g(snp("NumberOfEventsFiltered", "Debezium NumberOfEventsFiltered (snapshot): rows skipped by filters during the snapshot (0, filters apply to whole tables)."), func() float64 { return 0 })
	g(snp("NumberOfErroneousEvents", "Debezium NumberOfErroneousEvents (snapshot): rows that failed processing."), i64(&sn.erroneous))
	g(snp("QueueTotalCapacity", "Debezium QueueTotalCapacity (snapshot): max.queue.size."), func() float64 { return queueCap })
	g(snp("QueueRemainingCapacity", "Debezium QueueRemainingCapacity (snapshot): free queue slots."), remaining(&s.inflight))
	g(snp("MaxQueueSizeInBytes", "Debezium MaxQueueSizeInBytes (snapshot): max.queue.size.in.bytes, 0 when unset."), func() float64 { return float64(s.opts.MaxQueueBytes) })
	g(snp("CurrentQueueSizeInBytes", "Debezium CurrentQueueSizeInBytes (snapshot): not measured (0)."), func() float64 { return 0 })
	c.snapTables = append(c.snapTables,
		struct {
			desc  *prometheus.Desc
			value func(*snapshotTable) float64
		}{snp("RowsScanned", "Debezium RowsScanned map: rows the snapshot read, per table.", "table"), func(t *snapshotTable) float64 { return float64(t.rows.Load()) }},
		struct {
			desc  *prometheus.Desc
			value func(*snapshotTable) float64
		}{snp("TableChunkCounts", "Debezium TableChunkCounts map: chunks each table is read in.", "table"), func(t *snapshotTable) float64 { return float64(t.chunks.Load()) }},
		struct {
			desc  *prometheus.Desc
			value func(*snapshotTable) float64
		}{snp("TableChunksCompletedCounts", "Debezium TableChunksCompletedCounts map: chunks read so far, per table.", "table"), func(t *snapshotTable) float64 { return float64(t.chunksDone.Load()) }},
	)

	// ---- Debezium schema history context (SchemaHistoryMXBean).
	g(his("RecoveryStartTime", "Debezium RecoveryStartTime: Unix time (s) the schema history recovery started; -1 if it did not."), func() float64 {
		t := h.recoveryStartNs.Load()
		if t == 0 {
			return -1
		}
		return float64(t / 1e9)
	})
	g(his("ChangesRecovered", "Debezium ChangesRecovered: DDL statements replayed from the stored schema history at start."), i64(&h.recovered))
	g(his("ChangesApplied", "Debezium ChangesApplied: DDL statements read from the binlog and recorded since start."), i64(&h.applied))
	g(his("MilliSecondsSinceLastRecoveredChange", "Debezium MilliSecondsSinceLastRecoveredChange: ms since the last DDL was replayed; -1 if none."), msSince(&h.lastRecoveredNs))
	g(his("MilliSecondsSinceLastAppliedChange", "Debezium MilliSecondsSinceLastAppliedChange: ms since the last DDL was applied; -1 if none."), msSince(&h.lastAppliedNs))
	c.historyStatus = prometheus.NewDesc("rivulet_schema_history_status", "Schema history state (Debezium Status): 1 for the current one of STOPPED, RECOVERING, RUNNING.", []string{"status"}, nil)

	// ---- Rivulet's own series.
	rv := func(name, help string) *prometheus.Desc { return prometheus.NewDesc(name, help, nil, nil) }
	c.events = prometheus.NewDesc("rivulet_events_total", "Change events handed to Kafka, by table (db.table) and operation (c=insert, u=update, d=delete, t=truncate, r=snapshot read).", []string{"table", "op"}, nil)
	g(rv("rivulet_binlog_connected", "1 while the binlog replication connection is up, 0 otherwise."), bl(&s.connected))
	ctr(rv("rivulet_binlog_disconnects_total", "Times the binlog connection dropped and Rivulet reconnected."), i64(&s.disconnects))
	ctr(rv("rivulet_binlog_events_filtered_total", "Binlog rows events skipped because their table is not captured (Debezium NumberOfEventsFiltered)."), i64(&s.filtered))
	ctr(rv("rivulet_binlog_rows_decoded_total", "Row images decoded from the binlog for captured tables."), i64(&s.decoded))
	ctr(rv("rivulet_binlog_transactions_total", "Transactions read from the binlog to their commit."), i64(&s.txCommitted))
	ctr(rv("rivulet_batches_total", "Batches (transactions or parts of large ones) handed to the sink."), i64(&s.batches))
	g(rv("rivulet_binlog_last_transaction_timestamp_seconds", "Binlog (database) time of the last transaction read, Unix seconds."), i64(&s.lastSourceSec))
	g(rv("rivulet_binlog_lag_seconds", "Wall clock minus the database time of the last event handed to Kafka, in seconds; -1 before the first event. Stays at its last value while no events come."), func() float64 {
		ms := s.behindMs.Load()
		if ms < 0 {
			return -1
		}
		return float64(ms) / 1000
	})
	g(rv("rivulet_binlog_lag_bytes", "Binlog bytes the server has written beyond what Rivulet has read (SHOW BINARY LOGS, polled); -1 when unknown."), i64(&s.lagBytes))
	g(rv("rivulet_source_binlog_end_position", "Position within the server's current binlog file (SHOW BINARY LOGS, polled); it moves whenever the server writes."), i64(&s.sourceEndPos))
	g(rv("rivulet_database_reachable", "1 when the last query connection to the database worked."), bl(&s.dbUp))
	g(rv("rivulet_kafka_reachable", "1 when the Kafka brokers answered the last check."), bl(&s.kafkaUp))
	g(rv("rivulet_ready", "1 when /readyz answers 200: Kafka reachable and the binlog streaming (or the snapshot running)."), func() float64 { return b2f(s.Ready()) })
	g(rv("rivulet_queue_events", "Change events handed to the sink and not yet acknowledged by Kafka."), i64(&s.inflight))
	g(rv("rivulet_queue_capacity_events", "Most events that may wait for Kafka acknowledgement (max.queue.size)."), func() float64 { return queueCap })
	g(rv("rivulet_offset_committed_timestamp_seconds", "Unix time of the last offset commit; 0 before the first."), func() float64 { return float64(s.commitNs.Load() / 1e9) })
	g(rv("rivulet_offset_commit_age_seconds", "Seconds since the last offset commit; -1 before the first. Offsets are committed only when something new was acknowledged."), func() float64 {
		t := s.commitNs.Load()
		if t == 0 {
			return -1
		}
		return float64(s.now().UnixNano()-t) / 1e9
	})
	g(rv("rivulet_offset_committed_binlog_position", "Binlog position (within its file) of the last committed offset."), i64(&s.commitPos))
	g(rv("rivulet_snapshot_running", "1 while the initial snapshot runs."), bl(&sn.running))
	c.snapEstimated = prometheus.NewDesc("rivulet_snapshot_table_rows_estimated", "Rows the server estimates a snapshotted table holds (information_schema TABLES.TABLE_ROWS, approximate for InnoDB), read when the snapshot starts; compare with debezium_metrics_RowsScanned.", []string{"table"}, nil)
	c.snapETA = prometheus.NewDesc("rivulet_snapshot_table_eta_seconds", "Seconds until a table's snapshot is read at the rate since its first chunk, from the estimate; 0 once the table is done, absent while unknown.", []string{"table"}, nil)
	ctr(rv("rivulet_ddl_skipped_total", "DDL statements skipped because they could not be parsed (schema.history.internal.skip.unparseable.ddl)."), i64(&h.ddlSkipped))
	ctr(rv("rivulet_ddl_unparsed_neutral_total", "DDL statements the parser could not read that cannot change columns (indexes, constraints, partitions, table options): recorded and passed over."), i64(&h.ddlNeutral))
	for i, kind := range DDLFallbackKinds {
		ctr(prometheus.NewDesc("rivulet_ddl_fallback_total", "DDL statements (or table maps of tables the history lacked) resolved by a fallback, by kind: binlog_metadata (TABLE_MAP full row metadata), reload (the live table), dropped_later (dropped or renamed before any row).",
			nil, prometheus.Labels{"kind": kind}), i64(&h.ddlFallback[i]))
	}
	return c
}

// load returns the count of op, or of every streaming op for 0.
func (t *TableCounters) load(op byte) float64 {
	switch op {
	case 'c':
		return float64(t.create.Load())
	case 'u':
		return float64(t.update.Load())
	case 'd':
		return float64(t.delete.Load())
	case 't':
		return float64(t.trunc.Load())
	case 'r':
		return float64(t.reads.Load())
	case 0:
		return float64(t.create.Load() + t.update.Load() + t.delete.Load() + t.trunc.Load())
	}
	return 0
}

// sumTables sums op over every table (0: every streaming op).
func (s *Stream) sumTables(op byte) float64 {
	var n float64
	s.tables.Range(func(_, v any) bool {
		n += v.(*TableCounters).load(op)
		return true
	})
	return n
}

var opNames = [...]struct {
	op   byte
	name string
}{{'c', "c"}, {'u', "u"}, {'d', "d"}, {'t', "t"}, {'r', "r"}}

// Describe sends every descriptor.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, g := range c.gauges {
		ch <- g.desc
	}
	for _, t := range c.streamTables {
		ch <- t.desc
	}
	for _, t := range c.snapTables {
		ch <- t.desc
	}
	ch <- c.events
	ch <- c.historyStatus
	ch <- c.snapEstimated
	ch <- c.snapETA
}

// Collect reads the atomics into samples.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	for _, g := range c.gauges {
		ch <- prometheus.MustNewConstMetric(g.desc, g.kind, g.value())
	}
	c.s.tables.Range(func(_, v any) bool {
		t := v.(*TableCounters)
		for _, ts := range c.streamTables {
			ch <- prometheus.MustNewConstMetric(ts.desc, ts.kind, ts.value(t), t.id)
		}
		for _, o := range opNames {
			if n := t.load(o.op); n > 0 {
				ch <- prometheus.MustNewConstMetric(c.events, prometheus.CounterValue, n, t.id, o.name)
			}
		}
		return true
	})
	sn := c.s.snapshot
	now := c.s.now().UnixNano()
	sn.mu.Lock()
	for id, t := range sn.tables {
		for _, ts := range c.snapTables {
			ch <- prometheus.MustNewConstMetric(ts.desc, prometheus.GaugeValue, ts.value(t), id)
		}
		st := t.status(id, now)
		if st.Estimated >= 0 {
			ch <- prometheus.MustNewConstMetric(c.snapEstimated, prometheus.GaugeValue, float64(st.Estimated), id)
		}
		if st.ETASeconds >= 0 {
			ch <- prometheus.MustNewConstMetric(c.snapETA, prometheus.GaugeValue, st.ETASeconds, id)
		}
	}
	sn.mu.Unlock()
	st := c.s.history.status.Load()
	for i, name := range historyStatusNames {
		ch <- prometheus.MustNewConstMetric(c.historyStatus, prometheus.GaugeValue, b2f(int32(i) == st), name)
	}
}
