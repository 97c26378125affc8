package reliability

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestReliability01_KillNineMidStream (§3 #1): SIGKILL at a random moment
// of a counter workload on three tables; the restart loses nothing (I1),
// repeats only what followed the durable offset (I2), and keeps each key's
// order (I3).
func TestReliability01_KillNineMidStream(t *testing.T) {
	e := newEnv(t, envOpts{})
	tables := e.counterTables(3, 40)
	cfg := e.config(map[string]string{"max.batch.size": "64", "max.queue.size": "256"})
	p := e.start(cfg, "")
	w := e.runCounter(tables, 40, rand.Uint64())
	began := time.Now()
	w.waitN(t, int64(500+rand.IntN(1500)))
	p.kill()
	rate := float64(w.n.Load()) / time.Since(began).Seconds()
	cr := e.crash()
	killedAt := w.n.Load()

	p = e.start(cfg, "")
	figure(t, "restart_to_ready_seconds", time.Since(p.started).Seconds(), "s")
	w.waitN(t, 500)
	total := w.stop()
	e.caughtUp(p)
	p.stop()
	t.Logf("killed after %d transactions, %d in all; durable offset at the kill: %s", killedAt, total, cr.Durable)
	dup := e.checkCounters(e.read(), tables, []Crash{cr})
	// In time: the repeated records at the workload's rate, next to the
	// offset flush interval (100 ms here) that bounds it in principle.
	figure(t, "duplicate_window_ms", float64(dup.WindowRecords)/rate*1000, "ms")
	t.Logf("duplicate window: %d records at %.0f tx/s = %.0f ms of changes (offset.flush.interval.ms 100)", dup.WindowRecords, rate, float64(dup.WindowRecords)/rate*1000)
}

// TestReliability02_KillInsideTransaction (§3 #2): a 10,000-row transaction
// (one row per rows event); the fault point kills Rivulet right after an
// offset inside the transaction became durable. The restart resumes at the
// transaction's BEGIN, skips the rows the offset counts (none of them is
// sent again) and sends every later row.
func TestReliability02_KillInsideTransaction(t *testing.T) {
	const rows = 10000
	e := newEnv(t, envOpts{})
	e.srv.Exec(t, e.db, "CREATE TABLE big (id INT PRIMARY KEY, v VARCHAR(20))")
	cfg := e.config(map[string]string{"max.batch.size": "50", "max.queue.size": "200", "offset.flush.interval.ms": "5"})
	p := e.start(cfg, "offset.saved-midtx:3:kill")
	stmts := []string{"BEGIN"}
	for i := 1; i <= rows; i++ {
		stmts = append(stmts, fmt.Sprintf("INSERT INTO big VALUES (%d, 'row %d')", i, i))
	}
	e.srv.Exec(t, e.db, append(stmts, "COMMIT")...)
	if code := p.waitExit(120 * time.Second); code != 137 || !strings.Contains(p.log.String(), "rivulet fault: offset.saved-midtx") {
		t.Fatalf("exit %d, want the fault point's SIGKILL (137)\n%s", code, tail(p.log.String(), 4000))
	}
	durable := e.stored()
	if durable.Event == 0 {
		t.Fatalf("durable offset %s is not inside the transaction", durable.String())
	}
	k := int(durable.Event) // one row per rows event: Event rows were emitted (Row counts inside the next)
	k += int(durable.Row)

	p = e.start(cfg, "")
	e.caughtUp(p)
	p.stop()
	recs := e.read()
	var ids []int
	for _, r := range recs {
		if r.Topic == e.topic("big") && r.After != nil {
			var id int
			fmt.Sscan(text(r.After["id"]), &id)
			ids = append(ids, id)
		}
	}
	// Run 1 wrote 1..m, run 2 must write k+1..rows.
	m := len(ids)
	for i := 1; i < len(ids); i++ {
		if ids[i] <= ids[i-1] {
			m = i
			break
		}
	}
	for i, id := range ids[:m] {
		if id != i+1 {
			t.Fatalf("before the kill: record %d has id %d, want %d", i, id, i+1)
		}
	}
	second := ids[m:]
	if len(second) == 0 && m == rows && k <= m {
		// Run 1 had sent exactly what the offset counts and run 2 went on
		// from there: ids 1..rows once each.
		t.Logf("killed with rows 1..%d in Kafka, all durable (offset %s): the restart sent %d..%d, nothing repeated", k, durable.String(), k+1, rows)
		figure(t, "duplicate_window_records", 0, "records")
		e.checkTable(recs, "big", "id", "id", "v")
		return
	}
	if len(second) == 0 || second[0] != k+1 {
		first := -1
		if len(second) > 0 {
			first = second[0]
		}
		t.Fatalf("the restart began at id %d, want %d: the durable offset %s counts %d rows", first, k+1, durable.String(), k)
	}
	for i, id := range second {
		if id != k+1+i {
			t.Fatalf("after the restart: record %d has id %d, want %d", i, id, k+1+i)
		}
	}
	if second[len(second)-1] != rows {
		t.Fatalf("the restart ended at id %d, want %d", second[len(second)-1], rows)
	}
	t.Logf("killed with rows 1..%d in Kafka, offset %s durable (%d rows): the restart sent rows %d..%d, none of 1..%d again", m, durable.String(), k, k+1, rows, k)
	figure(t, "duplicate_window_records", float64(m-k), "records")
	e.checkTable(recs, "big", "id", "id", "v")
}

// TestReliability03_CrashBetweenAckAndOffset (§3 #3): the fault point kills
// Rivulet after Kafka acknowledged records and before their offset was
// written. Exactly the changes after the durable offset come again, with
// identical coordinates and content; none before it.
func TestReliability03_CrashBetweenAckAndOffset(t *testing.T) {
	e := newEnv(t, envOpts{})
	tables := e.counterTables(1, 20)
	cfg := e.config(nil)
	p := e.start(cfg, fmt.Sprintf("offset.before-save:%d:kill", 5+rand.IntN(10)))
	w := e.runCounter(tables, 20, rand.Uint64())
	if code := p.waitExit(120 * time.Second); code != 137 {
		t.Fatalf("exit %d, want the fault point's SIGKILL (137)\n%s", code, tail(p.log.String(), 4000))
	}
	durable := e.stored()
	cr := Crash{Durable: CoordOf(durable), Reached: e.master()}
	// Let kfake finish what the dead producer had sent, then take run 1.
	before := e.read()
	p = e.start(cfg, "")
	w.waitN(t, 200)
	w.stop()
	e.caughtUp(p)
	p.stop()
	all := e.read()
	if durable.Event != 0 || durable.Row != 0 {
		t.Fatalf("durable offset %s is inside a transaction; the workload has one row per transaction", durable.String())
	}
	seen := map[string]int64{}
	for _, r := range before {
		k := fmt.Sprintf("%s/%d", r.Topic, r.Partition)
		seen[k] = max(seen[k], r.Offset+1)
	}
	var after []Record
	for _, r := range all {
		if r.Offset >= seen[fmt.Sprintf("%s/%d", r.Topic, r.Partition)] {
			after = append(after, r)
		}
	}
	n, err := CheckReplay(before, after, CoordOf(durable))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("I2: the %d changes acknowledged after the durable offset %s came again, identical; nothing before it", n, durable.String())
	e.checkCounters(all, tables, []Crash{cr})
}

// TestReliability04_CrashAroundDDL (§3 #4a): the fault point kills Rivulet
// after a DDL is durable in the schema history and before the offset past
// it is. On restart the DDL is read again but recorded once (the history is
// keyed by position), and the rows after it decode with the new column.
// (#4b, the offset written before the history, cannot happen: the engine
// records a batch's DDL before the batch can be committed, recordSchema.)
func TestReliability04_CrashAroundDDL(t *testing.T) {
	e := newEnv(t, envOpts{})
	history := filepath.Join(e.dir, "history.jsonl")
	e.srv.Exec(t, e.db, "CREATE TABLE t (id INT PRIMARY KEY, a VARCHAR(10))")
	cfg := e.config(map[string]string{
		"schema.history.internal":               "io.debezium.storage.file.history.FileSchemaHistory",
		"schema.history.internal.file.filename": history,
	})
	p := e.start(cfg, "history.recorded:1:kill")
	e.srv.Exec(t, e.db, "INSERT INTO t VALUES (1, 'a'), (2, 'b')", "ALTER TABLE t ADD COLUMN c INT NOT NULL DEFAULT 7",
		"INSERT INTO t VALUES (3, 'c', 30)", "UPDATE t SET c = 10 WHERE id = 1")
	if code := p.waitExit(60 * time.Second); code != 137 {
		t.Fatalf("exit %d, want the fault point's SIGKILL (137)\n%s", code, tail(p.log.String(), 4000))
	}
	cr := e.crash()
	p = e.start(cfg, "")
	e.srv.Exec(t, e.db, "INSERT INTO t VALUES (4, 'd', 40)")
	e.caughtUp(p)
	p.stop()
	b, err := os.ReadFile(history)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "ADD COLUMN c"); n != 1 {
		t.Errorf("the DDL is %d times in the history, want once:\n%s", n, b)
	}
	if _, err := CheckFailure(p.log.String()); err == nil || !strings.Contains(err.Error(), "no ERROR line") {
		t.Errorf("the restart logged an error: %v", err)
	}
	recs := e.read()
	e.checkTable(recs, "t", "id", "id", "a", "c")
	if _, err := CheckDuplicates(recs, []Crash{cr}); err != nil {
		t.Error(err)
	}
}

