package differential

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/rivulet-cdc/rivulet/internal/testenv"
	"github.com/rivulet-cdc/rivulet/offsets"
)

// TestTakeover_Connect is the README's migration ("Migrating from
// Debezium") against Debezium's own output: Debezium 3.6.1's MariaDB
// connector runs in Kafka Connect on the real Apache Kafka broker, either
// standalone (offsets in the worker's offsets file) or distributed (offsets
// in the worker's offsets topic), the schema history in a Kafka topic,
// through an initial snapshot and a first part of the workload; then
// Rivulet runs with the same connector configuration and the worker's
// properties (--worker), continues from Debezium's offsets and history
// through a second part with a DDL, and writes its position back where the
// worker keeps it, from which Debezium takes over again.
//
//   - clean_stop: the worker is stopped (SIGTERM: its tasks commit their
//     offsets). Every change of both parts is in the topics exactly once, in
//     order per key.
//   - sigkill: the worker is stopped, started again, runs a further part and
//     is killed (SIGKILL) before it commits (offset.flush.interval.ms is an
//     hour, so only the stop committed). Every change is in the topics at
//     least once, in order per key; the only duplicates are the records
//     Debezium produced after its committed offset (counted and checked
//     against that offset), which Rivulet produces again.
//
// In both, Rivulet's records after the switch are compared record by record
// with what Debezium itself produces from the same offsets and history (its
// embedded engine, run afterwards on copies of them), as the rest of the
// suite compares.
func TestTakeover_Connect(t *testing.T) {
	srv := testenv.MariaDB(t)
	k := testenv.ApacheKafka(t)
	for _, distributed := range []bool{false, true} {
		for _, kill := range []bool{false, true} {
			name := map[bool]string{false: "standalone", true: "distributed"}[distributed] + "/" +
				map[bool]string{false: "clean_stop", true: "sigkill"}[kill]
			t.Run(name, func(t *testing.T) {
				if !full() && kill {
					t.Skip("fast subset: RIVULET_DIFFERENTIAL=full runs the SIGKILL takeovers too (make differential)")
				}
				takeover(t, srv, k, distributed, kill)
			})
		}
	}
}

// workload writes rows of tables whose columns are (id, v, n) and knows the
// change records Debezium's envelope should carry for them, per key in order.
type workload struct {
	t   *testing.T
	srv *testenv.Server
	db  string
	n   int                    // last n written; every write sets a new one
	row map[string]map[int]int // table -> id -> n of the rows that exist
	// want are the expected changes in commit order.
	want []change
}

// change identifies one record of a table topic: the table, the op ("r",
// "c", "u", "d", or "t" for the tombstone after a delete), the key's id and
// the n of the row image (after; before for a delete; none for a tombstone).
type change struct {
	table string
	op    string
	id    int
	n     int
}

func (c change) String() string { return fmt.Sprintf("%s %s id=%d n=%d", c.table, c.op, c.id, c.n) }

func (w *workload) next() int { w.n++; return w.n }

// insert returns the statement inserting (id, n) into table and records its change.
func (w *workload) insert(table string, id int, op string) string {
	n := w.next()
	if w.row[table] == nil {
		w.row[table] = map[int]int{}
	}
	w.row[table][id] = n
	w.want = append(w.want, change{table, op, id, n})
	return fmt.Sprintf("INSERT INTO %s (id, v, n) VALUES (%d, 'v%d', %d)", table, id, n, n)
}

func (w *workload) update(table string, id int) string {
	n := w.next()
	w.row[table][id] = n
	w.want = append(w.want, change{table, "u", id, n})
	return fmt.Sprintf("UPDATE %s SET n = %d, v = 'u%d' WHERE id = %d", table, n, n, id)
}

func (w *workload) delete(table string, id int) string {
	w.want = append(w.want, change{table, "d", id, w.row[table][id]}, change{table, "t", id, 0})
	delete(w.row[table], id)
	return fmt.Sprintf("DELETE FROM %s WHERE id = %d", table, id)
}

// rekey changes a row's primary key: Debezium's delete, tombstone and create.
func (w *workload) rekey(table string, id, to int) string {
	n := w.next()
	w.want = append(w.want, change{table, "d", id, w.row[table][id]}, change{table, "t", id, 0}, change{table, "c", to, n})
	delete(w.row[table], id)
	w.row[table][to] = n
	return fmt.Sprintf("UPDATE %s SET id = %d, n = %d WHERE id = %d", table, to, n, id)
}

