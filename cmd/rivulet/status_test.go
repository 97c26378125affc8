package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/rivulet-cdc/rivulet/metrics"
)

// TestStatus_Instance snapshots a table in chunks with progress lines on
// every chunk, then asks `rivulet status` (plain lines, not a terminal)
// and `rivulet status --json` of the running instance; once it stopped,
// status says so with exit 3 and the stored offset.
func TestStatus_Instance(t *testing.T) {
	e := newE2E(t)
	const rows = 3000
	seedTable(t, e, rows)
	e.srv.Exec(t, e.db, "ANALYZE TABLE items") // TABLE_ROWS is a statistic
	cfg := e.config(t, map[string]string{
		"key.converter.schemas.enable": "false", "value.converter.schemas.enable": "false",
		"snapshot.mode": "initial", "snapshot.fetch.size": "500", "rivulet.snapshot.progress.interval.ms": "1",
	})
	in := e.start(t, cfg)
	waitLog(t, in, "initial snapshot complete", 1)
	e.srv.Exec(t, e.db, "ALTER TABLE items ADD COLUMN extra INT NULL")
	e.srv.Exec(t, e.db, "INSERT INTO items (id, n) VALUES (-5, 1)")
	lastByID(t, e.brokers, rows+1, e.prefix+"."+e.db+".items")

	logText := in.log.String()
	if n := strings.Count(logText, `msg="snapshot progress"`); n < 3 {
		t.Errorf("%d progress lines, want one per chunk after the first (interval 1 ms):\n%s", n, logText)
	}
	if !strings.Contains(logText, "rows_estimated=") || !strings.Contains(logText, "eta=") {
		t.Errorf("progress lines lack the estimate or ETA:\n%s", logText)
	}
	table := e.db + ".items"
	// Even ids 0-5998 fill half of their range, the edge of the key-range
	// split (snapshot.keyRange): 6 chunks of 1000 ids when the server's
	// estimate is 3000 rows, else 7 bound by the key index (the last one
	// empty). Status must report the same count.
	chunks := ""
	for _, n := range []string{"6", "7"} {
		if strings.Contains(logText, fmt.Sprintf(`msg="table snapshot complete" component=snapshot table=%s rows=%d chunks=%s`, table, rows, n)) {
			chunks = n
		}
	}
	if chunks == "" {
		t.Errorf("no totals line for %s with %d rows in 6 or 7 chunks:\n%s", table, rows, logText)
	}

	out, code := runBinary(t, "status", "--config", cfg)
	if code != 0 {
		t.Fatalf("status exit %d:\n%s", code, out)
	}
	for _, want := range []string{
		"phase:     streaming (ready: true)",
		"snapshot:  completed in",
		fmt.Sprintf("table:     %s 100.0%% rows=%d/~", table, rows),
		"chunks=" + chunks + " done",
		"binlog:    ", "lag:       ", "queue:     0 of ",
		"offsets:   stored ", "ALTER TABLE items ADD COLUMN extra INT NULL",
		"last error: none since start",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("status output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "[") {
		t.Errorf("a progress bar was drawn though stdout is not a terminal:\n%s", out)
	}
	out, code = runBinary(t, "status", "--config", cfg, "--json")
	var st metrics.Status
	if err := json.Unmarshal([]byte(out), &st); code != 0 || err != nil {
		t.Fatalf("status --json exit %d, %v:\n%s", code, err, out)
	}
	if st.Phase != "streaming" || len(st.Snapshot.Tables) != 1 || st.Snapshot.Tables[0].Rows != rows ||
		st.Binlog.File == "" || st.Offsets.Stored.File == "" || st.Offsets.Acknowledged.File == "" {
		t.Errorf("status --json = %+v", st)
	}
	in.stop()
	out, code = runBinary(t, "status", "--config", cfg)
	if code != exitNotRunning || !strings.Contains(out, "phase:    stopped") || !strings.Contains(out, "stored:   ") {
		t.Errorf("status of a stopped connector: exit %d, want %d:\n%s", code, exitNotRunning, out)
	}
}

// TestPrintStatus_Bar draws a bar per table on a terminal: done, half way
// with an ETA, and without an estimate.
func TestPrintStatus_Bar(t *testing.T) {
	st := metrics.Status{Connector: "c", Plugin: "mysql", Phase: "snapshot", Ready: true,
		Snapshot: metrics.SnapshotStatus{Running: true, DurationSeconds: 65, TotalTables: 3, RemainingTables: 2, Tables: []metrics.TableStatus{
			{Table: "db.a", Rows: 10, Estimated: 9, Chunks: 1, Done: true, RowsPerSecond: 10},
			{Table: "db.bb", Rows: 500, Estimated: 1000, Chunks: 5, RowsPerSecond: 100, ETASeconds: 5},
			{Table: "db.c", Rows: 7, Estimated: -1, Chunks: 1, RowsPerSecond: 7, ETASeconds: -1},
		}},
		Binlog: metrics.BinlogStatus{LagSeconds: -1, LagBytes: -1}, Queue: metrics.QueueStatus{Events: 10, Capacity: 40}}
	var b strings.Builder
	printStatus(&b, st, true)
	for _, want := range []string{
		"snapshot:  running 1m5s, 2 of 3 tables left",
		"  db.a  [##############################] 100.0% rows=10/~9 rate=10/s chunks=1 done",
		"  db.bb [###############...............]  50.0% rows=500/~1000 rate=100/s chunks=5 eta=5s",
		"  db.c  [..............................] rows=7 rate=7/s chunks=1 eta=unknown",
		"queue:     10 of 40 events (25%)",
		"offsets:   stored none, acknowledged none",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, b.String())
		}
	}
}
