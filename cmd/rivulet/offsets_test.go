package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/rivulet-cdc/rivulet/internal/testenv"
	"github.com/rivulet-cdc/rivulet/offsets"
)

// cli runs `rivulet args...` and returns its stdout, stderr and exit code.
func cli(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(rivuletBinary(t), args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// masterPosition is the server's current binlog position with its GTIDs.
func masterPosition(t *testing.T, srv *testenv.Server) offsets.Position {
	t.Helper()
	rows := srv.Query(t, "", "SHOW MASTER STATUS")
	pos, _ := strconv.ParseUint(rows[0][1], 10, 64)
	g := srv.Query(t, "", "SELECT @@GLOBAL.gtid_binlog_pos")
	return offsets.Position{File: rows[0][0], Pos: pos, GTIDSet: g[0][0], ServerID: srv.ServerID, TsSec: time.Now().Unix()}
}

// ids returns the sorted "after.id" of the change records (tombstones skipped).
func ids(recs []record) []int {
	var out []int
	for _, r := range recs {
		if r.Value == nil {
			continue
		}
		a, _ := payload(r.Value)["after"].(map[string]any)
		if a == nil {
			continue
		}
		out = append(out, int(a["id"].(float64)))
	}
	sort.Ints(out)
	return out
}

func seq(from, to int) []int {
	var out []int
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

func inserts(from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, fmt.Sprintf("INSERT INTO t VALUES (%d)", i))
	}
	return out
}

// TestOffsets_MigrateFromDebezium prepares what a Debezium MySQL connector
// leaves in Kafka (a Kafka Connect offsets topic with 25 partitions holding
// its position, and its schema history topic), starts rivulet with the same
// connector name and topic.prefix, and checks that it continues exactly
// there: the changes made after Debezium stopped arrive once, nothing
// before them is repeated, and no snapshot is taken.
func TestOffsets_MigrateFromDebezium(t *testing.T) {
	e := newE2E(t)
	e.srv.Exec(t, e.db, "CREATE TABLE t (id INT PRIMARY KEY)")
	e.srv.Exec(t, e.db, inserts(1, 3)...) // delivered by Debezium
	stopped := masterPosition(t, e.srv)
	e.srv.Exec(t, e.db, inserts(4, 6)...) // made while nothing ran

	adm, err := kadm.NewOptClient(kgo.SeedBrokers(e.brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	if resp, err := adm.CreateTopic(t.Context(), 25, 1, map[string]*string{"cleanup.policy": kadm.StringPtr("compact")}, e.offsetsTopic()); err != nil || resp.Err != nil {
		t.Fatalf("create the offsets topic: %v %v", err, resp.Err)
	}
	if _, err := adm.CreateTopic(t.Context(), 1, 1, nil, e.prefix+".history"); err != nil {
		t.Fatal(err)
	}
	// Produce only once the broker reports all 25 partitions: the key's
	// partition is murmur2 modulo the count the producer sees.
	waitPartitions(t, adm, e.offsetsTopic(), 25)
	// Kafka Connect's producer: murmur2 of the key modulo the topic's 25
	// partitions picks the partition. Computed here and set by hand, so the
	// test does not depend on the partition count a producer's metadata
	// shows at that instant (under load it once saw fewer).
	prod, err := kgo.NewClient(kgo.SeedBrokers(e.brokers...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	key := e.offsetsKey()
	dbzValue := fmt.Sprintf(`{"ts_sec":%d,"file":"%s","pos":%d,"gtids":"%s","server_id":%d}`,
		stopped.TsSec, stopped.File, stopped.Pos, stopped.GTIDSet, stopped.ServerID)
	history := fmt.Sprintf(`{"source":{"server":"%s"},"position":{"ts_sec":%d,"file":"%s","pos":%d,"gtids":"%s","snapshot":"INITIAL"},"ts_ms":%d,"databaseName":"%s","ddl":"CREATE TABLE t (id INT PRIMARY KEY)","tableChanges":[{"type":"CREATE","id":"\"%s\".\"t\"","table":{"defaultCharsetName":"utf8mb4","primaryKeyColumnNames":["id"],"columns":[{"name":"id","jdbcType":4,"typeName":"INT","typeExpression":"INT","charsetName":null,"position":1,"optional":false,"autoIncremented":false,"generated":false,"comment":null,"hasDefaultValue":false,"enumValues":[]}],"attributes":[]},"comment":null}]}`,
		e.prefix, stopped.TsSec, stopped.File, stopped.Pos, stopped.GTIDSet, time.Now().UnixMilli(), e.db, e.db)
	connect := func(k, v string) *kgo.Record {
		r := &kgo.Record{Topic: e.offsetsTopic(), Key: []byte(k), Value: []byte(v)}
		r.Partition = int32(kgo.StickyKeyPartitioner(nil).ForTopic(e.offsetsTopic()).Partition(r, 25))
		return r
	}
	dbzRecord := connect(key, dbzValue)
	res := prod.ProduceSync(t.Context(),
		connect(`["other-connector",{"server":"`+e.prefix+`"}]`, `{"file":"mysql-bin.000001","pos":4}`),
		connect(key, `{"ts_sec":1,"file":"mysql-bin.000001","pos":4,"snapshot":"INITIAL"}`),
		dbzRecord,
		&kgo.Record{Topic: e.prefix + ".history", Value: []byte(history)},
	)
	if err := res.FirstErr(); err != nil {
		t.Fatal(err)
	}
	// Not res[2]: ProduceSync lists results in the order the brokers
	// acknowledged them, which a real broker does per partition.
	dbzPartition := dbzRecord.Partition

	cfg := e.config(t, e.kafkaOffsets())
	in := e.start(t, cfg)
	e.srv.Exec(t, e.db, inserts(7, 8)...) // live after the switch
	topic := e.prefix + "." + e.db + ".t"
	recs := consume(t, e.brokers, 5, topic)
	in.stop()
	if got := ids(recs); !equalInts(got, seq(4, 8)) {
		t.Fatalf("after migrating from Debezium's offsets, ids = %v, want %v (nothing before its position, nothing lost)", got, seq(4, 8))
	}
	if strings.Contains(in.log.String(), "no stored position") {
		t.Errorf("rivulet did not find Debezium's position:\n%s", in.log.String())
	}

	// Rivulet's own record replaced Debezium's in place: same key bytes,
	// same partition, a value Debezium reads.
	cons, err := kgo.NewClient(kgo.SeedBrokers(e.brokers...), kgo.ConsumeTopics(e.offsetsTopic()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	ends, err := adm.ListCommittedOffsets(t.Context(), e.offsetsTopic())
	if err != nil {
		t.Fatal(err)
	}
	end, _ := ends.Lookup(e.offsetsTopic(), dbzPartition)
	var last *kgo.Record
	pollCtx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	for last == nil || last.Offset < end.Offset-2 {
		fs := cons.PollFetches(pollCtx)
		if pollCtx.Err() != nil {
			t.Fatalf("offsets topic: no record for %s up to offset %d", key, end.Offset)
		}
		fs.EachRecord(func(r *kgo.Record) {
			if string(r.Key) == key {
				if r.Partition != dbzPartition {
					t.Errorf("rivulet wrote the key to partition %d, Debezium's is in %d", r.Partition, dbzPartition)
				}
				last = r
			}
		})
	}
	p, err := offsets.UnmarshalValue(last.Value)
	if err != nil {
		t.Fatalf("rivulet's offset value %s: %v", last.Value, err)
	}
	if p.File == stopped.File && p.Pos == stopped.Pos {
		t.Errorf("stored position did not move past Debezium's: %s", p)
	}
	t.Logf("rivulet's offsets record: %s %s (partition %d)", last.Key, last.Value, last.Partition)

	// Restarting continues from rivulet's own record: nothing repeats.
	e.srv.Exec(t, e.db, inserts(9, 9)...)
	in = e.start(t, cfg)
	recs = consume(t, e.brokers, 6, topic)
	in.stop()
	if got := ids(recs); !equalInts(got, seq(4, 9)) {
		t.Fatalf("after a restart on rivulet's own offsets, ids = %v, want %v", got, seq(4, 9))
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestOffsets_OneWriter starts a second process for a running connector:
// it is refused, with the Kafka store (lease) and with the file store (lock),
// and so are `offsets set` and `offsets reset`.
func TestOffsets_OneWriter(t *testing.T) {
	for _, tc := range []struct {
		name  string
		kafka bool
	}{{"file", false}, {"kafka", true}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newE2E(t)
			var extra map[string]string
			if tc.kafka {
				extra = e.kafkaOffsets()
			}
			cfg := e.config(t, extra)
			a := e.start(t, cfg)

			// A second `run` with another metrics port.
			second := filepath.Join(e.dir, "second.json")
			b, _ := os.ReadFile(cfg)
			b = bytes.Replace(b, []byte(a.metrics), []byte(fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))), 1)
			if err := os.WriteFile(second, b, 0o600); err != nil {
				t.Fatal(err)
			}
			_, stderr, code := cli(t, "run", "--config", second)
			if code == 0 || !strings.Contains(stderr, "offsets locked by another process") {
				t.Fatalf("second instance: exit %d, want a refusal naming the lock:\n%s", code, stderr)
			}
			t.Logf("second instance refused: %s", lastLine(stderr))

			edits := [][]string{{"set", "--gtids", "0-1-1"}, {"reset"}}
			if tc.name == "kafka" {
				edits = edits[:1] // each waits out the lease timeout before refusing
			}
			for _, args := range edits {
				out, stderr, code := cli(t, append([]string{"offsets", args[0], "--config", cfg}, args[1:]...)...)
				if code == 0 || !strings.Contains(stderr, "refusing to change the offsets while the connector runs") {
					t.Fatalf("offsets %v while running: exit %d, want a refusal:\n%s%s", args, code, out, stderr)
				}
			}
			a.stop()
		})
	}
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// TestOffsets_ShowSetReset drives `rivulet offsets` on a stopped connector:
// show, skip one poison transaction, set by time, reset.
func TestOffsets_ShowSetReset(t *testing.T) {
	e := newE2E(t)
	e.srv.Exec(t, e.db, "CREATE TABLE t (id INT PRIMARY KEY)")
	cfg := e.config(t, e.kafkaOffsets())
	topic := e.prefix + "." + e.db + ".t"
	in := e.start(t, cfg)
	e.srv.Exec(t, e.db, inserts(1, 2)...)
	consume(t, e.brokers, 2, topic)
	in.stop()

	out, stderr, code := cli(t, "offsets", "show", "--config", cfg)
	if code != 0 || !strings.Contains(out, "key:      "+e.offsetsKey()) || !strings.Contains(out, "position: mysql-bin.") {
		t.Fatalf("offsets show: exit %d\n%s%s", code, out, stderr)
	}
	t.Logf("offsets show:\n%s", out)

	// A poison transaction, then a good one: skip exactly the first.
	e.srv.Exec(t, e.db, "BEGIN", "INSERT INTO t VALUES (100)", "INSERT INTO t VALUES (101)", "COMMIT")
	e.srv.Exec(t, e.db, inserts(3, 3)...)
	dry, _, code := cli(t, "offsets", "set", "--config", cfg, "--skip", "1", "--dry-run")
	if code != 0 || !strings.Contains(dry, "transaction (2 rows events)") || !strings.Contains(dry, "dry run: nothing written") {
		t.Fatalf("offsets set --skip 1 --dry-run: exit %d\n%s", code, dry)
	}
	if again, _, _ := cli(t, "offsets", "show", "--config", cfg); !strings.Contains(again, strings.Split(strings.Split(out, "position: ")[1], "\n")[0]) {
		t.Fatalf("a dry run changed the position:\nbefore\n%s\nafter\n%s", out, again)
	}
	set, stderr, code := cli(t, "offsets", "set", "--config", cfg, "--skip", "1")
	if code != 0 || !strings.Contains(set, "written to kafka topic "+e.offsetsTopic()) {
		t.Fatalf("offsets set --skip 1: exit %d\n%s%s", code, set, stderr)
	}
	t.Logf("offsets set --skip 1:\n%s", set)
	in = e.start(t, cfg)
	recs := consume(t, e.brokers, 3, topic)
	in.stop()
	// Delivery is at least once: a stop right after a record may repeat it
	// on the next start, so the checks below are on the distinct ids.
	if got := distinct(ids(recs)); !equalInts(got, []int{1, 2, 3}) {
		t.Fatalf("after skipping the poison transaction, ids = %v, want [1 2 3]", ids(recs))
	}

	// Set by time: everything committed from that time on is read again.
	// Event timestamps have second precision: 4 before the second at, 5 in it.
	in = e.start(t, cfg)
	e.srv.Exec(t, e.db, "INSERT INTO t VALUES (4)")
	atTime := time.Now().Truncate(time.Second).Add(time.Second)
	time.Sleep(time.Until(atTime))
	e.srv.Exec(t, e.db, "INSERT INTO t VALUES (5)")
	consume(t, e.brokers, 5, topic)
	in.stop()
	at := atTime.UTC().Format(time.RFC3339)
	set, stderr, code = cli(t, "offsets", "set", "--config", cfg, "--time", at)
	if code != 0 {
		t.Fatalf("offsets set --time: exit %d\n%s%s", code, set, stderr)
	}
	t.Logf("offsets set --time %s:\n%s", at, set)
	in = e.start(t, cfg)
	fives := func(r []record) int {
		n := 0
		for _, id := range ids(r) {
			if id == 5 {
				n++
			}
		}
		return n
	}
	recs = consumeUntil(t, e.brokers, func(r []record) bool { return fives(r) >= 2 }, topic)
	in.stop()
	if got := distinct(ids(recs)); !equalInts(got, []int{1, 2, 3, 4, 5}) || fives(recs) < 2 {
		t.Fatalf("after set --time, ids = %v, want 1..5 with 5 read again", ids(recs))
	}

	// Reset: the position is gone.
	if out, stderr, code := cli(t, "offsets", "reset", "--config", cfg); code != 0 || !strings.Contains(out, "deleted:") {
		t.Fatalf("offsets reset: exit %d\n%s%s", code, out, stderr)
	}
	if out, _, _ := cli(t, "offsets", "show", "--config", cfg); !strings.Contains(out, "value:    none") {
		t.Fatalf("offsets show after reset:\n%s", out)
	}
	if _, stderr, code := cli(t, "offsets", "set", "--config", cfg, "--file", "x"); code != exitUsage {
		t.Errorf("--file without --pos: exit %d, want %d\n%s", code, exitUsage, stderr)
	}
}

// TestOffsets_PurgedWhileStopped purges the binlogs a stopped connector
// needs: the restart fails with the stored position, the server's earliest
// and the remedy, and never resumes silently.
func TestOffsets_PurgedWhileStopped(t *testing.T) {
	srv := testenv.StartMariaDB(t)
	e := newE2EOn(t, srv)
	e.srv.Exec(t, e.db, "CREATE TABLE t (id INT PRIMARY KEY)")
	cfg := e.config(t, nil)
	in := e.start(t, cfg)
	e.srv.Exec(t, e.db, inserts(1, 1)...)
	consume(t, e.brokers, 1, e.prefix+"."+e.db+".t")
	in.stop()
	for i := 2; i <= 4; i++ {
		e.srv.Exec(t, e.db, "FLUSH BINARY LOGS", fmt.Sprintf("INSERT INTO t VALUES (%d)", i))
	}
	first := masterPosition(t, e.srv).File
	deadline := time.Now().Add(30 * time.Second)
	for srv.Query(t, "", "SHOW BINARY LOGS")[0][0] != first {
		if time.Now().After(deadline) {
			t.Fatal("binlogs not purged")
		}
		e.srv.Exec(t, "", "PURGE BINARY LOGS TO '"+first+"'")
		time.Sleep(100 * time.Millisecond)
	}
	_, stderr, code := cli(t, "run", "--config", cfg)
	if code == 0 || !strings.Contains(stderr, "older than the server's binlogs") || !strings.Contains(stderr, first) ||
		!strings.Contains(stderr, "rivulet offsets reset") {
		t.Fatalf("start after PURGE: exit %d, want a refusal naming the earliest file %s and the remedy:\n%s", code, first, stderr)
	}
	t.Logf("refused: %s", lastLine(stderr))
}

// TestOffsets_FailoverToReplica runs rivulet on a MariaDB primary with a
// GTID replica (MASTER_USE_GTID=slave_pos). Pointed at the replica while it
// lags behind the stored position, rivulet refuses; once the replica caught
// up and the primary died, it continues there with nothing lost or repeated.
func TestOffsets_FailoverToReplica(t *testing.T) {
	primary := testenv.StartMariaDB(t)
	replica := testenv.StartMariaDB(t, testenv.WithServerID(2))
	k := primary.Query(t, "", "SELECT @@GLOBAL.gtid_binlog_pos")[0][0]
	replica.Exec(t, "",
		"SET GLOBAL gtid_slave_pos = '"+k+"'",
		fmt.Sprintf("CHANGE MASTER TO MASTER_HOST='%s', MASTER_PORT=%d, MASTER_USER='%s', MASTER_PASSWORD='%s', MASTER_USE_GTID=slave_pos",
			primary.Host, primary.Port, primary.User, primary.Password),
		"START SLAVE")
	e := newE2EOn(t, primary)
	caughtUp := func(n int) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		c := replica.Conn(t, "")
		defer c.Close()
		for {
			got := int64(-1)
			if r, err := c.Execute("SELECT COUNT(*) FROM " + e.db + ".t"); err == nil { // the table may not be there yet
				got, _ = r.GetInt(0, 0)
				r.Close()
			}
			if got == int64(n) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("replica has %d rows, want %d; slave status: %v", got, n, replica.Query(t, "", "SHOW SLAVE STATUS"))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	topic := e.prefix + "." + e.db + ".t"
	e.srv.Exec(t, e.db, "CREATE TABLE t (id INT PRIMARY KEY)")
	e.srv.Exec(t, e.db, inserts(1, 3)...)
	caughtUp(3)
	replica.Exec(t, "", "STOP SLAVE")

	onPrimary := e.config(t, nil)
	in := e.start(t, onPrimary)
	e.srv.Exec(t, e.db, inserts(4, 5)...) // streaming starts at the end: 1-3 are not read (snapshot.mode=no_data)
	consume(t, e.brokers, 2, topic)
	in.stop()

	// The replica lags behind the stored position: refused, not read from
	// a wrong place.
	e.srv = replica
	onReplica := e.config(t, nil)
	_, stderr, code := cli(t, "run", "--config", onReplica)
	if code == 0 || !strings.Contains(stderr, "has not executed transactions the stored position") {
		t.Fatalf("start on a lagging replica: exit %d, want a refusal:\n%s", code, stderr)
	}
	t.Logf("lagging replica refused: %s", lastLine(stderr))

	// Catch up, more changes on the primary, then the primary dies.
	replica.Exec(t, "", "START SLAVE")
	primary.Exec(t, e.db, inserts(6, 8)...)
	caughtUp(8)
	primary.Kill(t)
	replica.Exec(t, "", "STOP SLAVE")

	in = e.start(t, onReplica)
	replica.Exec(t, e.db, inserts(9, 10)...)
	recs := consume(t, e.brokers, 7, topic)
	in.stop()
	if got := ids(recs); !equalInts(got, seq(4, 10)) {
		t.Fatalf("after failover to the replica, ids = %v, want %v (nothing lost or repeated)", got, seq(4, 10))
	}
}

// TestOffsets_Heartbeats: with heartbeat.interval.ms, Debezium-shaped
// heartbeat records reach __debezium-heartbeat.<prefix>, and while the
// captured table is idle and other tables are written, the stored position
// keeps up with the binlog.
func TestOffsets_Heartbeats(t *testing.T) {
	e := newE2E(t)
	e.srv.Exec(t, e.db, "CREATE TABLE t (id INT PRIMARY KEY)")
	other := e.db + "_other"
	e.srv.Exec(t, "", "CREATE DATABASE "+other, "CREATE TABLE "+other+".busy (id INT PRIMARY KEY)")
	t.Cleanup(func() { e.srv.Exec(t, "", "DROP DATABASE IF EXISTS "+other) })
	cfg := e.config(t, map[string]string{"heartbeat.interval.ms": "200"})
	in := e.start(t, cfg)

	var busy []string
	for i := range 20 {
		busy = append(busy, fmt.Sprintf("INSERT INTO %s.busy VALUES (%d)", other, i))
	}
	e.srv.Exec(t, "", busy...)
	want := masterPosition(t, e.srv)

	recs := consume(t, e.brokers, 2, "__debezium-heartbeat."+e.prefix)
	wantKey := `{"schema":{"type":"struct","fields":[{"type":"string","optional":false,"field":"serverName"}],"optional":false,"name":"io.debezium.connector.common.ServerNameKey","version":1},"payload":{"serverName":"` + e.prefix + `"}}`
	if string(recs[0].RawKey) != wantKey {
		t.Errorf("heartbeat key = %s, want %s", recs[0].RawKey, wantKey)
	}
	v := recs[0].Value
	sch, _ := v["schema"].(map[string]any)
	ts, _ := payload(v)["ts_ms"].(float64)
	if sch["name"] != "io.debezium.connector.common.Heartbeat" || ts < float64(time.Now().Add(-time.Minute).UnixMilli()) {
		t.Errorf("heartbeat value = %s", recs[0].RawVal)
	}

	// The stored position follows the uncaptured writes.
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, _, _ := cli(t, "offsets", "show", "--config", cfg)
		if strings.Contains(out, fmt.Sprintf("position: %s:%d ", want.File, want.Pos)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stored position did not reach %s:%d while the captured table was idle:\n%s", want.File, want.Pos, out)
		}
		time.Sleep(200 * time.Millisecond)
	}
	in.stop()
}

// waitPartitions waits until the topic's metadata shows n partitions.
func waitPartitions(t *testing.T, adm *kadm.Client, topic string, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		td, err := adm.ListTopics(t.Context(), topic)
		if err == nil {
			if d, ok := td[topic]; ok && d.Err == nil && len(d.Partitions) == n {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("topic %s does not show %d partitions after 30s: %v %v", topic, n, td, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// distinct returns the sorted ids without repeats.
func distinct(ids []int) []int {
	var out []int
	for i, id := range ids {
		if i == 0 || id != ids[i-1] {
			out = append(out, id)
		}
	}
	return out
}
