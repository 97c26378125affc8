package metrics

import (
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Stream holds the streaming metrics. Build it with New; all methods are safe
// for concurrent use and cheap enough for the hot path (no per-row calls).
type Stream struct {
	connected     prometheus.Gauge
	disconnects   prometheus.Counter
	events        *prometheus.CounterVec
	filtered      prometheus.Counter
	sourceTime    prometheus.Gauge
	batches       prometheus.Counter
	committedTime prometheus.Gauge
	committedPos  prometheus.Gauge

	ready atomic.Bool
}

// New registers the collectors on reg (our own registry, never the global one).
func New(reg prometheus.Registerer) *Stream {
	s := &Stream{
		connected: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "rivulet_binlog_connected",
			Help: "1 while the binlog replication connection is up, 0 otherwise.",
		}),
		disconnects: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "rivulet_binlog_disconnects_total",
			Help: "Times the binlog connection dropped and Rivulet reconnected.",
		}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rivulet_events_total",
			Help: "Row change events decoded from the binlog, by table.",
		}, []string{"table"}),
		filtered: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "rivulet_binlog_events_filtered_total",
			Help: "Rows events skipped because their table is not captured (Debezium NumberOfEventsFiltered).",
		}),
		sourceTime: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "rivulet_binlog_last_transaction_timestamp_seconds",
			Help: "Binlog timestamp of the last transaction read; now minus this is the lag.",
		}),
		batches: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "rivulet_batches_total",
			Help: "Batches (transactions or parts of large ones) handed to the sink.",
		}),
		committedTime: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "rivulet_offset_committed_timestamp_seconds",
			Help: "Unix time of the last offset commit; alert when it stops moving.",
		}),
		committedPos: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "rivulet_offset_committed_binlog_position",
			Help: "Binlog position (within its file) of the last committed offset.",
		}),
	}
	reg.MustRegister(s.connected, s.disconnects, s.events, s.filtered, s.sourceTime, s.batches, s.committedTime, s.committedPos,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return s
}

// Connected records that the replication connection is up.
func (s *Stream) Connected() { s.connected.Set(1); s.ready.Store(true) }

// Disconnected records a dropped connection.
func (s *Stream) Disconnected(error) {
	s.connected.Set(0)
	s.disconnects.Inc()
	s.ready.Store(false)
}

// RowsDecoded counts n change events decoded for table ("db.table").
func (s *Stream) RowsDecoded(table string, n int) {
	s.events.WithLabelValues(table).Add(float64(n))
}

// Filtered counts a rows event skipped because its table is not captured.
func (s *Stream) Filtered(string) { s.filtered.Inc() }

// Committed records the binlog timestamp of the last transaction read.
func (s *Stream) Committed(tsSec int64) { s.sourceTime.Set(float64(tsSec)) }

// BatchQueued counts a batch handed to the sink.
func (s *Stream) BatchQueued(int) { s.batches.Inc() }

// OffsetCommitted records a commit at binlog position pos.
func (s *Stream) OffsetCommitted(pos uint64) {
	s.committedTime.Set(float64(time.Now().Unix()))
	s.committedPos.Set(float64(pos))
}

// Ready reports whether the stream is connected (used by /readyz).
func (s *Stream) Ready() bool { return s.ready.Load() }