// TestReliability07_GracefulStop (§3 #7): SIGTERM under load exits 0 with
// everything acknowledged and the offset written: the restart repeats
// nothing (zero duplicates) and loses nothing.
func TestReliability07_GracefulStop(t *testing.T) {
	e := newEnv(t, envOpts{})
	tables := e.counterTables(2, 20)
	cfg := e.config(map[string]string{"offset.flush.interval.ms": "60000"}) // only the final commit writes
	p := e.start(cfg, "")
	w := e.runCounter(tables, 20, rand.Uint64())
	w.waitN(t, 500)
	start := time.Now()
	p.stop()
	figure(t, "graceful_stop_seconds", time.Since(start).Seconds(), "s")
	p = e.start(e.config(nil), "") // offsets flushed every 100 ms again, for caughtUp
	w.waitN(t, 300)
	w.stop()
	e.caughtUp(p)
	p.stop()
	if dup := e.checkCounters(e.read(), tables, nil); dup.Duplicates != 0 {
		t.Errorf("%d duplicates after a graceful stop, want none", dup.Duplicates)
	}
}

// TestReliability08_ConnectionReset (§3 #8): every connection to the
// database is reset through the proxy mid-stream. Rivulet reconnects from
// its in-memory position and counts the disconnect; nothing is lost, and
// with one row per transaction there is no partial transaction to replay,
// so nothing is repeated.
func TestReliability08_ConnectionReset(t *testing.T) {
	e := newEnv(t, envOpts{proxy: true})
	tables := e.counterTables(2, 20)
	cfg := e.config(nil)
	p := e.start(cfg, "")
	w := e.runCounter(tables, 20, rand.Uint64())
	w.waitN(t, 500)
	before := p.metric("rivulet_binlog_disconnects_total")
	cut := e.proxy.Reset()
	took := poll(t, 60*time.Second, "reconnect after the reset", func() bool {
		return p.metric("rivulet_binlog_disconnects_total") >= before+1 && p.ready()
	})
	t.Logf("reset %d proxied connections; reconnected and ready %s later", cut, took.Round(time.Millisecond))
	w.waitN(t, 500)
	w.stop()
	e.caughtUp(p)
	if d := p.metric("rivulet_binlog_disconnects_total") - before; d != 1 {
		t.Errorf("rivulet_binlog_disconnects_total rose by %v, want 1", d)
	}
	p.stop()
	if dup := e.checkCounters(e.read(), tables, nil); dup.Duplicates != 0 {
		t.Errorf("%d duplicates after a reconnect between transactions, want none", dup.Duplicates)
	}
}