// exec runs statements, one session.
func (w *workload) exec(stmts ...string) { w.srv.Exec(w.t, w.db, stmts...) }

// part runs a mixed batch of changes on t and u, autocommitted or in one
// transaction per call of exec.
func (w *workload) part(base int) {
	w.exec(w.insert("t", base+1, "c"), w.insert("t", base+2, "c"), w.insert("u", base+1, "c"))
	w.exec(w.update("t", base+1))
	w.exec(w.rekey("t", base+2, base+3))
	w.exec("BEGIN", w.insert("u", base+2, "c"), w.update("u", base+1), w.delete("t", base+1), "COMMIT")
	w.exec(w.update("t", base+3))
}

func takeover(t *testing.T, srv *testenv.Server, k *testenv.KRaftCluster, distributed, kill bool) {
	reference(t)
	w := &workload{t: t, srv: srv, db: srv.Database(t), row: map[string]map[int]int{}}
	pfx := testenv.TopicPrefix(t)
	historyTopic := pfx + ".history"
	for _, tb := range []string{"t", "u"} {
		w.exec(fmt.Sprintf("CREATE TABLE %s (id INT PRIMARY KEY, v VARCHAR(20), n INT)", tb))
	}
	w.exec("CREATE TABLE " + markerTable + " (id INT PRIMARY KEY)")
	w.exec(w.insert("t", 1, "r"), w.insert("t", 2, "r"), w.insert("u", 1, "r"))

	connector := "io.debezium.connector.mariadb.MariaDbConnector"
	var classpath []string
	if javaBuild.mysql {
		connector = "io.debezium.connector.mysql.MySqlConnector"
	} else {
		classpath = javaBuild.jars[:1] // the MariaDB connector and its driver
	}
	serverIDs.next += 3
	dbzID, rivID, replayID := serverIDs.next, serverIDs.next+1, serverIDs.next+2
	conn := map[string]string{
		"name":                  "dbz",
		"connector.class":       connector,
		"tasks.max":             "1",
		"database.hostname":     srv.Host,
		"database.port":         strconv.Itoa(srv.Port),
		"database.user":         srv.User,
		"database.password":     srv.Password,
		"database.server.id":    strconv.FormatUint(uint64(dbzID), 10),
		"topic.prefix":          pfx,
		"database.include.list": w.db,
		"schema.history.internal.kafka.bootstrap.servers": strings.Join(k.Brokers(), ","),
		"schema.history.internal.kafka.topic":             historyTopic,
	}
	if javaBuild.mysql {
		conn["driver.propertiesTransform"] = testenv.MariaDBShim
	}
	worker := testenv.StartConnect(t, testenv.ConnectConfig{
		Brokers:     k.Brokers(),
		Distributed: distributed,
		Classpath:   classpath,
		Connectors:  []map[string]string{conn},
		// Only a stop commits offsets: what a killed worker produced after
		// its last stop is exactly its uncommitted tail.
		Worker: map[string]string{"offset.flush.interval.ms": "3600000"},
	})
	rd := newTopicReader(t, k.Brokers(), pfx, historyTopic)

	// Part 1, streamed by Debezium once its snapshot is in Kafka.
	markers := 0
	marker := func() int {
		markers++
		w.exec(fmt.Sprintf("INSERT INTO %s VALUES (%d)", markerTable, markers))
		return markers
	}
	rd.waitFor(t, "Debezium's snapshot", worker, func(recs []Record) bool { return countReads(recs) >= 3 })
	w.part(100)
	m := marker()
	rd.waitFor(t, "Debezium's part 1", worker, markerSeen(w.db, m))
	worker.Stop(t)
	committedAt := len(rd.read(t))
	var tail []Record
	if kill {
		worker.Start(t)
		w.part(200)
		m = marker()
		rd.waitFor(t, "Debezium's part 1b", worker, markerSeen(w.db, m))
		worker.Kill(t)
		tail = slices.Clone(rd.read(t)[committedAt:])
	}
	atSwitch := slices.Clone(rd.read(t))
	t.Logf("Debezium wrote %d records, %d of them after its committed offset", len(atSwitch), len(tail))

	// What Debezium left: its offsets (read by Rivulet's own reader) and history.
	dir := t.TempDir()
	var replayOffsets map[string]string // the replay's offset store: a copy of Debezium's
	var committed offsets.Position
	var ok bool
	var err error
	if distributed {
		committed, ok, err = loadKafkaOffsets(t, k.Brokers(), worker.OffsetsTopic, pfx)
		replayOffsets = copyOffsetsTopic(t, k.Brokers(), worker.OffsetsTopic, pfx+"-replay-offsets")
	} else {
		copyFile(t, worker.OffsetsFile, filepath.Join(dir, "dbz-offsets.dat"))
		committed, ok, err = offsets.NewFileStore(filepath.Join(dir, "dbz-offsets.dat"), "dbz", pfx).Load(t.Context())
		replayOffsets = map[string]string{
			"offset.storage":               "org.apache.kafka.connect.storage.FileOffsetBackingStore",
			"offset.storage.file.filename": filepath.Join(dir, "dbz-offsets.dat"),
		}
	}
	if err != nil || !ok {
		t.Fatalf("Debezium's offsets: %v, found %v", err, ok)
	}
	t.Logf("Debezium's committed offset: %s", committed)
	historyCopy := filepath.Join(dir, "dbz-history.dat")
	writeHistory(t, k.Brokers(), historyTopic, historyCopy)
	checkTail(t, committed, atSwitch[:committedAt], tail)

	// Rivulet takes over: the same connector, the worker's properties.
	rconn := maps.Clone(conn)
	rconn["database.server.id"] = strconv.FormatUint(uint64(rivID), 10)
	rconn["metrics.listen"] = fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	workerProps := filepath.Join(worker.Dir, "worker.properties")
	rconf := writeConnector(t, dir, rconn)
	// README step 4: `rivulet offsets show` prints Debezium's position.
	out, err := exec.Command(testenv.Rivulet(t), "offsets", "show", "--config", rconf, "--worker", workerProps).CombinedOutput()
	if err != nil || !strings.Contains(string(out), fmt.Sprintf(`"file":"%s","pos":%d`, committed.File, committed.Pos)) {
		t.Errorf("rivulet offsets show: %v, want Debezium's position %s:\n%s", err, committed, out)
	}
	riv := startTakeover(t, rconf, workerProps)
	partTwo := func() {
		w.part(300)
		w.exec("ALTER TABLE t ADD COLUMN w INT DEFAULT 7 AFTER v")
		w.exec(w.insert("t", 401, "c"), w.update("t", 103))
		w.exec("BEGIN", w.update("u", 302), w.rekey("t", 401, 402), "COMMIT")
	}
	partTwo()
	m = marker()
	rd.waitFor(t, "Rivulet's part 2", nil, markerSeen(w.db, m))
	riv.stop(t)
	if log := riv.log.String(); !strings.Contains(log, "resuming from stored position") || strings.Contains(log, "no stored position") {
		t.Errorf("rivulet did not resume from Debezium's offsets:\n%s", log)
	}
	all := slices.Clone(rd.read(t))
	rivRecs := all[len(atSwitch):]

	// Every change once (clean stop) or, after the kill, the tail twice
	// and nothing else; per key in order.
	checkChanges(t, w.want, all, tail)

	// Rivulet's records equal what Debezium produces from the same
	// offsets and history.
	replay := replayDebezium(t, dir, conn, replayID, replayOffsets, historyCopy, w.db, m)
	t.Logf("after the switch: Rivulet wrote %d records, Debezium's replay from the same offsets %d", len(rivRecs), len(replay))
	reportDiffs(t, "records after the switch", compareRecords(pfx, replay, rivRecs))

	if kill {
		return
	}
	// Rolling back: the worker reads Rivulet's position from its file and
	// continues there, repeating nothing.
	worker.Start(t)
	w.exec(w.insert("u", 500, "c"))
	m = marker()
	rd.waitFor(t, "Debezium after Rivulet", worker, markerSeen(w.db, m))
	worker.Stop(t)
	checkChanges(t, w.want, rd.read(t), nil)
}

