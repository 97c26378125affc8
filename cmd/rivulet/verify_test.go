package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/rivulet-cdc/rivulet/internal/srtest"
	"github.com/rivulet-cdc/rivulet/internal/testenv"
)

// verifyRun runs `rivulet verify` with args and returns its output and exit code.
func verifyRun(t *testing.T, cfg string, args ...string) (string, int) {
	t.Helper()
	out, code := runBinary(t, append([]string{"verify", "--config", cfg}, args...)...)
	t.Logf("rivulet verify %s: exit %d\n%s", strings.Join(args, " "), code, out)
	return out, code
}

func wantLines(t *testing.T, out string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("verify output lacks %q", w)
		}
	}
}

// produceRaw writes records to topic with a client of its own.
func produceRaw(t *testing.T, brokers []string, recs ...*kgo.Record) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// TestVerify_LiveDamagedRepaired snapshots a table while a writer changes
// it, verifies it during and after the writes (no false difference), then
// damages table and topic in four ways, each found and named: a change that
// never reached the topic (written with sql_log_bin=0: a dropped record), a
// key the topic kept after the row went, a value changed in the topic, and
// a purged gap skipped with `offsets set --skip`. `verify --repair` asks
// the instance for an incremental snapshot of exactly those keys and writes
// a tombstone for the extra one; the next verify is equal.
func TestVerify_LiveDamagedRepaired(t *testing.T) {
	e := newE2E(t)
	const rows = 4000
	seedTable(t, e, rows)
	e.srv.Exec(t, e.db, signalTableDDL)
	cfg := e.config(t, map[string]string{
		"snapshot.mode": "initial", "snapshot.fetch.size": "300",
		"signal.data.collection": e.db + ".debezium_signal",
		"table.include.list":     e.db + `\.items`,
	})
	in := e.start(t, cfg)
	stop := startWriter(t, e, rows, 2*time.Millisecond)
	waitLog(t, in, "initial snapshot complete", 1)
	// While the writer runs: every difference is a change in flight.
	out, code := verifyRun(t, cfg, "--tables", e.db+".items")
	if code != 0 {
		t.Fatalf("verify under concurrent writes: exit %d, want 0 (no false difference)", code)
	}
	wantLines(t, out, "instance: running at", "table "+e.db+".items (topic "+e.prefix+"."+e.db+".items): EQUAL")
	t.Logf("writer ran %d transactions", stop())
	out, code = verifyRun(t, cfg)
	if code != 0 {
		t.Fatalf("verify after the writes: exit %d, want 0", code)
	}
	wantLines(t, out, "summary: 2 table(s), 0 different", "keys missing from the topic:  0")

	// Rows of our own (the writer touched random ids), streamed.
	topic := e.prefix + "." + e.db + ".items"
	e.srv.Exec(t, e.db, "INSERT INTO items VALUES (-10, 0, 'a'), (-12, 0, 'b'), (-14, 0, 'c'), (-16, 0, 'd'), (-20, 0, 'e')")
	var key14, val14 []byte
	consumeUntil(t, e.brokers, func(recs []record) bool {
		for _, r := range recs {
			if r.Key != nil && fmt.Sprint(payload(r.Key)["id"]) == "-14" {
				key14, val14 = r.RawKey, r.RawVal
			}
		}
		return val14 != nil
	}, topic)
	if val14 == nil {
		t.Fatal("the insert of id -14 never reached the topic")
	}
	// Damage. A change the binlog never saw (a record dropped on the way),
	// and a row deleted the same way (its key stays in the topic).
	e.srv.Exec(t, e.db, "SET SESSION sql_log_bin = 0",
		"UPDATE items SET n = 4242 WHERE id = -10",
		"INSERT INTO items VALUES (-100, 1, 'never streamed')",
		"DELETE FROM items WHERE id = -12")
	// A value changed in the topic: the record of id -14, tampered.
	at := bytes.Index(val14, []byte(`"after":{`))
	if at < 0 || !bytes.Contains(val14[at:], []byte(`"s":"c"`)) {
		t.Fatalf("unexpected record of id -14: %s", val14)
	}
	tampered := append(bytes.Clone(val14[:at]), bytes.Replace(val14[at:], []byte(`"s":"c"`), []byte(`"s":"tampered"`), 1)...)
	produceRaw(t, e.brokers, &kgo.Record{Topic: topic, Key: key14, Value: tampered})
	// A gap skipped: changes made while stopped, skipped on restart.
	in.stop()
	e.srv.Exec(t, e.db, "UPDATE items SET s = 'skipped' WHERE id = -16")
	e.srv.Exec(t, e.db, "INSERT INTO items VALUES (-200, 2, 'skipped insert')")
	if out, code := runBinary(t, "offsets", "set", "--config", cfg, "--skip", "2"); code != 0 {
		t.Fatalf("offsets set --skip 2: exit %d\n%s", code, out)
	}
	in = e.start(t, cfg)

	out, code = verifyRun(t, cfg, "--tables", e.db+".items")
	if code != 1 {
		t.Fatalf("verify of a damaged table: exit %d, want 1", code)
	}
	wantLines(t, out, "): DIFFERENT",
		"keys missing from the topic:  2", `{"id":-200}`, `{"id":-100}`,
		"keys only in the topic:       1", `{"id":-12}`,
		"keys whose values differ:     3", `{"id":-16} columns: s`, `{"id":-14} columns: s`, `{"id":-10} columns: n`,
		"summary: 1 table(s), 1 different")

	out, code = verifyRun(t, cfg, "--tables", e.db+".items", "--repair")
	if code != 1 {
		t.Fatalf("verify --repair: exit %d, want 1 (the differences it found)", code)
	}
	wantLines(t, out, "repair "+e.db+".items: incremental snapshot of 5 key(s) where `id` IN (-200,-100,-16,-14,-10)",
		"repair "+e.db+".items: wrote 1 tombstone(s)", "repair: signal rivulet-verify-")
	waitLog(t, in, "incremental snapshot complete", 1)
	out, code = verifyRun(t, cfg, "--tables", e.db+".items")
	if code != 0 {
		t.Fatalf("verify after the repair: exit %d, want 0", code)
	}
	in.stop()
	// Without an instance the comparison says so and still finds a gap.
	e.srv.Exec(t, e.db, "UPDATE items SET n = 1 WHERE id = -20")
	out, code = verifyRun(t, cfg, "--tables", e.db+".items")
	if code != 1 {
		t.Fatalf("verify with the connector stopped after a change: exit %d, want 1", code)
	}
	wantLines(t, out, "instance: none answers", `{"id":-20} columns: n`, "note: no running instance")
}

