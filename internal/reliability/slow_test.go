package reliability

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestReliability09_BlackHole (§3 #9): the network to the database goes
// silent (the proxy swallows every byte, nothing is closed) while the
// source is idle. Rivulet must notice by its read deadline (heartbeats are
// asked for every 5 s), reconnect once the network is back, and lose
// nothing written meanwhile.
func TestReliability09_BlackHole(t *testing.T) {
	slow(t)
	e := newEnv(t, envOpts{proxy: true})
	e.srv.Exec(t, e.db, "CREATE TABLE t (id INT PRIMARY KEY, v INT)")
	p := e.start(e.config(nil), "")
	e.srv.Exec(t, e.db, "INSERT INTO t VALUES (1, 1)")
	e.caughtUp(p)
	before := p.metric("rivulet_binlog_disconnects_total")
	e.proxy.Blackhole(true)
	e.srv.Exec(t, e.db, "INSERT INTO t VALUES (2, 2)", "UPDATE t SET v = 10 WHERE id = 1")
	detected := poll(t, 180*time.Second, "the silent connection detected (read timeout)", func() bool {
		return strings.Contains(p.log.String(), "i/o timeout")
	})
	took := poll(t, 180*time.Second, "the disconnect counted", func() bool {
		return p.metric("rivulet_binlog_disconnects_total") > before
	})
	figure(t, "blackhole_detect_seconds", detected.Seconds(), "s")
	figure(t, "blackhole_disconnect_counted_seconds", (detected + took).Seconds(), "s")
	// go-mysql's Close kills the old dump thread over a new connection,
	// which the black hole holds for the connect timeout before the reader
	// can count the disconnect and reconnect.
	t.Logf("silent network detected after %s (heartbeat period 5 s: RELIABILITY asks for 2 periods); disconnect counted %s later",
		detected.Round(time.Millisecond), took.Round(time.Millisecond))
	e.proxy.Blackhole(false)
	poll(t, 120*time.Second, "ready after the network is back", p.ready)
	e.srv.Exec(t, e.db, "INSERT INTO t VALUES (3, 3)")
	e.caughtUp(p)
	p.stop()
	recs := e.read()
	e.checkTable(recs, "t", "id", "id", "v")
	if _, err := CheckDuplicates(recs, nil); err != nil {
		t.Error(err)
	}
}

// restartIfExited is a supervisor (Kubernetes): if p ended, it logs why and
// starts a new process.
func (e *env) restartIfExited(p *proc, cfg string) (*proc, bool) {
	e.t.Helper()
	if !p.done() {
		return p, false
	}
	line, _ := CheckFailure(p.log.String())
	e.t.Logf("rivulet exited %d: %s", exitCode(p.err), line)
	return e.start(cfg, ""), true
}

// TestReliability10_DatabaseRestart (§3 #10): the database is stopped and
// started again while Rivulet streams a counter workload, and while it
// takes a chunked snapshot. Streaming resumes, the snapshot resumes or
// restarts, and the topics end equal to the tables.
func TestReliability10_DatabaseRestart(t *testing.T) {
	slow(t)
	t.Run("streaming", func(t *testing.T) {
		e := newEnv(t, envOpts{ownServer: true})
		tables := e.counterTables(2, 20)
		cfg := e.config(nil)
		p := e.start(cfg, "")
		w := e.runCounter(tables, 20, rand.Uint64())
		w.waitN(t, 500)
		held := e.stored()
		e.srv.Restart(t)
		restarted := time.Now()
		var exited bool
		poll(t, 120*time.Second, "ready after the database restart", func() bool { return p.done() || p.ready() })
		p, exited = e.restartIfExited(p, cfg)
		t.Logf("database restarted; rivulet ready again %s later (exited and restarted: %v)", time.Since(restarted).Round(time.Millisecond), exited)
		w.waitN(t, 500)
		w.stop()
		e.caughtUp(p)
		p.stop()
		e.checkCounters(e.read(), tables, []Crash{{Durable: CoordOf(held)}})
	})
	t.Run("snapshot", func(t *testing.T) {
		e := newEnv(t, envOpts{ownServer: true})
		e.srv.Exec(t, e.db, "CREATE TABLE items (id INT PRIMARY KEY, s VARCHAR(40))")
		for lo := 0; lo < 20000; lo += 2000 {
			var b strings.Builder
			b.WriteString("INSERT INTO items VALUES ")
			for i := lo; i < lo+2000; i++ {
				if i > lo {
					b.WriteByte(',')
				}
				fmt.Fprintf(&b, "(%d, 'row %d')", i, i)
			}
			e.srv.Exec(t, e.db, b.String())
		}
		cfg := e.config(map[string]string{"snapshot.mode": "initial", "snapshot.fetch.size": "200", "offset.flush.interval.ms": "50"})
		p := e.launch(cfg, "")
		poll(t, 120*time.Second, "snapshot in progress", func() bool {
			b, _ := os.ReadFile(e.store("").Path())
			return strings.Contains(string(b), "rivulet_snapshot")
		})
		e.srv.Restart(t)
		poll(t, 180*time.Second, "snapshot finished or rivulet exited", func() bool {
			if p.done() {
				return true
			}
			b, _ := os.ReadFile(e.store("").Path())
			return len(b) > 0 && !strings.Contains(string(b), "INITIAL")
		})
		if p.done() {
			line, _ := CheckFailure(p.log.String())
			t.Logf("rivulet exited %d during the snapshot: %s; restarting it", exitCode(p.err), line)
			p = e.launch(cfg, "")
			poll(t, 180*time.Second, "snapshot finished after the restart", func() bool {
				b, _ := os.ReadFile(e.store("").Path())
				return len(b) > 0 && !strings.Contains(string(b), "INITIAL")
			})
		}
		e.srv.Exec(t, e.db, "INSERT INTO items VALUES (-1, 'sentinel')")
		e.caughtUp(p)
		p.stop()
		e.checkTable(e.read(), "items", "id", "id", "s")
	})
}

// TestReliability13_ResetMaster (§3 #13): the server is reset (RESET
// MASTER: binlogs and GTID state start again) while Rivulet is stopped.
// The start is refused with the stored position and the remedy, never
// resumed at the new binlog's start.
func TestReliability13_ResetMaster(t *testing.T) {
	slow(t)
	e := newEnv(t, envOpts{ownServer: true})
	e.srv.Exec(t, e.db, "CREATE TABLE t (id INT PRIMARY KEY)")
	cfg := e.config(nil)
	p := e.start(cfg, "")
	e.srv.Exec(t, e.db, "INSERT INTO t VALUES (1), (2), (3)")
	e.caughtUp(p)
	p.stop()
	stored := e.stored()
	e.srv.Exec(t, "", "RESET MASTER")
	e.srv.Exec(t, e.db, "INSERT INTO t VALUES (4)")
	p = e.launch(cfg, "")
	code := p.waitExit(120 * time.Second)
	took := time.Since(p.started)
	line, err := CheckFailure(p.log.String(), "rivulet offsets reset")
	if code == 0 || err != nil {
		t.Fatalf("start after RESET MASTER: exit %d, %v", code, err)
	}
	if !strings.Contains(line, stored.GTIDSet) && !strings.Contains(line, stored.File) {
		t.Errorf("the error does not name the stored position %s: %s", stored.String(), line)
	}
	t.Logf("refused after %s: %s", took.Round(time.Millisecond), line)
	figure(t, "fault_to_error_seconds", took.Seconds(), "s")
}

// TestReliability15_LeaderMoves (§3 #15): three brokers; the partition
// leaders move again and again under a counter workload (kfake has no
// replication, so a rolling restart is modelled by leader changes). No
// loss, per-key order kept, no fatal error.
func TestReliability15_LeaderMoves(t *testing.T) {
	slow(t)
	e := newEnv(t, envOpts{kafka: []kfake.Opt{kfake.NumBrokers(3)}})
	tables := e.counterTables(3, 20)
	cfg := e.config(nil)
	p := e.start(cfg, "")
	w := e.runCounter(tables, 20, rand.Uint64())
	for range 20 {
		w.waitN(t, 150)
		e.kc.ShufflePartitionLeaders()
	}
	w.stop()
	e.caughtUp(p)
	p.stop()
	if _, err := CheckFailure(p.log.String()); err == nil || !strings.Contains(err.Error(), "no ERROR line") {
		t.Errorf("errors logged during leader moves: %v", err)
	}
	e.checkCounters(e.read(), tables, nil)
}

// TestReliability16_RecordTooLarge (§3 #16): a 2 MiB row against Kafka's
// 1 MiB message limit. Rivulet fails closed: one line naming the limit and
// the fix, the offset not past the row, and nothing after it produced.
func TestReliability16_RecordTooLarge(t *testing.T) {
	slow(t)
	e := newEnv(t, envOpts{})
	e.srv.Exec(t, e.db, "CREATE TABLE b (id INT PRIMARY KEY, data LONGBLOB)")
	cfg := e.config(nil)
	p := e.start(cfg, "")
	e.srv.Exec(t, e.db, "INSERT INTO b VALUES (1, 'small')")
	e.caughtUp(p)
	before := e.master()
	start := time.Now()
	e.srv.Exec(t, e.db, "INSERT INTO b VALUES (2, REPEAT('x', 2097152))", "INSERT INTO b VALUES (3, 'after')")
	code := p.waitExit(120 * time.Second)
	took := time.Since(start)
	line, err := CheckFailure(p.log.String(), "max.message.bytes")
	if code == 0 || err != nil {
		t.Fatalf("2 MiB record: exit %d, %v", code, err)
	}
	t.Logf("failed closed after %s: %s", took.Round(time.Millisecond), tail(line, 600))
	figure(t, "fault_to_error_seconds", took.Seconds(), "s")
	if got := e.stored(); CoordOf(got).Compare(before) > 0 {
		t.Errorf("the offset %s moved past the large row at %s", got.String(), before)
	}
	for _, r := range e.read() {
		if r.After != nil && text(r.After["id"]) != "1" {
			t.Errorf("row %s was produced after the failed one", text(r.After["id"]))
		}
	}
}

// denyProduce makes every produce request fail with TOPIC_AUTHORIZATION_FAILED.
func denyProduce(kc *kfake.Cluster) {
	kc.ControlKey(int16(kmsg.Produce), func(req kmsg.Request) (kmsg.Response, error, bool) {
		kc.KeepControl()
		r := req.(*kmsg.ProduceRequest)
		resp := r.ResponseKind().(*kmsg.ProduceResponse)
		resp.Version = r.Version
		for _, tp := range r.Topics {
			rt := kmsg.NewProduceResponseTopic()
			rt.Topic, rt.TopicID = tp.Topic, tp.TopicID
			for _, pp := range tp.Partitions {
				rp := kmsg.NewProduceResponseTopicPartition()
				rp.Partition = pp.Partition
				rp.ErrorCode = kerr.TopicAuthorizationFailed.Code
				rt.Partitions = append(rt.Partitions, rp)
			}
			resp.Topics = append(resp.Topics, rt)
		}
		return resp, nil, true
	})
}

// TestReliability17_TopicDenied (§3 #17): the principal may not write the
// change topic (every produce is TOPIC_AUTHORIZATION_FAILED), or may not
// create it. Rivulet stops at once with the topic and the grant to add,
// and no endless retries.
func TestReliability17_TopicDenied(t *testing.T) {
	slow(t)
	fileHistory := func(e *env) map[string]string {
		return map[string]string{
			"schema.history.internal":               "io.debezium.storage.file.history.FileSchemaHistory",
			"schema.history.internal.file.filename": e.dir + "/history.jsonl",
		}
	}
	t.Run("write", func(t *testing.T) {
		e := newEnv(t, envOpts{kfake: true}) // denyProduce scripts kfake
		e.srv.Exec(t, e.db, "CREATE TABLE t (id INT PRIMARY KEY)")
		p := e.start(e.config(fileHistory(e)), "")
		denyProduce(e.kc)
		start := time.Now()
		e.srv.Exec(t, e.db, "INSERT INTO t VALUES (1)")
		code := p.waitExit(120 * time.Second)
		took := time.Since(start)
		line, err := CheckFailure(p.log.String(), e.topic("t"), "WRITE")
		if code == 0 || err != nil {
			t.Fatalf("write denied: exit %d, %v", code, err)
		}
		t.Logf("stopped after %s: %s", took.Round(time.Millisecond), tail(line, 600))
		figure(t, "fault_to_error_seconds", took.Seconds(), "s")
	})
	t.Run("create", func(t *testing.T) {
		e := newEnv(t, envOpts{kfake: true})
		e.srv.Exec(t, e.db, "CREATE TABLE t (id INT PRIMARY KEY)")
		p := e.start(e.config(fileHistory(e)), "")
		e.kc.ControlKey(int16(kmsg.CreateTopics), func(req kmsg.Request) (kmsg.Response, error, bool) {
			e.kc.KeepControl()
			r := req.(*kmsg.CreateTopicsRequest)
			resp := r.ResponseKind().(*kmsg.CreateTopicsResponse)
			resp.Version = r.Version
			for _, tp := range r.Topics {
				rt := kmsg.NewCreateTopicsResponseTopic()
				rt.Topic = tp.Topic
				rt.ErrorCode = kerr.TopicAuthorizationFailed.Code
				resp.Topics = append(resp.Topics, rt)
			}
			return resp, nil, true
		})
		denyProduce(e.kc) // no auto-creation either: the topic cannot come to be
		start := time.Now()
		e.srv.Exec(t, e.db, "INSERT INTO t VALUES (1)")
		code := p.waitExit(120 * time.Second)
		took := time.Since(start)
		line, err := CheckFailure(p.log.String(), e.topic("t"))
		if code == 0 || err != nil {
			t.Fatalf("create denied: exit %d, %v", code, err)
		}
		t.Logf("stopped after %s: %s", took.Round(time.Millisecond), tail(line, 600))
		figure(t, "fault_to_error_seconds", took.Seconds(), "s")
	})
}

// TestReliability19_UnparseableDDLSkips (§3 #19, I4 and I5): a statement
// the parser cannot take (a GEOMETRY column with REF_SYSTEM_ID) on a table that is not
// captured is a WARN line and rivulet_ddl_skipped_total, and the stream goes
// on; function DDL is ignored by classification. On a captured table with
// the opt-in schema.history.internal.skip.unparseable.ddl=true it is skipped
// the same way, and since the statement changed the columns the next row
// stops Rivulet with the table and position: never a row decoded with a
// stale schema. (The fail-closed default on a captured table: cmd/rivulet
// TestSchema_UnparseableDDLStopsThenReloads.)
func TestReliability19_UnparseableDDLSkips(t *testing.T) {
	slow(t)
	t.Run("uncaptured", func(t *testing.T) {
		e := newEnv(t, envOpts{})
		e.srv.Exec(t, e.db, "CREATE TABLE t (id INT PRIMARY KEY, a VARCHAR(10))", "CREATE TABLE u (id INT PRIMARY KEY)")
		p := e.start(e.config(map[string]string{"table.include.list": e.db + `\.t`}), "")
		e.srv.Exec(t, e.db,
			"CREATE FUNCTION f1() RETURNS INT DETERMINISTIC RETURN 1",
			"INSERT INTO t VALUES (1, 'x')",
			"ALTER TABLE u ADD COLUMN g GEOMETRY REF_SYSTEM_ID=4326 INVISIBLE",
			"INSERT INTO t VALUES (2, 'y')")
		e.caughtUp(p)
		n, err := CheckSkip(p.log.String(), p.scrape(), "DDL statement skipped", "rivulet_ddl_skipped_total")
		if err != nil {
			t.Error(err)
		}
		p.stop()
		t.Logf("I5: %v statement skipped on an uncaptured table, logged and counted; the stream went on", n)
		e.checkTable(e.read(), "t", "id", "id", "a")
	})
	t.Run("captured-opt-in", func(t *testing.T) {
		e := newEnv(t, envOpts{})
		e.srv.Exec(t, e.db, "CREATE TABLE t (id INT PRIMARY KEY, a VARCHAR(10))")
		p := e.start(e.config(map[string]string{"schema.history.internal.skip.unparseable.ddl": "true"}), "")
		e.srv.Exec(t, e.db, "INSERT INTO t VALUES (1, 'x')", "ALTER TABLE t ADD COLUMN g GEOMETRY REF_SYSTEM_ID=4326 INVISIBLE")
		poll(t, 60*time.Second, "the skip logged", func() bool { return strings.Contains(p.log.String(), "DDL statement skipped") })
		n, err := CheckSkip(p.log.String(), p.scrape(), "DDL statement skipped", "rivulet_ddl_skipped_total")
		if err != nil {
			t.Error(err)
		}
		start := time.Now()
		e.srv.Exec(t, e.db, "INSERT INTO t VALUES (2, 'y')")
		code := p.waitExit(60 * time.Second)
		line, err := CheckFailure(p.log.String(), e.db+".t", "mysql-bin.")
		if code == 0 || err != nil {
			t.Fatalf("row after a skipped column change: exit %d, %v", code, err)
		}
		t.Logf("I5: %v skip logged and counted; I4: the next row stopped Rivulet after %s: %s", n, time.Since(start).Round(time.Millisecond), tail(line, 500))
		for _, r := range e.read() {
			if r.After != nil && text(r.After["id"]) == "2" {
				t.Errorf("row 2 was decoded with the stale schema: %v", r.After)
			}
		}
	})
}

// TestReliability20_RenameDropRecreate (§3 #20): swap rename, drop and
// recreate with other columns, truncate: the schema follows each step and
// the topic ends equal to the table (rows after the recreate decode with
// the new columns).
func TestReliability20_RenameDropRecreate(t *testing.T) {
	slow(t)
	e := newEnv(t, envOpts{})
	e.srv.Exec(t, e.db, "CREATE TABLE t (id INT PRIMARY KEY, a VARCHAR(10))")
	p := e.start(e.config(nil), "")
	e.srv.Exec(t, e.db,
		"INSERT INTO t VALUES (1, 'old')",
		"CREATE TABLE t_new (id INT PRIMARY KEY, b INT, a VARCHAR(10))",
		"RENAME TABLE t TO t_old, t_new TO t",
		"INSERT INTO t VALUES (2, 20, 'new')",
		"DROP TABLE t",
		"CREATE TABLE t (id INT PRIMARY KEY, c DATE, a VARCHAR(10))",
		"INSERT INTO t VALUES (3, '2026-01-02', 'again'), (4, NULL, 'gone')",
		"TRUNCATE t_old",
		"DELETE FROM t WHERE id = 4",
		"INSERT INTO t VALUES (5, '2026-03-04', 'last')")
	e.caughtUp(p)
	p.stop()
	if _, err := CheckFailure(p.log.String()); err == nil || !strings.Contains(err.Error(), "no ERROR line") {
		t.Errorf("an error was logged: %v", err)
	}
	recs := e.read()
	for _, r := range recs {
		if r.Topic == e.topic("t") && r.After != nil && text(r.After["id"]) == "5" {
			if _, ok := r.After["c"]; !ok || text(r.After["c"]) == "NULL" {
				t.Errorf("row 5 after the recreate lacks the new column c: %v", r.After)
			}
		}
	}
	// Row 1 and 2 belong to tables dropped or renamed away: the topic of t
	// ends with the recreated table's rows plus what the old ones left.
	rows := e.srv.Query(t, e.db, "SELECT id, a FROM t")
	state := map[string]string{}
	for _, r := range recs {
		if r.Topic != e.topic("t") {
			continue
		}
		switch {
		case r.Op == "d" || r.RawValue == nil:
			delete(state, text(r.Key["id"]))
		case r.After != nil:
			state[text(r.After["id"])] = text(r.After["a"])
		}
	}
	for _, r := range rows {
		if state[r[0]] != r[1] {
			t.Errorf("id %s: topic %q, table %q", r[0], state[r[0]], r[1])
		}
	}
	e.checkTable(recs, "t_old", "id", "id", "a")
}

// TestReliability22_SchemaMismatch (§3 #22): a column is added with the
// binary log off (SET sql_log_bin=0), so the tracked schema no longer
// matches the rows. Rivulet stops with the table and position, never emits
// misaligned columns.
func TestReliability22_SchemaMismatch(t *testing.T) {
	slow(t)
	e := newEnv(t, envOpts{})
	e.srv.Exec(t, e.db, "CREATE TABLE t (id INT PRIMARY KEY, a VARCHAR(10))")
	p := e.start(e.config(nil), "")
	e.srv.Exec(t, e.db, "INSERT INTO t VALUES (1, 'x')")
	e.caughtUp(p)
	start := time.Now()
	e.srv.Exec(t, e.db, "SET sql_log_bin = 0", "ALTER TABLE t ADD COLUMN x INT", "SET sql_log_bin = 1", "INSERT INTO t VALUES (2, 'y', 7)")
	code := p.waitExit(60 * time.Second)
	took := time.Since(start)
	line, err := CheckFailure(p.log.String(), e.db+".t", "mysql-bin.", "columns")
	if code == 0 || err != nil {
		t.Fatalf("schema mismatch: exit %d, %v", code, err)
	}
	t.Logf("stopped after %s: %s", took.Round(time.Millisecond), tail(line, 600))
	figure(t, "fault_to_error_seconds", took.Seconds(), "s")
	for _, r := range e.read() {
		if r.After != nil && text(r.After["id"]) == "2" {
			t.Errorf("the row after the silent ALTER was emitted: %v", r.After)
		}
	}
}

// TestReliability24_OnlineSchemaChange (§3 #24): the statement sequences of
// gh-ost (ghost table _t_gho, copy, atomic swap RENAME) and pt-osc (_t_new,
// triggers, swap) under writes. The stream keeps the name t and switches
// to the new schema at the rename; the shadow tables are not captured.
func TestReliability24_OnlineSchemaChange(t *testing.T) {
	slow(t)
	e := newEnv(t, envOpts{})
	e.srv.Exec(t, e.db, "CREATE TABLE t (id INT PRIMARY KEY, a INT NOT NULL)")
	p := e.start(e.config(map[string]string{"table.include.list": e.db + `\.t`}), "")
	e.srv.Exec(t, e.db, "INSERT INTO t VALUES (1, 1), (2, 2), (3, 3)")
	// gh-ost: ghost table, ALTER on it, row copy, binlog-applied changes, cut-over.
	e.srv.Exec(t, e.db,
		"CREATE TABLE _t_gho LIKE t",
		"ALTER TABLE _t_gho ADD COLUMN b INT NOT NULL DEFAULT 0",
		"INSERT INTO _t_gho (id, a) SELECT id, a FROM t",
		"UPDATE t SET a = 20 WHERE id = 2", "UPDATE _t_gho SET a = 20 WHERE id = 2",
		"RENAME TABLE t TO _t_del, _t_gho TO t",
		"DROP TABLE _t_del",
		"INSERT INTO t VALUES (4, 4, 40)")
	// pt-osc: new table, triggers keep it in step, copy, swap.
	e.srv.Exec(t, e.db,
		"CREATE TABLE _t_new LIKE t",
		"ALTER TABLE _t_new ADD COLUMN c VARCHAR(10) NOT NULL DEFAULT 'pt'",
		"CREATE TRIGGER pt_osc_ins AFTER INSERT ON t FOR EACH ROW REPLACE INTO _t_new (id, a, b) VALUES (NEW.id, NEW.a, NEW.b)",
		"INSERT IGNORE INTO _t_new (id, a, b) SELECT id, a, b FROM t",
		"INSERT INTO t VALUES (5, 5, 50)",
		"RENAME TABLE t TO _t_old, _t_new TO t",
		"DROP TRIGGER pt_osc_ins",
		"DROP TABLE _t_old",
		"INSERT INTO t VALUES (6, 6, 60, 'post')")
	e.caughtUp(p)
	p.stop()
	recs := e.read()
	for _, r := range recs {
		if r.Topic != e.topic("t") {
			t.Errorf("a shadow table was captured: %s", r.Topic)
			break
		}
	}
	// Only rows written through the name t reach its topic; the copies made
	// into the shadow tables are not changes of t. The state per key must
	// still equal the table for the keys changed through t.
	state := map[string]map[string]any{}
	for _, r := range recs {
		if r.After != nil {
			state[text(r.After["id"])] = r.After
		}
	}
	if a := state["6"]; a == nil || text(a["c"]) != "post" || text(a["b"]) != "60" {
		t.Errorf("row 6 after the pt-osc swap = %v, want the new columns b=60 c=post", a)
	}
	if a := state["4"]; a == nil || text(a["b"]) != "40" {
		t.Errorf("row 4 after the gh-ost swap = %v, want b=40", a)
	}
	if a := state["2"]; a == nil || text(a["a"]) != "20" {
		t.Errorf("row 2 = %v, want a=20", a)
	}
}

// TestReliability29_HugeTransaction (§3 #29): one 200,000-row
// INSERT ... SELECT transaction streams with bounded memory; a ROLLBACK of
// mixed InnoDB/MyISAM statements emits only the non-transactional change,
// and a rollback to a savepoint drops what followed it.
func TestReliability29_HugeTransaction(t *testing.T) {
	slow(t)
	const rows = 200000
	e := newEnv(t, envOpts{})
	e.srv.Exec(t, e.db, "CREATE TABLE src (id INT PRIMARY KEY, s VARCHAR(64))", "CREATE TABLE big (id INT PRIMARY KEY, s VARCHAR(64))",
		"CREATE TABLE inno (id INT PRIMARY KEY) ENGINE=InnoDB", "CREATE TABLE isam (id INT PRIMARY KEY) ENGINE=MyISAM")
	for lo := 0; lo < rows; lo += 10000 {
		e.srv.Exec(t, e.db, fmt.Sprintf("INSERT INTO src SELECT seq, CONCAT('row ', seq, ' padding padding padding') FROM seq_%d_to_%d", lo, lo+9999))
	}
	p := e.start(e.config(map[string]string{"table.include.list": e.db + `\.(big|inno|isam)`}), "")
	rss := p.status("VmRSS")
	e.srv.Exec(t, e.db, "INSERT INTO big SELECT * FROM src")
	e.caughtUp(p)
	peak := p.status("VmHWM")
	t.Logf("%d-row transaction: RSS %d MiB before, peak %d MiB", rows, rss/1024, peak/1024)
	figure(t, "huge_transaction_peak_rss_mib", float64(peak)/1024, "MiB")
	c := e.srv.Conn(t, e.db)
	for _, q := range []string{"BEGIN", "INSERT INTO inno VALUES (1)", "INSERT INTO isam VALUES (1)", "ROLLBACK",
		"BEGIN", "INSERT INTO inno VALUES (2)", "SAVEPOINT s1", "INSERT INTO inno VALUES (3)", "ROLLBACK TO SAVEPOINT s1", "COMMIT"} {
		r, err := c.Execute(q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		r.Close()
	}
	e.caughtUp(p)
	p.stop()
	recs := e.read()
	rep, err := CheckState(recs, e.topic("big"), []string{"id"}, []string{"id", "s"}, e.srv.Query(t, e.db, "SELECT id, s FROM big"))
	if err != nil {
		t.Error(err)
	}
	t.Logf("I1 big: %d keys from %d records", rep.Keys, rep.Records)
	e.checkTable(recs, "inno", "id", "id")
	e.checkTable(recs, "isam", "id", "id")
}
