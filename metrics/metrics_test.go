package metrics

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// clock is a settable time source.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newTest(t testing.TB, o Options) (*Stream, *prometheus.Registry, *clock) {
	t.Helper()
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	o.Now = c.now
	reg := prometheus.NewRegistry()
	return NewWithOptions(reg, o), reg, c
}

// sample finds the value of name whose labels include want; ok false if absent.
func sample(t *testing.T, reg prometheus.Gatherer, name string, want map[string]string) (float64, bool) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			for k, v := range want {
				if labels[k] != v {
					continue next
				}
			}
			return value(mf, m), true
		}
	}
	return 0, false
}

func value(mf *dto.MetricFamily, m *dto.Metric) float64 {
	switch mf.GetType() {
	case dto.MetricType_COUNTER:
		return m.GetCounter().GetValue()
	case dto.MetricType_GAUGE:
		return m.GetGauge().GetValue()
	case dto.MetricType_UNTYPED:
		return m.GetUntyped().GetValue()
	}
	return 0
}

func TestDebeziumSeries(t *testing.T) {
	s, reg, clk := newTest(t, Options{Plugin: "mysql", Name: "dbserver1", QueueCapacity: 8192, MaxQueueBytes: 1 << 20})
	s.Connected()
	inv := s.Table("inventory.customers")
	inv.Add('c', 3)
	inv.Add('u', 2)
	s.Table("inventory.orders").Add('d', 1)
	s.Table("inventory.orders").Add('t', 1)
	s.Table("inventory.orders").Add('r', 5) // snapshot reads are not streaming events
	s.Filtered("inventory.other")
	s.Committed(1_700_000_000)
	s.Committed(1_700_000_000)
	s.EventsSent(7, "mysql-bin.000003", 1547, "", (clk.t.UnixMilli()-2500)*1000, false)
	s.EventsAcked(3)
	s.Disconnected(io.EOF)
	clk.t = clk.t.Add(1500 * time.Millisecond)
	s.Snapshot().Started([]string{"inventory.customers", "inventory.orders"})
	s.Snapshot().RowsScanned("inventory.customers", 10_000)
	s.Snapshot().TableCompleted("inventory.customers")
	s.SchemaHistory().RecoveryStarted()
	s.SchemaHistory().ChangeRecovered()
	s.SchemaHistory().ChangeApplied()
	s.SchemaHistory().DDLSkipped()

	streaming := map[string]string{"plugin": "mysql", "name": "dbserver1", "context": "streaming"}
	snapshot := map[string]string{"plugin": "mysql", "name": "dbserver1", "context": "snapshot"}
	history := map[string]string{"plugin": "mysql", "name": "dbserver1", "context": "schema-history"}
	with := func(base map[string]string, k, v string) map[string]string {
		m := map[string]string{k: v}
		for a, b := range base {
			m[a] = b
		}
		return m
	}
	tests := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"debezium_metrics_Connected", streaming, 0},
		{"debezium_metrics_NumberOfDisconnects", streaming, 1},
		{"debezium_metrics_TotalNumberOfEventsSeen", streaming, 7},
		{"debezium_metrics_TotalNumberOfCreateEventsSeen", streaming, 3},
		{"debezium_metrics_TotalNumberOfUpdateEventsSeen", streaming, 2},
		{"debezium_metrics_TotalNumberOfDeleteEventsSeen", streaming, 1},
		{"debezium_metrics_NumberOfEventsFiltered", streaming, 1},
		{"debezium_metrics_NumberOfCommittedTransactions", streaming, 2},
		{"debezium_metrics_BinlogPosition", streaming, 1547},
		{"debezium_metrics_IsGtidModeEnabled", streaming, 0},
		{"debezium_metrics_MilliSecondsBehindSource", streaming, 2500},
		{"debezium_metrics_MilliSecondsBehindSourceMaxValue", streaming, 2500},
		{"debezium_metrics_MilliSecondsSinceLastEvent", streaming, 1500},
		{"debezium_metrics_SecondsBehindMaster", streaming, 2.5},
		{"debezium_metrics_SecondsSinceLastEvent", streaming, 1.5},
		{"debezium_metrics_QueueTotalCapacity", streaming, 8192},
		{"debezium_metrics_QueueRemainingCapacity", streaming, 8192 - 4},
		{"debezium_metrics_MaxQueueSizeInBytes", streaming, 1 << 20},
		{"debezium_metrics_NumberOfUnchangedEventsSkipped", streaming, -1},
		{"debezium_metrics_NumberOfCreateEventsSeen", with(streaming, "table", "inventory.customers"), 3},
		{"debezium_metrics_NumberOfTruncateEventsSeen", with(streaming, "table", "inventory.orders"), 1},
		{"debezium_metrics_SnapshotRunning", snapshot, 1},
		{"debezium_metrics_TotalTableCount", snapshot, 2},
		{"debezium_metrics_RemainingTableCount", snapshot, 1},
		{"debezium_metrics_TotalNumberOfEventsSeen", snapshot, 5},
		{"debezium_metrics_RowsScanned", with(snapshot, "table", "inventory.customers"), 10_000},
		{"debezium_metrics_RowsScanned", with(snapshot, "table", "inventory.orders"), 0},
		{"debezium_metrics_ChangesRecovered", history, 1},
		{"debezium_metrics_ChangesApplied", history, 1},
		{"debezium_metrics_RecoveryStartTime", history, float64(clk.t.Unix())},
		{"rivulet_events_total", map[string]string{"table": "inventory.customers", "op": "c"}, 3},
		{"rivulet_events_total", map[string]string{"table": "inventory.orders", "op": "r"}, 5},
		{"rivulet_queue_events", nil, 4},
		{"rivulet_binlog_lag_seconds", nil, 2.5},
		{"rivulet_ddl_skipped_total", nil, 1},
		{"rivulet_schema_history_status", map[string]string{"status": "RECOVERING"}, 1},
		{"rivulet_schema_history_status", map[string]string{"status": "RUNNING"}, 0},
		{"rivulet_binlog_lag_bytes", nil, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/"+tt.labels["context"]+tt.labels["table"]+tt.labels["status"], func(t *testing.T) {
			got, ok := sample(t, reg, tt.name, tt.labels)
			if !ok {
				t.Fatalf("no sample %s%v", tt.name, tt.labels)
			}
			if got != tt.want {
				t.Errorf("%s%v = %v, want %v", tt.name, tt.labels, got, tt.want)
			}
		})
	}
	if _, ok := sample(t, reg, "rivulet_events_total", map[string]string{"table": "inventory.customers", "op": "d"}); ok {
		t.Error("rivulet_events_total has a zero series for an operation never seen")
	}
}