// TestReliability14_KafkaOutage (§3 #14): the broker, a real Apache Kafka
// of the test's own, is killed (SIGKILL) under a counter workload and
// started again after the outage.
// Rivulet turns unready, the stored offset does not move, memory stays
// bounded by max.queue.size(.in.bytes); once the brokers are back it
// continues with nothing lost and nothing repeated (one producer session).
// The outage lasts 10 s, 60 s under make chaos (RIVULET_KAFKA_OUTAGE).
func TestReliability14_KafkaOutage(t *testing.T) {
	outage := 10 * time.Second
	if os.Getenv("RIVULET_CHAOS") != "" {
		outage = 60 * time.Second
	}
	if d, err := time.ParseDuration(os.Getenv("RIVULET_KAFKA_OUTAGE")); err == nil {
		outage = d
	}
	e := newEnv(t, envOpts{ownKafka: true})
	tables := e.counterTables(3, 50)
	cfg := e.config(map[string]string{"max.queue.size": "8192", "max.queue.size.in.bytes": "8388608"})
	p := e.start(cfg, "")
	w := e.runCounter(tables, 50, rand.Uint64())
	w.waitN(t, 500)
	rssBefore := p.status("VmRSS")

	e.kafka.KillNode(t, 1)
	down := time.Now()
	unready := poll(t, 60*time.Second, "/readyz unready during the Kafka outage", func() bool { return !p.ready() })
	figure(t, "fault_to_unready_seconds", unready.Seconds(), "s")
	held := e.stored()
	var peak int64
	for time.Since(down) < outage {
		peak = max(peak, p.status("VmRSS"))
		if p.done() {
			t.Fatalf("rivulet exited during the outage: %v\n%s", p.err, tail(p.log.String(), 4000))
		}
		time.Sleep(200 * time.Millisecond)
	}
	if now := e.stored(); CoordOf(now).Compare(CoordOf(held)) != 0 || now.Event != held.Event {
		t.Errorf("the stored offset moved during the outage: %s -> %s", held.String(), now.String())
	}
	queued := w.n.Load()
	e.kafka.StartNode(t, 1)
	back := poll(t, 120*time.Second, "/readyz ready after the outage", p.ready)
	t.Logf("outage %s: unready after %s, ready %s after the brokers came back; %d transactions written meanwhile",
		outage, unready.Round(time.Millisecond), back.Round(time.Millisecond), queued)
	figure(t, "kafka_outage_peak_rss_mib", float64(max(peak, p.status("VmHWM")))/1024, "MiB")
	figure(t, "kafka_outage_rss_before_mib", float64(rssBefore)/1024, "MiB")
	w.waitN(t, 300)
	w.stop()
	e.caughtUp(p)
	p.stop()
	if dup := e.checkCounters(e.read(), tables, nil); dup.Duplicates != 0 {
		t.Errorf("%d duplicates within one producer session, want none (idempotent producer)", dup.Duplicates)
	}
}