// TestVerify_Formats verifies a snapshotted and streamed table through
// each record format and the options that change what a topic holds:
// JSON with schemas plus an excluded column, a masked column and
// message.key.columns; JSON without schemas flattened by
// ExtractNewRecordState (rewrite mode, added fields); JSON in a topic of
// three partitions; Avro through a schema registry. Each is equal after the run; a change the binlog never saw is
// found and named by column, except in the masked column, which is
// compared masked (the output says so).
func TestVerify_Formats(t *testing.T) {
	for _, tc := range []struct {
		name  string
		extra func(e *e2eEnv) map[string]string
		key   string // how the damaged row's key prints
		lines []string
	}{
		{name: "json schemas masks key columns", key: `{"code":"c6"}`, extra: func(e *e2eEnv) map[string]string {
			return map[string]string{
				"key.converter.schemas.enable": "true", "value.converter.schemas.enable": "true",
				"column.exclude.list":      e.db + `\.items\.secret`,
				"column.mask.with.5.chars": e.db + `\.items\.s`,
				"message.key.columns":      e.db + ".items:code",
			}
		}, lines: []string{"masked columns:              s (", "columns not captured:        secret"}},
		{name: "json unwrap", key: `{"id":6}`, extra: func(e *e2eEnv) map[string]string {
			return map[string]string{
				"key.converter.schemas.enable": "false", "value.converter.schemas.enable": "false",
				"transforms":             "unwrap",
				"transforms.unwrap.type": "io.debezium.transforms.ExtractNewRecordState",
				"transforms.unwrap.delete.tombstone.handling.mode": "rewrite",
				"transforms.unwrap.add.fields":                     "op,source.ts_ms",
			}
		}},
		{name: "json three partitions", key: `{"id":6}`, extra: func(e *e2eEnv) map[string]string {
			// The table's topic exists with three partitions: keys spread
			// over them, each key in one.
			cl, err := kgo.NewClient(kgo.SeedBrokers(e.brokers...))
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			if _, err := kadm.NewClient(cl).CreateTopic(t.Context(), 3, 1, nil, e.prefix+"."+e.db+".items"); err != nil {
				t.Fatal(err)
			}
			return map[string]string{"key.converter.schemas.enable": "false", "value.converter.schemas.enable": "false"}
		}},
		{name: "avro", key: `{"id":6}`, extra: func(e *e2eEnv) map[string]string {
			reg := srtest.New()
			t.Cleanup(reg.Close)
			return map[string]string{
				"key.converter":                       "io.confluent.connect.avro.AvroConverter",
				"value.converter":                     "io.confluent.connect.avro.AvroConverter",
				"key.converter.schema.registry.url":   reg.URL(),
				"value.converter.schema.registry.url": reg.URL(),
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newE2E(t)
			e.srv.Exec(t, e.db, `CREATE TABLE items (id INT PRIMARY KEY, code VARCHAR(10) NOT NULL UNIQUE,
				s VARCHAR(20), secret VARCHAR(20), price DECIMAL(8,2), note VARCHAR(20))`)
			var b strings.Builder
			b.WriteString("INSERT INTO items VALUES ")
			for i := 1; i <= 60; i++ {
				if i > 1 {
					b.WriteByte(',')
				}
				fmt.Fprintf(&b, "(%d, 'c%d', 's%d', 'x%d', %d.25, NULL)", i, i, i, i, i)
			}
			e.srv.Exec(t, e.db, b.String())
			extra := tc.extra(e)
			extra["snapshot.mode"], extra["snapshot.fetch.size"] = "initial", "7"
			extra["table.include.list"] = e.db + `\.items`
			cfg := e.config(t, extra)
			in := e.start(t, cfg)
			waitLog(t, in, "initial snapshot complete", 1)
			e.srv.Exec(t, e.db,
				"UPDATE items SET s = 'new', note = 'n', price = 0.5 WHERE id = 3",
				"DELETE FROM items WHERE id = 4",
				"INSERT INTO items VALUES (100, 'c100', 's', 'x', NULL, 'ins')",
				"UPDATE items SET secret = 'only excluded' WHERE id = 8")
			out, code := verifyRun(t, cfg)
			if code != 0 {
				t.Fatalf("verify after snapshot and stream: exit %d, want 0", code)
			}
			wantLines(t, out, "): EQUAL", "rows compared:               60 ", "summary: 1 table(s), 0 different")
			wantLines(t, out, tc.lines...)

			e.srv.Exec(t, e.db, "SET SESSION sql_log_bin = 0",
				"UPDATE items SET note = 'unseen' WHERE id = 6",
				"UPDATE items SET s = 'unseen' WHERE id = 7")
			out, code = verifyRun(t, cfg)
			if code != 1 {
				t.Fatalf("verify after an unlogged change: exit %d, want 1", code)
			}
			n := "2"
			if len(tc.lines) > 0 { // s is masked: its change cannot show
				n = "1"
			}
			wantLines(t, out, "keys whose values differ:     "+n, tc.key+" columns: note")
			in.stop()
		})
	}
}

// TestVerify_MemoryBoundedByChunk verifies two tables of 1 KB rows, one
// eight times the other (8,000 and 64,000 rows: about 8 and 64 MB on each
// side), with snapshot.fetch.size=500, and compares the peak RSS of the
// two verify processes (built without the race detector, whose shadow
// memory would blur the figure): it must not grow with the table, since
// verify holds one chunk and one partition (about a chunk of keys) at a
// time and spills the rest to disk.
func TestVerify_MemoryBoundedByChunk(t *testing.T) {
	e := newE2E(t)
	e.srv.Exec(t, e.db,
		"CREATE TABLE small (id INT PRIMARY KEY, s VARCHAR(1000))",
		"CREATE TABLE large (id INT PRIMARY KEY, s VARCHAR(1000))",
		"INSERT INTO small SELECT seq, REPEAT(CHAR(65 + seq % 26), 1000) FROM seq_1_to_8000",
		"INSERT INTO large SELECT seq, REPEAT(CHAR(65 + seq % 26), 1000) FROM seq_1_to_64000")
	cfg := e.config(t, map[string]string{
		"snapshot.mode": "initial_only", "snapshot.fetch.size": "500",
		"key.converter.schemas.enable": "false", "value.converter.schemas.enable": "false",
	})
	bin := testenv.Rivulet(t)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, bin, "run", "--config", cfg).CombinedOutput(); err != nil {
		t.Fatalf("rivulet run (initial_only): %v\n%s", err, out)
	}
	rss := map[string]int64{}
	for _, tbl := range []string{"small", "large"} {
		cmd := exec.CommandContext(ctx, bin, "verify", "--config", cfg, "--tables", e.db+"."+tbl, "--work-dir", t.TempDir())
		out, peak, err := runPeak(cmd)
		if err != nil {
			t.Fatalf("verify %s: %v\n%s", tbl, err, out)
		}
		wantLines(t, out, "): EQUAL")
		rss[tbl] = peak
		t.Logf("verify of %s: peak RSS %d MiB\n%s", tbl, rss[tbl], out)
	}
	if rss["large"] > rss["small"]+24 {
		t.Errorf("verify's memory grew with the table: peak RSS %d MiB for 64,000 rows, %d MiB for 8,000 (the 56 MB more rows on each side must stay on disk)",
			rss["large"], rss["small"])
	}
}