// checkTail checks the records Debezium produced after its committed offset
// against that offset: each carries a GTID the offset does not hold, and
// every streamed record before them one it holds (or the transaction in
// progress at the offset, whose events and rows it says to skip).
func checkTail(t *testing.T, committed offsets.Position, before, tail []Record) {
	t.Helper()
	if javaBuild.mysql {
		return // the MySqlConnector sets no GTID on MariaDB (README)
	}
	domain, server, seq, ok := mariaGTID(committed.GTIDSet)
	if !ok {
		t.Fatalf("committed offset %s: no single MariaDB GTID", committed)
	}
	in := func(r Record) (string, bool) {
		g := payloadOf(r.Value)["source"].(map[string]any)["gtid"]
		gs, _ := g.(string)
		d, s, n, ok := mariaGTID(gs)
		inProgress := n == seq+1 && (committed.Event > 0 || committed.Row > 0)
		return gs, ok && d == domain && s == server && (n <= seq || inProgress)
	}
	for _, r := range before {
		if r.Value == nil || !isTableTopic(r.Topic) || opOf(r) == "r" {
			continue
		}
		if g, ok := in(r); !ok {
			t.Errorf("record %s %s with GTID %s, before the kill's tail, is not covered by the committed offset %s", r.Topic, clip(r.Key), g, committed)
		}
	}
	for _, r := range tail {
		if r.Value == nil || !isTableTopic(r.Topic) {
			continue
		}
		if g, ok := in(r); ok {
			t.Errorf("tail record %s %s with GTID %s is covered by the committed offset %s: it should not be produced again", r.Topic, clip(r.Key), g, committed)
		}
	}
}