// TestReliability15_RollingRestart (§3 #15): three Apache Kafka nodes,
// every topic with replication factor 3 and min.insync.replicas 2. Under a
// counter workload each node in turn goes down and comes back (node 1 and 3
// with a controlled shutdown that hands their leaderships over, node 2
// killed with SIGKILL, so its leaderships move by election), the next one
// only once every replica is back in sync. No loss, per-key order kept, no
// duplicates (one idempotent producer session), no ERROR logged.
// TestReliability15_LeaderMoves (make chaos) moves kfake's leaders 20 times.
func TestReliability15_RollingRestart(t *testing.T) {
	e := newEnv(t, envOpts{ownKafka: true, kafkaNodes: 3})
	tables := e.counterTables(3, 20)
	p := e.start(e.config(nil), "")
	w := e.runCounterPaced(tables, 20, rand.Uint64(), 2*time.Millisecond)
	w.waitN(t, 300)
	moved := 0
	for id := int32(1); id <= 3; id++ {
		leading := e.leaderships(id)
		moved += leading
		if id == 2 {
			e.kafka.KillNode(t, id)
		} else {
			e.kafka.StopNode(t, id)
		}
		w.waitN(t, 200) // the workload goes on, Rivulet produces to the other two
		e.kafka.StartNode(t, id)
		took := poll(t, 120*time.Second, fmt.Sprintf("all replicas in sync after node %d restarted", id), e.replicasInSync)
		t.Logf("node %d (leader of %d partitions) down and back; in sync %s after its start; %d transactions so far",
			id, leading, took.Round(time.Millisecond), w.n.Load())
		if p.done() {
			t.Fatalf("rivulet exited while node %d restarted: %v\n%s", id, p.err, tail(p.log.String(), 4000))
		}
	}
	if moved == 0 {
		t.Error("no node led a partition of the test's topics when it went down: no leader changed")
	}
	w.waitN(t, 200)
	w.stop()
	e.caughtUp(p)
	p.stop()
	if _, err := CheckFailure(p.log.String()); err == nil || !strings.Contains(err.Error(), "no ERROR line") {
		t.Errorf("errors logged during the rolling restart: %v", err)
	}
	if dup := e.checkCounters(e.read(), tables, nil); dup.Duplicates != 0 {
		t.Errorf("%d duplicates within one producer session, want none (idempotent producer)", dup.Duplicates)
	}
}

