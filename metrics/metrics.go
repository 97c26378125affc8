package metrics

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Options configure the metrics of one connector; zero values are defaults.
type Options struct {
	// Plugin is the Debezium plugin label: "mysql" (default) or "mariadb",
	// as the JMX exporter derives it from the MBean domain debezium.<plugin>.
	Plugin string
	// Name is topic.prefix, the Debezium "server" (label name).
	Name string
	// QueueCapacity is max.queue.size (QueueTotalCapacity).
	QueueCapacity int
	// MaxQueueBytes is max.queue.size.in.bytes (MaxQueueSizeInBytes), 0 for none.
	MaxQueueBytes int64
	// NoKafka marks a sink without Kafka (stdout): readiness does not wait for it.
	NoKafka bool
	// Logger gets one line per readiness change; nil discards.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now (tests pin it).
	Now func() time.Time
}

// Stream holds the streaming-context metrics and owns the Snapshot and
// SchemaHistory ones. Build it with New or NewWithOptions; every method is
// safe for concurrent use. Hot-path methods are atomic adds: values are
// turned into Prometheus samples only when scraped.
type Stream struct {
	opts Options
	now  func() time.Time
	log  *slog.Logger

	// unchangedSkipped reports NumberOfUnchangedEventsSkipped; nil: -1.
	unchangedSkipped atomic.Pointer[func() int64]

	snapshot *Snapshot
	history  *SchemaHistory

	connected   atomic.Bool
	disconnects atomic.Int64
	filtered    atomic.Int64
	decoded     atomic.Int64
	txCommitted atomic.Int64
	batches     atomic.Int64
	largeTx     atomic.Int64
	inLargeTx   atomic.Bool

	tables sync.Map // table id -> *TableCounters

	lastEventNs   atomic.Int64 // wall clock of the last event seen, 0 = none
	lastSourceSec atomic.Int64 // binlog timestamp of the last transaction read
	behindMs      atomic.Int64 // MilliSecondsBehindSource, -1 = none yet
	lag           lagStats

	binlogFile atomic.Pointer[string]
	binlogPos  atomic.Int64
	gtidMode   atomic.Bool

	inflight atomic.Int64 // events handed to the sink, not yet acknowledged

	commitNs     atomic.Int64 // wall clock of the last offset commit, 0 = none
	commitPos    atomic.Int64
	commitFile   atomic.Pointer[string]
	sourceEndPos atomic.Int64 // server's current binlog end (SHOW BINARY LOGS)
	lagBytes     atomic.Int64 // -1 = unknown

	kafkaUp atomic.Bool
	dbUp    atomic.Bool

	ackFile atomic.Pointer[string] // highest acknowledged position (PositionAcked)
	ackPos  atomic.Int64
	lastDDL stampedVal // last DDL recorded in the schema history
	lastErr stampedVal // last error a stage reported

	readyMu   sync.Mutex
	lastReady bool
}

// TableCounters counts the change events of one table by operation. Callers
// on the hot path keep the pointer (Stream.Table) and add to it.
type TableCounters struct {
	id                                   string
	create, update, delete, trunc, reads atomic.Int64
}

// Add counts n events of operation op ('c', 'u', 'd', 't', or 'r' for
// snapshot reads). Unknown operations are ignored.
func (t *TableCounters) Add(op byte, n int) {
	switch op {
	case 'c':
		t.create.Add(int64(n))
	case 'u':
		t.update.Add(int64(n))
	case 'd':
		t.delete.Add(int64(n))
	case 't':
		t.trunc.Add(int64(n))
	case 'r':
		t.reads.Add(int64(n))
	}
}

// New registers the collectors on reg (our own registry, never the global
// one) with default options.
func New(reg prometheus.Registerer) *Stream { return NewWithOptions(reg, Options{}) }

// SetUnchangedSkipped sets where NumberOfUnchangedEventsSkipped comes from:
// the encoder's count of updates skip.messages.without.change dropped (-1
// when it is off, as Debezium reports).
func (s *Stream) SetUnchangedSkipped(f func() int64) { s.unchangedSkipped.Store(&f) }

