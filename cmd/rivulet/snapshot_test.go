package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rivulet-cdc/rivulet/internal/testenv"
)

// TestSnapshot_InitialChunkedMarkers snapshots three tables in several
// chunks with no concurrent writes: every row arrives once as op "r" with
// Debezium's source.snapshot markers, the values match what streaming
// produces for the same row, and streaming continues afterwards.
func TestSnapshot_InitialChunkedMarkers(t *testing.T) {
	e := newE2E(t)
	const types = `id INT PRIMARY KEY, name VARCHAR(64) NOT NULL, latin VARCHAR(20) CHARACTER SET latin1,
		balance DECIMAL(10,2), born DATE, seen DATETIME(3), changed TIMESTAMP(6) NULL,
		active BIT(1), flags BIT(12), tags SET('a','b','c'), kind ENUM('x','y'), doc JSON,
		raw VARBINARY(16), fixed BINARY(4), big BIGINT UNSIGNED, f FLOAT, d DOUBLE, y YEAR, t TIME(2),
		tiny TINYINT UNSIGNED, zero DATE NOT NULL, txt TEXT`
	const row = `'Anne', 'Gödel', -1234.50, '2020-02-29', '2026-11-21 10:11:12.345',
		'2026-11-21 10:11:12.123456', b'1', b'101000000001', 'a,c', 'y', '{"k": [1, 2, {"x": null}]}',
		X'00FF10', X'01', 18446744073709551615, 1.5, 2.25, 2024, '-838:59:59.00', 255, '0000-00-00', 'ünïcode ✓'`
	e.srv.Exec(t, e.db,
		`SET SESSION sql_mode = ''`,
		`CREATE TABLE a_types (`+types+`)`,
		`INSERT INTO a_types VALUES (1, `+row+`)`,
		`INSERT INTO a_types (id, name, zero) VALUES (2, 'nulls', '2000-01-01')`,
		`CREATE TABLE b_multi (k1 INT, k2 VARCHAR(10), v INT, PRIMARY KEY (k1, k2))`,
		`CREATE TABLE c_empty (id INT PRIMARY KEY)`,
		`CREATE TABLE d_nokey (a INT, b VARCHAR(10))`,
		`INSERT INTO d_nokey VALUES (1, 'x'), (1, 'x'), (2, NULL)`,
	)
	var ins []string
	for i := range 11 {
		ins = append(ins, fmt.Sprintf("INSERT INTO b_multi VALUES (%d, 'k%d', %d), (%d, 'j%d', %d)", i%4, i, i, i%4, i, -i))
	}
	e.srv.Exec(t, e.db, ins...)
	before := lockCounters(t, e.srv)
	cfg := e.config(t, map[string]string{
		"key.converter.schemas.enable": "false", "value.converter.schemas.enable": "false",
		"snapshot.mode": "initial", "snapshot.fetch.size": "3",
	})
	in := e.start(t, cfg)
	topic := func(tbl string) string { return e.prefix + "." + e.db + "." + tbl }

	recs := consume(t, e.brokers, 2+22+3, topic("a_types"), topic("b_multi"), topic("c_empty"), topic("d_nokey"))
	var marks []string
	byTopic := map[string][]record{}
	for _, r := range recs {
		if r.Value["op"] != "r" {
			t.Fatalf("op = %v, want r: %s", r.Value["op"], r.RawVal)
		}
		src := r.Value["source"].(map[string]any)
		byTopic[r.Topic] = append(byTopic[r.Topic], r)
		marks = append(marks, strings.TrimPrefix(r.Topic, e.prefix+"."+e.db+".")+":"+src["snapshot"].(string))
	}
	want := []string{"a_types:first", "a_types:last_in_data_collection", "b_multi:first_in_data_collection"}
	for range 20 {
		want = append(want, "b_multi:true")
	}
	want = append(want, "b_multi:last_in_data_collection", "d_nokey:first_in_data_collection", "d_nokey:true", "d_nokey:last")
	// Records of different topics interleave in a consumer; compare per topic order.
	slices.Sort(marks)
	slices.Sort(want)
	if !slices.Equal(marks, want) {
		t.Errorf("snapshot markers =\n%v\nwant\n%v", marks, want)
	}
	// Keys in b_multi come in key order within the topic.
	var keys []string
	for _, r := range byTopic[topic("b_multi")] {
		keys = append(keys, fmt.Sprintf("%v/%v", r.Key["k1"], r.Key["k2"]))
	}
	if len(keys) != 22 || !slices.IsSortedFunc(keys, func(a, b string) int { return strings.Compare(a, b) }) {
		t.Errorf("b_multi keys = %v", keys)
	}

	// The same row streamed renders the same values.
	e.srv.Exec(t, e.db, `SET SESSION sql_mode = ''`, `INSERT INTO a_types VALUES (3, `+row+`)`)
	all := consume(t, e.brokers, 3, topic("a_types"))
	snap, streamed := all[0].Value["after"].(map[string]any), all[2].Value["after"].(map[string]any)
	for k, v := range streamed {
		if k == "id" {
			continue
		}
		if fmt.Sprint(snap[k]) != fmt.Sprint(v) {
			t.Errorf("a_types.%s: snapshot %v (%T), streamed %v (%T)", k, snap[k], snap[k], v, v)
		}
	}
	src := all[0].Value["source"].(map[string]any)
	if src["file"] == "" || src["pos"] == 0.0 {
		t.Errorf("snapshot source without a position: %v", src)
	}
	// Snapshot metrics (Debezium's snapshot context).
	resp, err := http.Get("http://" + in.metrics + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`debezium_metrics_SnapshotCompleted{context="snapshot"`, `debezium_metrics_TotalTableCount{context="snapshot"`,
		`debezium_metrics_RowsScanned{context="snapshot"`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	for l := range strings.Lines(string(body)) {
		if strings.HasPrefix(l, "debezium_metrics_SnapshotCompleted{") && !strings.HasSuffix(strings.TrimSpace(l), " 1") ||
			strings.HasPrefix(l, "debezium_metrics_RemainingTableCount{") && !strings.HasSuffix(strings.TrimSpace(l), " 0") ||
			strings.HasPrefix(l, "debezium_metrics_RowsScanned{") && strings.Contains(l, `table="`+e.db+`.b_multi"`) && !strings.HasSuffix(strings.TrimSpace(l), " 22") {
			t.Errorf("metric %s", strings.TrimSpace(l))
		}
	}
	in.stop()
	off, err := os.ReadFile(filepath.Join(e.dir, "offsets.json"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(off), "INITIAL") || strings.Contains(string(off), "rivulet_snapshot") {
		t.Errorf("offset after a completed snapshot still says snapshot: %s", off)
	}
	if after := lockCounters(t, e.srv); !slices.Equal(before, after) {
		t.Errorf("lock statement counters moved during the snapshot: %v -> %v", before, after)
	}
}

// lockCounters reads the server's counters of statements that take table
// or global locks: LOCK TABLES, FLUSH (… WITH READ LOCK) and BACKUP STAGE.
func lockCounters(t *testing.T, srv *testenv.Server) []string {
	rows := srv.Query(t, "", `SHOW GLOBAL STATUS WHERE Variable_name IN ('Com_lock_tables', 'Com_flush', 'Com_backup', 'Com_backup_lock')`)
	var out []string
	for _, r := range rows {
		out = append(out, r[0]+"="+r[1])
	}
	return out
}

// TestSnapshot_ConsistentUnderWrites snapshots a table while a writer
// inserts, updates (including primary keys) and deletes, with one and with
// four reader threads: after the writer stops, the state rebuilt from the
// topic (last event per key; deletes and tombstones remove) equals the table.
func TestSnapshot_ConsistentUnderWrites(t *testing.T) {
	for _, threads := range []int{1, 4} {
		t.Run("threads="+strconv.Itoa(threads), func(t *testing.T) {
			e := newE2E(t)
			rows := consistencyRows()
			seedTable(t, e, rows)
			cfg := e.config(t, map[string]string{
				"key.converter.schemas.enable": "false", "value.converter.schemas.enable": "false",
				"snapshot.mode": "initial", "snapshot.fetch.size": "500", "snapshot.max.threads": strconv.Itoa(threads),
			})
			stop := startWriter(t, e, rows)
			in := e.start(t, cfg)
			checkTopicEqualsTable(t, e, stop)
			in.stop()
			// The writer raced the chunks: some rows were superseded by the
			// stream, which is the reconciliation this test is about.
			line := ""
			for l := range strings.Lines(in.log.String()) {
				if strings.Contains(l, "initial snapshot complete") {
					line = l
				}
			}
			t.Log(strings.TrimSpace(line))
			if line == "" || strings.Contains(line, "rows_superseded_by_stream=0 ") {
				t.Errorf("no snapshot row was superseded by a streamed change: the writer did not overlap the snapshot")
			}
		})
	}
}

// TestSnapshot_ResumesAfterKill kills rivulet with SIGKILL in the middle
// of a snapshot taken under writes: the restart continues from the last
// finished chunk (not from the start) and the topic still ends equal to the
// table.
func TestSnapshot_ResumesAfterKill(t *testing.T) {
	e := newE2E(t)
	rows := consistencyRows()
	seedTable(t, e, rows)
	cfg := e.config(t, map[string]string{
		"key.converter.schemas.enable": "false", "value.converter.schemas.enable": "false",
		"snapshot.mode": "initial", "snapshot.fetch.size": "200", "snapshot.max.threads": "2",
		"offset.flush.interval.ms": "50",
	})
	stop := startWriter(t, e, rows)
	in := e.start(t, cfg)
	waitSnapshotting(t, e)
	in.kill()
	in = e.start(t, cfg)
	checkTopicEqualsTable(t, e, stop)
	in.stop()
	if !strings.Contains(in.log.String(), "initial snapshot resumed") {
		t.Errorf("the restart did not resume the snapshot:\n%s", in.log.String())
	}
}

// consistencyRows is the table size of the consistency tests: 20,000 rows
// (seconds under -race), or RIVULET_SNAPSHOT_ROWS (the figure is
// 200,000).
func consistencyRows() int {
	if n, err := strconv.Atoi(os.Getenv("RIVULET_SNAPSHOT_ROWS")); err == nil && n > 0 {
		return n
	}
	return 20000
}

func seedTable(t *testing.T, e *e2eEnv, rows int) {
	e.srv.Exec(t, e.db, `CREATE TABLE items (id INT PRIMARY KEY, n INT NOT NULL, s VARCHAR(40))`)
	const batch = 2000
	for lo := 0; lo < rows; lo += batch {
		var b strings.Builder
		b.WriteString("INSERT INTO items VALUES ")
		for i := lo; i < lo+batch && i < rows; i++ {
			if i > lo {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "(%d, 0, 'row %d')", i*2, i)
		}
		e.srv.Exec(t, e.db, b.String())
	}
}

// startWriter runs random inserts, updates, primary-key updates and deletes
// until the returned stop is called; stop returns the transactions run.
// pace, when given, is the pause after each transaction (a load that a
// race-enabled instance keeps up with).
func startWriter(t *testing.T, e *e2eEnv, rows int, pace ...time.Duration) (stop func() int) {
	var done atomic.Bool
	var n atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c := e.srv.Conn(t, e.db)
		r := rand.New(rand.NewPCG(1, 2))
		next := rows * 2
		for !done.Load() {
			id := r.IntN(rows * 2)
			var q []string
			switch r.IntN(5) {
			case 0:
				q = []string{fmt.Sprintf("INSERT INTO items (id, n, s) VALUES (%d, 1, 'new') ON DUPLICATE KEY UPDATE n = n + 1", next+1)}
				next += 2
			case 1:
				q = []string{fmt.Sprintf("UPDATE items SET id = %d WHERE id = %d", next+1, id)}
				next += 2
			case 2:
				q = []string{fmt.Sprintf("DELETE FROM items WHERE id = %d", id)}
			default:
				// A transaction touching keys far apart (several chunks).
				q = []string{"BEGIN",
					fmt.Sprintf("UPDATE items SET n = n + 1, s = 'u' WHERE id = %d", id),
					fmt.Sprintf("UPDATE items SET n = n + 1 WHERE id = %d", (id+rows)%(rows*2)),
					"COMMIT"}
			}
			for _, s := range q {
				if _, err := c.Execute(s); err != nil {
					t.Errorf("writer: %s: %v", s, err)
					return
				}
			}
			n.Add(1)
			if len(pace) > 0 {
				time.Sleep(pace[0])
			}
		}
	}()
	return func() int {
		done.Store(true)
		wg.Wait()
		return int(n.Load())
	}
}

// waitSnapshotting waits until a snapshot offset with progress is stored.
func waitSnapshotting(t *testing.T, e *e2eEnv) {
	consumeUntil(t, e.brokers, func(r []record) bool {
		b, _ := os.ReadFile(filepath.Join(e.dir, "offsets.json"))
		return strings.Contains(string(b), "rivulet_snapshot")
	}, e.prefix+"."+e.db+".items")
}

// checkTopicEqualsTable waits for the snapshot to complete (the stored
// offset no longer says snapshot), stops the writer, writes a sentinel row,
// reads the topic until it arrives, rebuilds the last state per key and
// compares it with the table.
func checkTopicEqualsTable(t *testing.T, e *e2eEnv, stopWriter func() int) {
	t.Helper()
	deadline := time.Now().Add(120 * time.Second)
	for {
		b, _ := os.ReadFile(filepath.Join(e.dir, "offsets.json"))
		if len(b) > 0 && !strings.Contains(string(b), "INITIAL") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("snapshot not complete after 120s: offsets %s", b)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("writer ran %d transactions", stopWriter())
	e.srv.Exec(t, e.db, "INSERT INTO items (id, n, s) VALUES (-1, -1, 'sentinel')")
	state := map[string]string{}
	var recs []record
	consumeUntil(t, e.brokers, func(r []record) bool {
		for _, rec := range r[len(recs):] {
			id := fmt.Sprint(rec.Key["id"])
			if rec.Value == nil || rec.Value["op"] == "d" {
				delete(state, id)
				continue
			}
			a := rec.Value["after"].(map[string]any)
			state[id] = fmt.Sprintf("%v|%v", a["n"], a["s"])
		}
		recs = r
		_, ok := state["-1"]
		return ok
	}, e.prefix+"."+e.db+".items")
	if _, ok := state["-1"]; !ok {
		t.Fatalf("sentinel not seen after %d records", len(recs))
	}
	table := map[string]string{}
	for _, r := range e.srv.Query(t, e.db, "SELECT id, n, IFNULL(s, '<nil>') FROM items") {
		table[r[0]] = r[1] + "|" + r[2]
	}
	var diffs []string
	for id, v := range table {
		if got, ok := state[id]; !ok {
			diffs = append(diffs, "missing "+id+"="+v)
		} else if got != v {
			diffs = append(diffs, "id "+id+": topic "+got+", table "+v)
		}
	}
	for id, v := range state {
		if _, ok := table[id]; !ok {
			diffs = append(diffs, "extra "+id+"="+v)
		}
	}
	slices.Sort(diffs)
	if len(diffs) > 0 {
		t.Fatalf("topic differs from table in %d keys (%d records): %s", len(diffs), len(recs), strings.Join(diffs[:min(len(diffs), 15)], "; "))
	}
	t.Logf("topic equals table: %d keys from %d records", len(table), len(recs))
}

// TestSnapshot_Modes covers initial_only (snapshot, then exit without
// streaming, and nothing on the next start) and always (a new snapshot on
// every start).
func TestSnapshot_Modes(t *testing.T) {
	e := newE2E(t)
	e.srv.Exec(t, e.db, `CREATE TABLE m (id INT PRIMARY KEY)`, `INSERT INTO m VALUES (1), (2), (3)`)
	t.Run("initial_only", func(t *testing.T) {
		e.prefix = "only"
		cfg := e.config(t, map[string]string{"snapshot.mode": "initial_only"})
		for run := range 2 {
			cmd := exec.Command(rivuletBinary(t), "run", "--config", cfg)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("run %d: %v\n%s", run, err, out)
			}
			if run == 1 && !strings.Contains(string(out), "the snapshot is complete, not streaming") {
				t.Errorf("second run did not skip:\n%s", out)
			}
		}
		recs := consume(t, e.brokers, 3, e.prefix+"."+e.db+".m")
		if len(recs) != 3 {
			t.Errorf("%d records, want 3", len(recs))
		}
	})
	t.Run("always", func(t *testing.T) {
		e.prefix = "always"
		e.dir = t.TempDir()
		cfg := e.config(t, map[string]string{"snapshot.mode": "always"})
		for run := range 2 {
			in := e.start(t, cfg)
			recs := consume(t, e.brokers, 3*(run+1), e.prefix+"."+e.db+".m")
			checkSnapshotDone(t, e)
			in.stop()
			for _, r := range recs {
				if r.Value["payload"].(map[string]any)["op"] != "r" {
					t.Errorf("run %d: op %v, want r", run, r.Value["payload"].(map[string]any)["op"])
				}
			}
		}
	})
}

// TestSnapshot_WhenNeeded snapshots with no offsets, streams from a stored
// position, and snapshots again when the stored binlog file is gone.
func TestSnapshot_WhenNeeded(t *testing.T) {
	e := newE2E(t)
	e.srv.Exec(t, e.db, `CREATE TABLE m (id INT PRIMARY KEY)`, `INSERT INTO m VALUES (1), (2), (3)`)
	cfg := e.config(t, map[string]string{"snapshot.mode": "when_needed", "key.converter.schemas.enable": "false", "value.converter.schemas.enable": "false"})
	topic := e.prefix + "." + e.db + ".m"
	in := e.start(t, cfg)
	consume(t, e.brokers, 3, topic)
	checkSnapshotDone(t, e)
	in.stop()

	// A restart with the binlog still there streams: no second snapshot.
	in = e.start(t, cfg)
	e.srv.Exec(t, e.db, `INSERT INTO m VALUES (4)`)
	consume(t, e.brokers, 4, topic)
	in.stop()

	// The stored file is purged: a new snapshot.
	path := filepath.Join(e.dir, "offsets.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	file := e.srv.Query(t, "", "SHOW MASTER STATUS")[0][0]
	if !strings.Contains(string(b), file) {
		t.Fatalf("offsets %s do not name the current binlog %s", b, file)
	}
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(string(b), file, "gone-bin.000001")), 0o600); err != nil {
		t.Fatal(err)
	}
	in = e.start(t, cfg)
	recs := consume(t, e.brokers, 8, topic)
	in.stop()
	var ops []string
	for _, r := range recs {
		ops = append(ops, r.Value["op"].(string))
	}
	if got := strings.Join(ops, ","); got != "r,r,r,c,r,r,r,r" {
		t.Errorf("ops = %s, want r,r,r,c,r,r,r,r", got)
	}
	if !strings.Contains(in.log.String(), "no longer on the server") {
		t.Errorf("no when_needed message in the log")
	}
}

