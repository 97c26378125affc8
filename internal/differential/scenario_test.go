package differential

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rivulet-cdc/rivulet/internal/testenv"
)

// prefix is topic.prefix of every run.
const prefix = "df"

// markerTable is created in every scenario's database: its row 1 is
// written once both sides stream, its row 2 after the workload; both sides
// have caught up when they emitted row 2.
const markerTable = "zz_marker"

// scenario is one workload run by Debezium and Rivulet side by side.
type scenario struct {
	// cfg is added to both sides' connector configuration.
	cfg map[string]string
	// setup runs in the scenario's database before both start (the snapshot's data).
	setup []string
	// stream runs once both are streaming; each element is one session
	// (a "BEGIN" ... "COMMIT" in one element is one transaction).
	stream [][]string
	// compareHistory also compares the schema history files line by line.
	compareHistory bool
	// emptyMarker leaves the marker table empty at the snapshot (it is
	// the last table read); by default it holds row 0.
	emptyMarker bool
}

// result is what both sides wrote.
type result struct {
	db                string
	debezium, rivulet []Record
	dbzHistory        []string
	rivHistory        []string
}

var serverIDs = struct{ next uint32 }{next: 7000}

// run runs sc on both sides and returns their records.
func run(t *testing.T, srv *testenv.Server, sc scenario) *result {
	t.Helper()
	db := srv.Database(t)
	srv.Exec(t, db, sc.setup...)
	srv.Exec(t, db, "CREATE TABLE "+markerTable+" (id INT PRIMARY KEY)")
	if !sc.emptyMarker {
		srv.Exec(t, db, "INSERT INTO "+markerTable+" VALUES (0)")
	}

	dir := t.TempDir()
	base := map[string]string{
		"connector.class":          "io.debezium.connector.mariadb.MariaDbConnector",
		"database.hostname":        srv.Host,
		"database.port":            strconv.Itoa(srv.Port),
		"database.user":            srv.User,
		"database.password":        srv.Password,
		"topic.prefix":             prefix,
		"database.include.list":    db,
		"snapshot.mode":            "initial",
		"schema.history.internal":  "io.debezium.storage.file.history.FileSchemaHistory",
		"offset.flush.interval.ms": "100",
	}
	maps.Copy(base, sc.cfg)
	serverIDs.next += 2

	dcfg := maps.Clone(base)
	dcfg["name"] = "differential"
	dcfg["database.server.id"] = strconv.FormatUint(uint64(serverIDs.next), 10)
	dcfg["offset.storage"] = "org.apache.kafka.connect.storage.FileOffsetBackingStore"
	dcfg["offset.storage.file.filename"] = filepath.Join(dir, "dbz-offsets.dat")
	dcfg["schema.history.internal.file.filename"] = filepath.Join(dir, "dbz-history.dat")

	rcfg := maps.Clone(base)
	rcfg["database.server.id"] = strconv.FormatUint(uint64(serverIDs.next+1), 10)
	rcfg["offset.storage.file.filename"] = filepath.Join(dir, "riv-offsets.json")
	rcfg["schema.history.internal.file.filename"] = filepath.Join(dir, "riv-history.dat")
	rcfg["bootstrap.servers"] = strings.Join(testenv.Kafka(t), ",")
	rcfg["metrics.listen"] = fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	rcfg["log.level"] = "info"

	dbz := startDebezium(t, dir, dcfg)
	riv := startRivulet(t, dir, strings.Split(rcfg["bootstrap.servers"], ","), rcfg)

	// Both have finished their snapshot (or, without one, recorded the
	// schema and their start position) before the workload runs.
	// Rivulet has read as many rows as Debezium when Debezium marked its
	// last snapshot record (Rivulet's own marks are compared later).
	snapshot := base["snapshot.mode"] != "no_data" && base["snapshot.mode"] != "never"
	waitFor(t, dbz, riv, "the end of the snapshot", 90*time.Second, func() bool {
		if !snapshot {
			fi, err := os.Stat(dcfg["schema.history.internal.file.filename"])
			return err == nil && fi.Size() > 0
		}
		d := dbz.poll()
		return hasSnapshotEnd(d) && countReads(riv.poll()) >= countReads(d)
	})
	srv.Exec(t, db, "INSERT INTO "+markerTable+" VALUES (1)")
	waitBoth(t, dbz, riv, "marker row 1", 120*time.Second, markerSeen(db, 1))
	for _, s := range sc.stream {
		srv.Exec(t, db, s...)
	}
	srv.Exec(t, db, "INSERT INTO "+markerTable+" VALUES (2)")
	waitBoth(t, dbz, riv, "marker row 2", 120*time.Second, markerSeen(db, 2))

	res := &result{db: db}
	dbz.stop()
	res.debezium = dbz.poll()
	res.rivulet = riv.finish()
	if sc.compareHistory {
		res.dbzHistory = readLines(t, dcfg["schema.history.internal.file.filename"])
		res.rivHistory = readLines(t, rcfg["schema.history.internal.file.filename"])
	}
	if t.Failed() {
		t.Logf("rivulet log:\n%s", riv.log.String())
		t.Logf("debezium log:\n%s", dbz.log.String())
	}
	return res
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("schema history: %v", err)
	}
	return strings.Split(strings.TrimRight(string(b), "\n"), "\n")
}