// NewWithOptions registers Rivulet's collectors, the Debezium-named ones, and
// the Go runtime and process collectors on reg.
func NewWithOptions(reg prometheus.Registerer, o Options) *Stream {
	if o.Plugin == "" {
		o.Plugin = "mysql"
	}
	s := &Stream{opts: o, now: o.Now, log: o.Logger}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.behindMs.Store(-1)
	s.lagBytes.Store(-1)
	s.lag.init()
	if o.NoKafka {
		s.kafkaUp.Store(true)
	}
	s.snapshot = &Snapshot{s: s}
	s.history = &SchemaHistory{s: s}
	reg.MustRegister(newCollector(s),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return s
}

// Snapshot returns the snapshot-context metrics.
func (s *Stream) Snapshot() *Snapshot { return s.snapshot }

// SchemaHistory returns the schema-history-context metrics.
func (s *Stream) SchemaHistory() *SchemaHistory { return s.history }

// --- binlog.Observer ---

// Connected records that the replication connection is up.
func (s *Stream) Connected() {
	s.connected.Store(true)
	s.dbUp.Store(true)
	s.readyChanged("binlog connected")
}

// Disconnected records a dropped connection.
func (s *Stream) Disconnected(err error) {
	s.Error(err)
	s.connected.Store(false)
	s.disconnects.Add(1)
	s.readyChanged("binlog disconnected")
}

// RowsDecoded counts n change events decoded for table ("db.table"). Events by
// operation are counted when they reach the sink (Table(...).Add).
func (s *Stream) RowsDecoded(_ string, n int) { s.decoded.Add(int64(n)) }

// Filtered counts a rows event skipped because its table is not captured.
func (s *Stream) Filtered(string) { s.filtered.Add(1) }

// Committed records one transaction read to its commit, at binlog time tsSec.
func (s *Stream) Committed(tsSec int64) {
	s.txCommitted.Add(1)
	s.lastSourceSec.Store(tsSec)
}

// --- engine.Observer ---

// BatchQueued counts a batch handed to the sink.
func (s *Stream) BatchQueued(int) { s.batches.Add(1) }

// OffsetCommitted records an offset commit at binlog file:pos (file ""
// when the position has none).
func (s *Stream) OffsetCommitted(file string, pos uint64) {
	s.commitNs.Store(s.now().UnixNano())
	s.commitPos.Store(int64(pos))
	if file == "" {
		return
	}
	if p := s.commitFile.Load(); p == nil || *p != file {
		f := file
		s.commitFile.Store(&f)
	}
}

// --- engine.SendObserver: what the run loop hands to the sink ---

// TableEvents counts n change events of operation op of table ("db.table").
func (s *Stream) TableEvents(table string, op byte, n int) { s.Table(table).Add(op, n) }

// Table returns the counters of table ("db.table"), creating them once.
func (s *Stream) Table(id string) *TableCounters {
	if t, ok := s.tables.Load(id); ok {
		return t.(*TableCounters)
	}
	t, _ := s.tables.LoadOrStore(id, &TableCounters{id: id})
	return t.(*TableCounters)
}

// EventsSent records a batch of n events handed to the sink; the last one
// came from binlog file:pos (gtid "" without GTIDs) with database time tsUs
// (microseconds since the epoch). cont marks a batch that continues the
// transaction the previous batch ended in (a large transaction sent in
// parts); each such transaction counts once. Call EventsAcked(n) when
// the sink acknowledged them.
func (s *Stream) EventsSent(n int, file string, pos uint64, gtid string, tsUs int64, cont bool) {
	now := s.now()
	s.inflight.Add(int64(n))
	s.lastEventNs.Store(now.UnixNano())
	if tsUs > 0 {
		ms := now.UnixMilli() - tsUs/1000
		if ms < 0 {
			ms = 0 // clock skew: never report a negative lag
		}
		s.behindMs.Store(ms)
		s.lag.observe(ms)
	}
	if file != "" {
		if p := s.binlogFile.Load(); p == nil || *p != file {
			f := file
			s.binlogFile.Store(&f)
		}
		s.binlogPos.Store(int64(pos))
	}
	s.gtidMode.Store(gtid != "")
	if cont && !s.inLargeTx.Swap(true) {
		s.largeTx.Add(1)
	} else if !cont {
		s.inLargeTx.Store(false)
	}
}

// SnapshotEventsSent records a batch of n snapshot read events handed to the
// sink (they do not move the streaming lag or position). Call EventsAcked(n)
// when the sink acknowledged them.
func (s *Stream) SnapshotEventsSent(n int) {
	s.inflight.Add(int64(n))
	s.snapshot.lastEventNs.Store(s.now().UnixNano())
}

// EventsAcked records n events acknowledged (or failed) by the sink.
func (s *Stream) EventsAcked(n int) { s.inflight.Add(-int64(n)) }

// ReadPosition is the furthest binlog position known to be read: the later
// of the last event sent and the last commit. ok is false before either.
func (s *Stream) ReadPosition() (file string, pos uint64, ok bool) {
	cf, ep := s.commitFile.Load(), s.binlogFile.Load()
	switch {
	case cf == nil && ep == nil:
		return "", 0, false
	case ep == nil || (cf != nil && (*cf > *ep || (*cf == *ep && s.commitPos.Load() >= s.binlogPos.Load()))):
		return *cf, uint64(s.commitPos.Load()), true
	default:
		return *ep, uint64(s.binlogPos.Load()), true
	}
}

// SourceStatus records what the server reports (SHOW BINARY LOGS): the
// position of its binlog end, and the bytes between it and ReadPosition
// (-1 when unknown). It also marks the database reachable.
func (s *Stream) SourceStatus(endPos uint64, lagBytes int64) {
	s.sourceEndPos.Store(int64(endPos))
	s.lagBytes.Store(lagBytes)
	s.DatabaseReachable(true)
}

// DatabaseReachable records whether a query connection to the database
// works; a change is logged once.
func (s *Stream) DatabaseReachable(ok bool) {
	if s.dbUp.Swap(ok) != ok {
		s.reachability("database", ok)
	}
}

// KafkaReachable records whether the Kafka brokers answer; a change is
// logged once.
func (s *Stream) KafkaReachable(ok bool) {
	if s.kafkaUp.Swap(ok) != ok {
		s.reachability("kafka", ok)
	}
}

func (s *Stream) reachability(what string, ok bool) {
	if ok {
		s.log.Info(what + " reachable")
	} else {
		s.log.Warn(what + " unreachable")
	}
	s.readyChanged(what + " reachability changed")
}

// Ready reports whether Rivulet is connected to the database and to Kafka
// and is streaming (binlog connected) or snapshotting (used by /readyz).
func (s *Stream) Ready() bool {
	ok, _ := s.readiness()
	return ok
}

func (s *Stream) readiness() (bool, string) {
	switch {
	case !s.kafkaUp.Load():
		return false, "kafka not reachable"
	case s.connected.Load():
		return true, "streaming"
	case s.snapshot.running.Load() && s.dbUp.Load():
		return true, "snapshotting"
	case s.snapshot.running.Load():
		return false, "database not reachable"
	default:
		return false, "binlog not connected"
	}
}

// readyChanged logs one line when readiness flips.
func (s *Stream) readyChanged(cause string) {
	s.readyMu.Lock()
	defer s.readyMu.Unlock()
	ok, why := s.readiness()
	if ok == s.lastReady {
		return
	}
	s.lastReady = ok
	if ok {
		s.log.Info("ready", "state", why, "cause", cause)
	} else {
		s.log.Warn("not ready", "reason", why, "cause", cause)
	}
}

// lagStats keeps MilliSecondsBehindSource statistics since start: min, max,
// mean and percentiles from power-of-two buckets (upper bound reported).
type lagStats struct {
	min, max, sum, n atomic.Int64
	buckets          [lagBuckets]atomic.Int64
}

const lagBuckets = 40 // bucket i holds values < 2^i ms (last: everything above)

func (l *lagStats) init() { l.min.Store(-1); l.max.Store(-1) }

func (l *lagStats) observe(ms int64) {
	l.sum.Add(ms)
	l.n.Add(1)
	for {
		m := l.min.Load()
		if (m >= 0 && m <= ms) || l.min.CompareAndSwap(m, ms) {
			break
		}
	}
	for {
		m := l.max.Load()
		if m >= ms || l.max.CompareAndSwap(m, ms) {
			break
		}
	}
	i := 0
	for v := ms; v > 0 && i < lagBuckets-1; v >>= 1 {
		i++
	}
	l.buckets[i].Add(1)
}

// quantile returns the upper bound (ms) of the bucket holding quantile q, -1 without data.
func (l *lagStats) quantile(q float64) float64 {
	var counts [lagBuckets]int64
	var total int64
	for i := range counts {
		counts[i] = l.buckets[i].Load()
		total += counts[i]
	}
	if total == 0 {
		return -1
	}
	rank := int64(q*float64(total) + 0.5)
	rank = max(rank, 1)
	var seen int64
	for i, c := range counts {
		seen += c
		if seen >= rank {
			if i == 0 {
				return 0
			}
			return float64(int64(1) << i)
		}
	}
	return float64(l.max.Load())
}