func checkSnapshotDone(t *testing.T, e *e2eEnv) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		b, _ := os.ReadFile(filepath.Join(e.dir, "offsets.json"))
		if len(b) > 0 && !strings.Contains(string(b), "INITIAL") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("snapshot not complete after 60s: offsets %s", b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestSnapshot_DDLDuringSnapshot drops a column of the table being
// snapshotted while a writer runs: the snapshot continues with the new
// definition (chunks read with the old one are read again) and the topic
// still ends equal to the table.
func TestSnapshot_DDLDuringSnapshot(t *testing.T) {
	e := newE2E(t)
	rows := consistencyRows()
	seedTable(t, e, rows)
	e.srv.Exec(t, e.db, "ALTER TABLE items ADD COLUMN x INT NOT NULL DEFAULT 1")
	cfg := e.config(t, map[string]string{
		"key.converter.schemas.enable": "false", "value.converter.schemas.enable": "false",
		"snapshot.mode": "initial", "snapshot.fetch.size": "100",
	})
	stop := startWriter(t, e, rows)
	in := e.start(t, cfg)
	waitSnapshotting(t, e)
	e.srv.Exec(t, e.db, "ALTER TABLE items DROP COLUMN x")
	checkTopicEqualsTable(t, e, stop)
	in.stop()
	if !strings.Contains(in.log.String(), "with the new definition") && !strings.Contains(in.log.String(), "with its new definition") {
		t.Errorf("the snapshot did not notice the DDL (did it finish before?)")
	}
}