// hasSnapshotEnd reports a record marked source.snapshot "last".
func hasSnapshotEnd(recs []Record) bool {
	for i := len(recs) - 1; i >= 0; i-- {
		if recs[i].Value == nil || !strings.Contains(string(recs[i].Value), `"snapshot":"last"`) {
			continue
		}
		return true
	}
	return false
}

// markerSeen waits for the streamed create of marker row id.
func markerSeen(db string, id int) func([]Record) bool {
	topic := prefix + "." + db + "." + markerTable
	key := fmt.Sprintf(`"id":%d}`, id)
	return func(recs []Record) bool {
		for i := len(recs) - 1; i >= 0; i-- {
			r := recs[i]
			if r.Topic == topic && strings.Contains(string(r.Key), key) && r.Value != nil &&
				strings.Contains(string(r.Value), `"op":"c"`) {
				return true
			}
		}
		return false
	}
}

// waitBoth waits until ok holds for both sides' records.
func waitBoth(t *testing.T, dbz *debezium, riv *rivulet, what string, timeout time.Duration, ok func([]Record) bool) {
	t.Helper()
	waitFor(t, dbz, riv, what, timeout, func() bool { return ok(dbz.poll()) && ok(riv.poll()) })
}

// waitFor waits until ok holds, failing if either process ends first.
func waitFor(t *testing.T, dbz *debezium, riv *rivulet, what string, timeout time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if dbz.failed() {
			t.Fatalf("Debezium reference ended while waiting for %s: %v\n%s", what, dbz.err, dbz.log.String())
		}
		if riv.failed() {
			t.Fatalf("rivulet ended while waiting for %s: %v\n%s", what, riv.err, riv.log.String())
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s\nDebezium:\n%s\nRivulet:\n%s\nDebezium log:\n%s\nRivulet log:\n%s",
				timeout, what, summary(dbz.poll()), summary(riv.poll()), dbz.log.String(), riv.log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// countReads counts snapshot reads (op "r").
func countReads(recs []Record) int {
	n := 0
	for _, r := range recs {
		if r.Value != nil && strings.Contains(string(r.Value), `"op":"r"`) {
			n++
		}
	}
	return n
}

// summary lists records one a line (topic, key, value clipped) for a failure message.
func summary(recs []Record) string {
	var b strings.Builder
	for _, r := range recs {
		fmt.Fprintf(&b, "  %s %s %s\n", r.Topic, clip(r.Key), clip(r.Value))
	}
	return b.String()
}