// leaderships counts the partitions of the test's topics node id leads.
func (e *env) leaderships(id int32) int {
	n := 0
	e.eachPartition(func(p kadm.PartitionDetail) {
		if p.Leader == id {
			n++
		}
	})
	return n
}

// replicasInSync reports whether every partition of the test's topics has
// all its replicas in sync.
func (e *env) replicasInSync() bool {
	ok, seen := true, false
	e.eachPartition(func(p kadm.PartitionDetail) {
		seen = true
		if p.Err != nil || len(p.ISR) != len(p.Replicas) || p.Leader < 0 {
			ok = false
		}
	})
	return ok && seen
}

// eachPartition calls f for each partition of the topics named with the
// test's prefix; a metadata request that fails calls it for none.
func (e *env) eachPartition(f func(kadm.PartitionDetail)) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.brokers...))
	if err != nil {
		e.t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(e.t.Context(), 10*time.Second)
	defer cancel()
	md, err := kadm.NewClient(cl).Metadata(ctx)
	if err != nil {
		return
	}
	for name, td := range md.Topics {
		if !strings.HasPrefix(name, e.prefix+".") {
			continue
		}
		for _, p := range td.Partitions {
			f(p)
		}
	}
}

// TestReliability30_OffsetDiskFull (§3 #30): the offsets live on a 1 MiB
// tmpfs that fills up. The write fails, Rivulet stops with one line naming
// the failed write and never reports an offset it did not persist; the
// file keeps the last good position. After space is freed the restart
// loses nothing. Needs root (mount); skipped otherwise.
func TestReliability30_OffsetDiskFull(t *testing.T) {
	e := newEnv(t, envOpts{})
	mnt := filepath.Join(e.dir, "offsets")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (needs root): %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", mnt).Run() }) // after the process cleanups (LIFO)
	tables := e.counterTables(1, 20)
	path := filepath.Join(mnt, "offsets.json")
	cfg := e.config(map[string]string{"offset.storage.file.filename": path})
	p := e.start(cfg, "")
	w := e.runCounter(tables, 20, rand.Uint64())
	w.waitN(t, 300)

	filler, err := os.Create(filepath.Join(mnt, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 64<<10)
	for {
		if _, err := filler.Write(chunk); err != nil {
			break
		}
	}
	_ = filler.Sync()
	full := time.Now()
	code := p.waitExit(60 * time.Second)
	took := time.Since(full)
	if code == 0 {
		t.Fatalf("rivulet exited 0 with a full offsets disk")
	}
	line, err := CheckFailure(p.log.String(), "save offsets at", "no space left on device")
	if err != nil {
		t.Error(err)
	}
	t.Logf("disk full -> exit %d after %s: %s", code, took.Round(time.Millisecond), line)
	figure(t, "fault_to_error_seconds", took.Seconds(), "s")
	st := e.store(path)
	durable, ok, err := st.Load(t.Context())
	if err != nil || !ok {
		t.Fatalf("the offsets file is unreadable after the failed write: %v (found %v)", err, ok)
	}
	t.Logf("the offsets file still holds %s", durable.String())
	cr := Crash{Durable: CoordOf(durable), Reached: e.master()}

	_ = filler.Close()
	if err := os.Remove(filler.Name()); err != nil {
		t.Fatal(err)
	}
	p = e.start(cfg, "")
	w.waitN(t, 300)
	w.stop()
	poll(t, 120*time.Second, "caught up", func() bool {
		got, _, _ := st.Load(t.Context())
		return CoordOf(got).Compare(e.master()) >= 0
	})
	p.stop()
	e.checkCounters(e.read(), tables, []Crash{cr})
}