// mariaGTID parses one MariaDB GTID domain-server-seq.
func mariaGTID(s string) (domain, server, seq uint64, ok bool) {
	p := strings.Split(s, "-")
	if len(p) != 3 {
		return 0, 0, 0, false
	}
	var err [3]error
	domain, err[0] = strconv.ParseUint(p[0], 10, 32)
	server, err[1] = strconv.ParseUint(p[1], 10, 32)
	seq, err[2] = strconv.ParseUint(p[2], 10, 64)
	return domain, server, seq, err[0] == nil && err[1] == nil && err[2] == nil
}

var tableTopic = regexp.MustCompile(`\.(t|u)$`)

func isTableTopic(topic string) bool { return tableTopic.MatchString(topic) }

func payloadOf(b []byte) map[string]any {
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return nil
	}
	if p, ok := m["payload"].(map[string]any); ok {
		return p
	}
	return m
}

func opOf(r Record) string { s, _ := payloadOf(r.Value)["op"].(string); return s }

// changesOf returns the change of every record of the tables' topics.
func changesOf(t *testing.T, recs []Record) []change {
	t.Helper()
	var out []change
	for _, r := range recs {
		if !isTableTopic(r.Topic) {
			continue
		}
		table := tableOf(r.Topic)
		id, ok := payloadOf(r.Key)["id"].(float64)
		if !ok {
			t.Fatalf("record of %s without an id key: %s", r.Topic, r.Key)
		}
		if r.Value == nil {
			out = append(out, change{table, "t", int(id), 0})
			continue
		}
		p := payloadOf(r.Value)
		op, _ := p["op"].(string)
		img, _ := p["after"].(map[string]any)
		if op == "d" {
			img, _ = p["before"].(map[string]any)
		}
		n, _ := img["n"].(float64)
		out = append(out, change{table, op, int(id), int(n)})
	}
	return out
}

// checkChanges checks that the topics hold every wanted change, per key in
// the wanted order, once; dup are records produced twice (a killed
// Debezium's uncommitted tail), and each of their changes must be there
// twice, the second time at the place the first would have been.
func checkChanges(t *testing.T, want []change, got, dup []Record) {
	t.Helper()
	key := func(c change) string { return c.table + "/" + strconv.Itoa(c.id) }
	perKey := func(cs []change) map[string][]change {
		m := map[string][]change{}
		for _, c := range cs {
			m[key(c)] = append(m[key(c)], c)
		}
		return m
	}
	gotCh := changesOf(t, got)
	// Remove the first occurrence of each duplicated change: what is left
	// must be the wanted stream.
	dups := changesOf(t, dup)
	count := map[change]int{}
	for _, c := range gotCh {
		count[c]++
	}
	for _, c := range dups {
		if count[c] != 2 {
			t.Errorf("change %v of the uncommitted tail is in the topics %d times, want 2 (Debezium's and Rivulet's)", c, count[c])
		}
	}
	if len(dup) > 0 {
		t.Logf("%d changes of Debezium's uncommitted tail produced again by Rivulet", len(dups))
	}
	drop := map[change]int{}
	for _, c := range dups {
		drop[c]++
	}
	var kept []change
	for _, c := range gotCh {
		if drop[c] > 0 {
			drop[c]--
			continue
		}
		kept = append(kept, c)
	}
	wk, gk := perKey(want), perKey(kept)
	for _, k := range slices.Sorted(maps.Keys(wk)) {
		if !slices.Equal(wk[k], gk[k]) {
			t.Errorf("key %s: changes in the topics\n  got  %v\n  want %v", k, gk[k], wk[k])
		}
	}
	for _, k := range slices.Sorted(maps.Keys(gk)) {
		if _, ok := wk[k]; !ok {
			t.Errorf("key %s: unexpected changes %v", k, gk[k])
		}
	}
	if len(kept) != len(want) {
		t.Errorf("%d changes in the topics (less %d duplicates), want %d", len(kept), len(dups), len(want))
	}
}

