package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rivulet-cdc/rivulet/internal/testenv"
)

// promBin is Debian's Prometheus server (package prometheus).
const promBin = "/usr/bin/prometheus"

// promServer is a real Prometheus scraping one Rivulet every 500ms, with
// deploy/prometheus/alerts.yml loaded.
type promServer struct {
	t    *testing.T
	base string
}

func startPrometheus(t *testing.T, target string) *promServer {
	t.Helper()
	if _, err := os.Stat(promBin); err != nil {
		t.Skipf("%s not installed (apt-get install prometheus)", promBin)
	}
	dir := t.TempDir()
	rules, err := filepath.Abs("../../deploy/prometheus/alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`global:
  scrape_interval: 500ms
  evaluation_interval: 500ms
rule_files: [%q]
scrape_configs:
  - job_name: rivulet
    static_configs:
      - targets: [%q]
`, rules, target)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
	var log testenv.LogBuffer
	cmd := exec.Command(promBin, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+addr,
		"--log.level=warn")
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("prometheus log:\n%s", log.String())
		}
	})
	p := &promServer{t: t, base: "http://" + addr}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(p.base + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		select {
		case <-exited:
			t.Fatalf("prometheus exited:\n%s", log.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus not ready after 30s:\n%s", log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type promSample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

func (s promSample) float() float64 {
	v, _ := strconv.ParseFloat(fmt.Sprint(s.Value[1]), 64)
	return v
}

// query runs an instant query through the HTTP API.
func (p *promServer) query(q string) []promSample {
	p.t.Helper()
	resp, err := http.Get(p.base + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []promSample `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		p.t.Fatal(err)
	}
	if r.Status != "success" {
		p.t.Fatalf("query %s: %s", q, r.Error)
	}
	return r.Data.Result
}