// TestHelpAndLint checks that every family has help text and that the
// registry gathers without inconsistencies (duplicate or clashing series).
func TestHelpAndLint(t *testing.T) {
	s, reg, _ := newTest(t, Options{Name: "x"})
	s.Table("a.b").Add('c', 1)
	s.Snapshot().Started([]string{"a.b"})
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if len(mfs) < 80 {
		t.Errorf("only %d families", len(mfs))
	}
	for _, mf := range mfs {
		if strings.TrimSpace(mf.GetHelp()) == "" {
			t.Errorf("%s has no help", mf.GetName())
		}
	}
}

func TestLagStats(t *testing.T) {
	var l lagStats
	l.init()
	if got := l.quantile(0.5); got != -1 {
		t.Errorf("empty quantile = %v, want -1", got)
	}
	for _, ms := range []int64{0, 3, 5, 100, 100, 100, 100, 100, 100, 5000} {
		l.observe(ms)
	}
	tests := []struct {
		q    float64
		want float64
	}{{0.05, 0}, {0.5, 128}, {0.99, 8192}}
	for _, tt := range tests {
		if got := l.quantile(tt.q); got != tt.want {
			t.Errorf("quantile(%v) = %v, want %v", tt.q, got, tt.want)
		}
	}
	if l.min.Load() != 0 || l.max.Load() != 5000 {
		t.Errorf("min, max = %d, %d", l.min.Load(), l.max.Load())
	}
}