// topicReader reads the connector's topics (the table topics and the schema
// change topic; not the history) from the start, per partition in order.
type topicReader struct {
	cl      *kgo.Client
	adm     *kadm.Client
	topics  *regexp.Regexp
	history string
	recs    []Record
}

func newTopicReader(t *testing.T, brokers []string, pfx, history string) *topicReader {
	t.Helper()
	re := regexp.MustCompile(`^` + regexp.QuoteMeta(pfx) + `(\..+)?$`)
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeRegex(), kgo.ConsumeTopics(re.String()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100*time.Millisecond),
		kgo.MetadataMinAge(100*time.Millisecond), kgo.MetadataMaxAge(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return &topicReader{cl: cl, adm: kadm.NewClient(cl), topics: re, history: history}
}

// read consumes until every topic's end offsets (as of the call) are read
// and returns all records so far.
func (r *topicReader) read(t *testing.T) []Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	ends, err := r.adm.ListEndOffsets(ctx)
	if err != nil {
		t.Fatalf("list end offsets: %v", err)
	}
	want := map[string]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err == nil && r.topics.MatchString(o.Topic) && o.Topic != r.history {
			want[o.Topic] += o.Offset
		}
	})
	for {
		got := map[string]int64{}
		for _, rec := range r.recs {
			got[rec.Topic]++
		}
		done := true
		for tp, n := range want {
			if got[tp] < n {
				done = false
			}
		}
		if done {
			return r.recs
		}
		fs := r.cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read the connector's topics: have %v of %v", got, want)
		}
		fs.EachRecord(func(k *kgo.Record) {
			if k.Topic == r.history {
				return
			}
			rec := Record{Topic: k.Topic, Partition: k.Partition, Key: k.Key, Value: k.Value}
			for _, h := range k.Headers {
				v := h.Value
				if v == nil {
					v = []byte{}
				}
				rec.Headers = append(rec.Headers, Header{Key: h.Key, Value: v})
			}
			r.recs = append(r.recs, rec)
		})
	}
}