// waitFor polls q until ok accepts its result (scrapes are every 500ms) or 30s pass.
func (p *promServer) waitFor(q string, ok func([]promSample) bool) []promSample {
	p.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		res := p.query(q)
		if ok(res) {
			return res
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("query %s: still %v after 30s", q, res)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// waitValue waits until q returns exactly one sample equal to want.
func (p *promServer) waitValue(q string, want float64) promSample {
	p.t.Helper()
	return p.waitFor(q, func(r []promSample) bool { return len(r) == 1 && r[0].float() == want })[0]
}

// TestRun_PrometheusScrapes runs Debian's real Prometheus against a running
// Rivulet: the key series exist with the Debezium JMX-exporter labels, the
// counters move with the rows changed, and every alert rule of
// deploy/prometheus/alerts.yml evaluates without error on the real series.
func TestRun_PrometheusScrapes(t *testing.T) {
	e := newE2E(t)
	e.srv.Exec(t, e.db, `CREATE TABLE items (id INT PRIMARY KEY, v INT)`, `CREATE TABLE other (id INT PRIMARY KEY)`)
	in := e.start(t, e.config(t, map[string]string{"table.include.list": e.db + `\.items`}))
	p := startPrometheus(t, in.metrics)

	table := e.db + ".items"
	dz := func(attr, context, extra string) string {
		return fmt.Sprintf(`debezium_metrics_%s{plugin="mariadb",name=%q,context=%q,job="rivulet"%s}`, attr, e.prefix, context, extra)
	}
	p.waitValue(`up{job="rivulet"}`, 1)
	p.waitValue(dz("Connected", "streaming", ""), 1)
	p.waitValue(`rivulet_ready`, 1)
	p.waitValue(`rivulet_kafka_reachable`, 1)
	p.waitValue(`rivulet_database_reachable`, 1)

	e.srv.Exec(t, e.db,
		`INSERT INTO items VALUES (1, 0), (2, 0), (3, 0)`,
		`INSERT INTO items VALUES (4, 0), (5, 0)`,
		`INSERT INTO other VALUES (1)`,
	)
	p.waitValue(fmt.Sprintf(`rivulet_events_total{table=%q,op="c"}`, table), 5)
	p.waitValue(dz("TotalNumberOfEventsSeen", "streaming", ""), 5)
	p.waitValue(dz("TotalNumberOfCreateEventsSeen", "streaming", ""), 5)
	p.waitValue(dz("NumberOfCreateEventsSeen", "streaming", fmt.Sprintf(`,table=%q`, table)), 5)
	p.waitFor(dz("NumberOfEventsFiltered", "streaming", ""), func(r []promSample) bool { return len(r) == 1 && r[0].float() >= 1 })
	p.waitFor(dz("NumberOfCommittedTransactions", "streaming", ""), func(r []promSample) bool { return len(r) == 1 && r[0].float() >= 3 })

	// Rows change: the counters move.
	e.srv.Exec(t, e.db, `UPDATE items SET v = v + 1`, `DELETE FROM items WHERE id = 5`)
	p.waitValue(fmt.Sprintf(`rivulet_events_total{table=%q,op="u"}`, table), 5)
	p.waitValue(fmt.Sprintf(`rivulet_events_total{table=%q,op="d"}`, table), 1)
	p.waitValue(dz("TotalNumberOfEventsSeen", "streaming", ""), 11)
	p.waitValue(dz("TotalNumberOfUpdateEventsSeen", "streaming", ""), 5)
	p.waitValue(dz("TotalNumberOfDeleteEventsSeen", "streaming", ""), 1)
	// 11 events, the delete's tombstone, and the 8 schema-change records of
	// the start's schema read (SET, DROP TABLE ×2, DROP/CREATE DATABASE,
	// USE, CREATE TABLE ×2: Debezium's snapshot names every table of the
	// captured database, captured or not).
	p.waitValue(`sum(rivulet_kafka_produce_records_total)`, 20)
	p.waitFor(`rivulet_binlog_lag_bytes`, func(r []promSample) bool { return len(r) == 1 && r[0].float() >= 0 })
	p.waitValue(`rivulet_queue_events`, 0)

	// Series that must exist, with their labels (values vary).
	for _, q := range []string{
		dz("MilliSecondsBehindSource", "streaming", ""),
		dz("MilliSecondsSinceLastEvent", "streaming", ""),
		dz("BinlogPosition", "streaming", ""),
		dz("QueueTotalCapacity", "streaming", ""),
		dz("QueueRemainingCapacity", "streaming", ""),
		dz("NumberOfDisconnects", "streaming", ""),
		dz("SecondsBehindMaster", "streaming", ""),
		dz("SecondsSinceLastEvent", "streaming", ""),
		dz("SnapshotRunning", "snapshot", ""),
		dz("SnapshotCompleted", "snapshot", ""),
		dz("TotalTableCount", "snapshot", ""),
		dz("ChangesApplied", "schema-history", ""),
		dz("MilliSecondsSinceLastAppliedChange", "schema-history", ""),
		`rivulet_binlog_lag_seconds`,
		`rivulet_offset_commit_age_seconds`,
		`rivulet_queue_capacity_events`,
		`sum(rivulet_kafka_produce_uncompressed_bytes_total)`,
		`sum(rivulet_kafka_produce_batches_total)`,
		`go_goroutines{job="rivulet"}`,
		`process_resident_memory_bytes{job="rivulet"}`,
	} {
		if r := p.query(q); len(r) != 1 {
			t.Errorf("%s: %d series, want 1: %v", q, len(r), r)
		}
	}
	if r := p.query(`count by (__name__) ({__name__=~"debezium_metrics_.+", context="streaming", name!="` + e.prefix + `"})`); len(r) != 0 {
		t.Errorf("debezium series with another name label: %v", r)
	}
	p.waitFor(`rivulet_offset_commit_age_seconds`, func(r []promSample) bool { return len(r) == 1 && r[0].float() >= 0 && r[0].float() < 30 })

	// Every alert rule evaluated on these series without error, and none fires.
	var rules struct {
		Data struct {
			Groups []struct {
				Rules []struct {
					Name      string `json:"name"`
					Health    string `json:"health"`
					LastError string `json:"lastError"`
					State     string `json:"state"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"data"`
	}
	resp, err := http.Get(p.base + "/api/v1/rules")
	if err != nil {
		t.Fatal(err)
	}
	err = json.NewDecoder(resp.Body).Decode(&rules)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, g := range rules.Data.Groups {
		for _, r := range g.Rules {
			n++
			if r.Health != "ok" {
				t.Errorf("rule %s: health %q %s", r.Name, r.Health, r.LastError)
			}
			if r.State != "inactive" {
				t.Errorf("rule %s: state %q on a healthy pipeline", r.Name, r.State)
			}
		}
	}
	if n < 8 {
		t.Errorf("%d alert rules loaded, want the 10 of alerts.yml", n)
	}
	// Every query of the Grafana dashboard parses and runs on these series.
	b, err := os.ReadFile("../../deploy/grafana/dashboards/rivulet.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatal(err)
	}
	vars := strings.NewReplacer("$job", ".*", "$instance", ".*", "$name", ".*", "$__rate_interval", "1m")
	for _, pn := range dash.Panels {
		for _, tg := range pn.Targets {
			p.query(vars.Replace(tg.Expr)) // fails the test on a query error
		}
	}
	if r := p.query(vars.Replace(`sum(rate(rivulet_events_total{job=~"$job", instance=~"$instance"}[$__rate_interval]))`)); len(r) != 1 {
		t.Errorf("dashboard events rate: %v", r)
	}

	if !strings.Contains(in.log.String(), "msg=ready") {
		t.Errorf("no readiness log line:\n%s", in.log.String())
	}
	in.stop()
}

// TestRun_SnapshotMetrics checks the snapshot context against a real
// initial snapshot: rows scanned and read events equal the rows, the tables
// are counted down, and the snapshot ends completed.
func TestRun_SnapshotMetrics(t *testing.T) {
	e := newE2E(t)
	e.srv.Exec(t, e.db, `CREATE TABLE s (id INT PRIMARY KEY)`,
		`INSERT INTO s VALUES (1), (2), (3), (4), (5), (6), (7)`)
	in := e.start(t, e.config(t, map[string]string{"snapshot.mode": "initial"}))
	dz := func(attr, table string) string {
		s := fmt.Sprintf(`debezium_metrics_%s{context="snapshot",name=%q,plugin="mariadb"`, attr, e.prefix)
		if table != "" {
			s += fmt.Sprintf(`,table=%q`, table)
		}
		return s + "}"
	}
	deadline := time.Now().Add(30 * time.Second)
	for metricValue(t, in.metrics, dz("SnapshotCompleted", "")) != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("snapshot not completed after 30s\n%s", in.log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, c := range []struct {
		series string
		want   float64
	}{
		{dz("SnapshotRunning", ""), 0},
		{dz("SnapshotAborted", ""), 0},
		{dz("TotalTableCount", ""), 1},
		{dz("RemainingTableCount", ""), 0},
		{dz("RowsScanned", e.db+".s"), 7},
		{dz("TotalNumberOfEventsSeen", ""), 7},
		{fmt.Sprintf(`rivulet_events_total{op="r",table=%q}`, e.db+".s"), 7},
	} {
		if got := metricValue(t, in.metrics, c.series); got != c.want {
			t.Errorf("%s = %v, want %v", c.series, got, c.want)
		}
	}
	in.stop()
}