// runPeak runs cmd and returns its combined output and its peak RSS in MiB,
// read from /proc/<pid>/status (VmHWM) while it runs: the rusage of a child
// counts the parent's memory at the fork too, so it cannot tell.
func runPeak(cmd *exec.Cmd) (string, int64, error) {
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return "", 0, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	status := fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)
	var peak int64
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		if b, err := os.ReadFile(status); err == nil {
			for _, line := range strings.Split(string(b), "\n") {
				if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
					kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
					peak = max(peak, kb/1024)
				}
			}
		}
		select {
		case err := <-done:
			return out.String(), peak, err
		case <-tick.C:
		}
	}
}

// TestVerify_RepairThroughKafkaSignal repairs through the Kafka signal
// channel (signal.enabled.channels=kafka): a changed, an added and a
// deleted row the binlog never saw are found; --repair sends one
// execute-snapshot signal keyed by topic.prefix for the first two and a
// tombstone for the third; the next verify is equal.
func TestVerify_RepairThroughKafkaSignal(t *testing.T) {
	e := newE2E(t)
	sigTopic := e.prefix + "-signal"
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := kadm.NewClient(cl).CreateTopic(t.Context(), 1, 1, nil, sigTopic); err != nil {
		t.Fatal(err)
	}
	e.srv.Exec(t, e.db, `CREATE TABLE k (id INT PRIMARY KEY, s VARCHAR(20))`,
		`INSERT INTO k SELECT seq, CONCAT('v', seq) FROM seq_1_to_30`)
	cfg := e.config(t, map[string]string{
		"snapshot.mode": "initial", "table.include.list": e.db + `\.k`,
		"signal.enabled.channels": "kafka", "signal.kafka.topic": sigTopic,
	})
	in := e.start(t, cfg)
	waitLog(t, in, "initial snapshot complete", 1)
	e.srv.Exec(t, e.db, "SET SESSION sql_log_bin = 0",
		"UPDATE k SET s = 'changed' WHERE id = 5",
		"INSERT INTO k VALUES (100, 'added')",
		"DELETE FROM k WHERE id = 9")
	out, code := verifyRun(t, cfg, "--repair")
	if code != 1 {
		t.Fatalf("verify --repair: exit %d, want 1", code)
	}
	wantLines(t, out, `{"id":100}`, `{"id":9}`, `{"id":5} columns: s`,
		"incremental snapshot of 2 key(s) where `id` IN (5,100)", "wrote 1 tombstone(s)", "sent to topic "+sigTopic)
	waitLog(t, in, "incremental snapshot complete", 1)
	if out, code = verifyRun(t, cfg); code != 0 {
		t.Fatalf("verify after the repair: exit %d, want 0", code)
	}
	wantLines(t, out, "summary: 1 table(s), 0 different")
	in.stop()
}

// TestVerify_Usage: bad invocations exit 2 with the problem and its fix.
func TestVerify_Usage(t *testing.T) {
	e := newE2E(t)
	cfg := e.config(t, nil)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"verify"}, "--config is required"},
		{[]string{"verify", "--config", cfg, "--tables", "items"}, `--tables "items": name tables as db.table`},
		{[]string{"verify", "--config", cfg, "--tables", e.db + ".nosuch"}, "is not a captured table (check table.include.list"},
	} {
		out, code := runBinary(t, tc.args...)
		if code != 2 || !strings.Contains(out, tc.want) {
			t.Errorf("rivulet %s: exit %d, want 2 and %q in:\n%s", strings.Join(tc.args, " "), code, tc.want, out)
		}
	}
	stdout := e.config(t, map[string]string{"sink.type": "stdout"})
	if out, code := runBinary(t, "verify", "--config", stdout); code != 2 || !strings.Contains(out, "writes no topic to verify") {
		t.Errorf("verify of a stdout sink: exit %d\n%s", code, out)
	}
}