func TestReadiness(t *testing.T) {
	var logs bytes.Buffer
	s, _, _ := newTest(t, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	steps := []struct {
		name string
		do   func()
		want bool
	}{
		{"start", func() {}, false},
		{"binlog up, kafka unknown", s.Connected, false},
		{"kafka up", func() { s.KafkaReachable(true) }, true},
		{"kafka again", func() { s.KafkaReachable(true) }, true},
		{"binlog down", func() { s.Disconnected(io.EOF) }, false},
		{"db unreachable", func() { s.DatabaseReachable(false) }, false},
		{"snapshot without db", func() { s.Snapshot().Started(nil) }, false},
		{"db reachable", func() { s.DatabaseReachable(true) }, true},
		{"snapshot done", s.Snapshot().Completed, false},
		{"binlog up", s.Connected, true},
		{"kafka down", func() { s.KafkaReachable(false) }, false},
	}
	for _, st := range steps {
		st.do()
		if got := s.Ready(); got != st.want {
			t.Errorf("after %s: Ready() = %v, want %v", st.name, got, st.want)
		}
	}
	// One line per state change: readiness flipped 6 times (ready, not
	// ready, ...), Kafka and database reachability 4 times; repeated
	// reports of the same state log nothing.
	if n := strings.Count(logs.String(), "\n"); n != 10 {
		t.Errorf("%d log lines, want 10:\n%s", n, logs.String())
	}
	if n := strings.Count(logs.String(), "ready state="); n != 3 {
		t.Errorf("%d ready lines, want 3:\n%s", n, logs.String())
	}
}

func TestReadPosition(t *testing.T) {
	s, _, _ := newTest(t, Options{})
	if _, _, ok := s.ReadPosition(); ok {
		t.Fatal("position before any")
	}
	s.OffsetCommitted("bin.000002", 400)
	s.EventsSent(1, "bin.000002", 300, "", 0, false)
	if f, p, _ := s.ReadPosition(); f != "bin.000002" || p != 400 {
		t.Errorf("got %s:%d, want the later commit bin.000002:400", f, p)
	}
	s.EventsSent(1, "bin.000003", 4, "", 0, false)
	if f, p, _ := s.ReadPosition(); f != "bin.000003" || p != 4 {
		t.Errorf("got %s:%d, want the event in the next file", f, p)
	}
}

func TestLargeTransactions(t *testing.T) {
	s, _, _ := newTest(t, Options{})
	for _, cont := range []bool{false, true, true, false, false, true, false} {
		s.EventsSent(1, "f", 1, "", 0, cont)
	}
	if n := s.largeTx.Load(); n != 2 {
		t.Errorf("large transactions = %d, want 2", n)
	}
}

func TestServer(t *testing.T) {
	s, reg, _ := newTest(t, Options{NoKafka: true})
	srv, err := Listen("127.0.0.1:0", reg, s.Ready)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + srv.Addr() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get("/healthz"); code != 200 {
		t.Errorf("/healthz = %d", code)
	}
	if code, _ := get("/readyz"); code != 503 {
		t.Errorf("/readyz before connect = %d, want 503", code)
	}
	s.Connected()
	if code, _ := get("/readyz"); code != 200 {
		t.Errorf("/readyz connected = %d, want 200", code)
	}
	if code, body := get("/metrics"); code != 200 || !strings.Contains(body, `debezium_metrics_Connected{context="streaming",name="",plugin="mysql"} 1`) {
		t.Errorf("/metrics = %d:\n%.2000s", code, body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Error(err)
	}
}

// BenchmarkScrape measures one /metrics response with 50 tables.
func BenchmarkScrape(b *testing.B) {
	s, reg, _ := newTest(b, Options{Name: "x"})
	for i := range 50 {
		s.Table("db.t"+strings.Repeat("x", i)).Add('c', 1)
	}
	srv, err := Listen("127.0.0.1:0", reg, s.Ready)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	b.ReportAllocs()
	for b.Loop() {
		resp, err := http.Get("http://" + srv.Addr() + "/metrics")
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	cancel()
	<-done
}

// BenchmarkTableAdd is the hot-path cost: one add per run of events.
func BenchmarkTableAdd(b *testing.B) {
	s, _, _ := newTest(b, Options{})
	c := s.Table("db.t")
	for b.Loop() {
		c.Add('u', 100)
	}
}