// waitFor reads until ok holds for the records, failing after two minutes
// or, with a worker, when its connector fails.
func (r *topicReader) waitFor(t *testing.T, what string, w *testenv.ConnectWorker, ok func([]Record) bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !ok(r.read(t)) {
		if w != nil {
			if st, err := w.Status(t.Context(), "dbz"); err == nil && (st.Connector.State == "FAILED" || len(st.Tasks) > 0 && st.Tasks[0].State == "FAILED") {
				t.Fatalf("waiting for %s: connector failed: %+v", what, st)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited 2m for %s; records:\n%s", what, summary(r.recs))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// writeHistory writes the history topic's records, one JSON document a
// line, as Debezium's FileSchemaHistory keeps them.
func writeHistory(t *testing.T, brokers []string, topic, path string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	ends.Each(func(o kadm.ListedOffset) { n += o.Offset })
	var b strings.Builder
	for got := int64(0); got < n; {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %s: %d of %d records", topic, got, n)
		}
		fs.EachRecord(func(r *kgo.Record) {
			// The topic's documents may span lines; the file holds one a line.
			var line bytes.Buffer
			if err := json.Compact(&line, r.Value); err != nil {
				t.Fatalf("history record %d of %s: %v", r.Offset, topic, err)
			}
			b.Write(line.Bytes())
			b.WriteByte('\n')
			got++
		})
	}
	if n == 0 {
		t.Fatalf("schema history topic %s is empty", topic)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

// loadKafkaOffsets reads the connector's position from a Connect offsets
// topic with Rivulet's reader.
func loadKafkaOffsets(t *testing.T, brokers []string, topic, pfx string) (offsets.Position, bool, error) {
	t.Helper()
	st, err := offsets.NewKafkaStore(offsets.KafkaConfig{Brokers: brokers, Topic: topic, ConnectorName: "dbz", TopicPrefix: pfx})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	return st.Load(t.Context())
}

// copyOffsetsTopic copies a Connect offsets topic (every record, to the
// same partition of a new topic with as many) and returns the embedded
// engine's settings for reading the copy.
func copyOffsetsTopic(t *testing.T, brokers []string, from, to string) map[string]string {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(from),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100*time.Millisecond),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	topics, err := adm.ListTopics(ctx, from)
	if err != nil || topics.Error() != nil {
		t.Fatalf("describe %s: %v %v", from, err, topics.Error())
	}
	parts := int32(len(topics[from].Partitions))
	if resp, err := adm.CreateTopic(ctx, parts, 1, map[string]*string{"cleanup.policy": kadm.StringPtr("compact")}, to); err != nil || resp.Err != nil {
		t.Fatalf("create %s: %v %v", to, err, resp.Err)
	}
	ends, err := adm.ListEndOffsets(ctx, from)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	ends.Each(func(o kadm.ListedOffset) { n += o.Offset })
	var recs []*kgo.Record
	for int64(len(recs)) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %s: %d of %d records", from, len(recs), n)
		}
		fs.EachRecord(func(r *kgo.Record) {
			recs = append(recs, &kgo.Record{Topic: to, Partition: r.Partition, Key: r.Key, Value: r.Value})
		})
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("copy %s to %s: %v", from, to, err)
	}
	return map[string]string{
		"offset.storage":                    "org.apache.kafka.connect.storage.KafkaOffsetBackingStore",
		"offset.storage.topic":              to,
		"offset.storage.partitions":         strconv.Itoa(int(parts)),
		"offset.storage.replication.factor": "1",
		"bootstrap.servers":                 strings.Join(brokers, ","),
	}
}

// takeoverRun is one `rivulet run --config --worker` process.
type takeoverRun struct {
	cmd    *exec.Cmd
	log    *testenv.LogBuffer
	exited chan struct{}
	err    error
}

// writeConnector writes conn as the JSON a user POSTs to Kafka Connect.
func writeConnector(t *testing.T, dir string, conn map[string]string) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{"name": conn["name"], "config": conn})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "connector.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func startTakeover(t *testing.T, path, workerProps string) *takeoverRun {
	t.Helper()
	r := &takeoverRun{log: &testenv.LogBuffer{}, exited: make(chan struct{})}
	r.cmd = exec.Command(testenv.Rivulet(t), "run", "--config", path, "--worker", workerProps)
	r.cmd.Stdout, r.cmd.Stderr = r.log, r.log
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.err = r.cmd.Wait(); close(r.exited) }()
	t.Cleanup(func() {
		_ = r.cmd.Process.Kill()
		<-r.exited
		if t.Failed() {
			t.Logf("rivulet log:\n%s", r.log.String())
		}
	})
	return r
}

// stop ends the run with SIGTERM (flush, commit).
func (r *takeoverRun) stop(t *testing.T) {
	t.Helper()
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.exited:
	case <-time.After(60 * time.Second):
		t.Fatalf("rivulet did not stop within 60s of SIGTERM\n%s", r.log.String())
	}
	if r.err != nil {
		t.Fatalf("rivulet exited with %v\n%s", r.err, r.log.String())
	}
}

// replayDebezium runs Debezium's embedded engine as the connector conn from
// the given copies of its offsets and history until it emitted marker row
// m, and returns its records: what Debezium produces from where it stopped.
func replayDebezium(t *testing.T, dir string, conn map[string]string, serverID uint32, offsetStore map[string]string, historyFile, db string, m int) []Record {
	t.Helper()
	props := maps.Clone(conn)
	delete(props, "tasks.max")
	delete(props, "schema.history.internal.kafka.bootstrap.servers")
	delete(props, "schema.history.internal.kafka.topic")
	props["database.server.id"] = strconv.FormatUint(uint64(serverID), 10)
	maps.Copy(props, offsetStore)
	props["offset.flush.interval.ms"] = "100"
	props["schema.history.internal"] = "io.debezium.storage.file.history.FileSchemaHistory"
	props["schema.history.internal.file.filename"] = historyFile
	d := startDebezium(t, dir, props, nil)
	deadline := time.Now().Add(2 * time.Minute)
	for !markerSeen(db, m)(d.poll()) {
		if d.failed() {
			t.Fatalf("Debezium replay ended: %v\n%s", d.err, d.log.String())
		}
		if time.Now().After(deadline) {
			t.Fatalf("Debezium replay: no marker %d in 2m\n%s\n%s", m, summary(d.poll()), d.log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	d.stop()
	return d.poll()
}
