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
	// dbzCfg is added to Debezium's only: driver settings Rivulet has no
	// use for, each with its reason.
	dbzCfg map[string]string
	// setup runs in the scenario's database before both start (the snapshot's data).
	setup []string
	// stream runs once both are streaming; each element is one session
	// (a "BEGIN" ... "COMMIT" in one element is one transaction).
	stream [][]string
	// emptyMarker leaves the marker table empty at the snapshot (it is
	// the last table read); by default it holds row 0.
	emptyMarker bool
	// dbzRefuses, when set, is the error Debezium 3.6.1 is known to stop
	// with on this workload (alternatives separated by "|") (a README known difference): when its log
	// shows it, the run goes on with Rivulet alone and result.refused is
	// set; any other end of Debezium fails the test.
	dbzRefuses string
	// avro runs Debezium with Confluent's AvroConverter (key and value)
	// and Rivulet with its Avro encoder, both on the same real schema
	// registry (avro_test.go).
	avro bool
	// compatNone sets the registry's compatibility level to NONE for the run.
	compatNone bool
}

// result is what both sides wrote.
type result struct {
	db                string
	refused           bool // Debezium stopped with scenario.dbzRefuses
	debezium, rivulet []Record
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

	reference(t)
	connector := "io.debezium.connector.mariadb.MariaDbConnector"
	if javaBuild.mysql {
		connector = "io.debezium.connector.mysql.MySqlConnector"
		t.Logf("reference: Debezium's MySqlConnector with the MariaDB shim, because: %s", javaBuild.fallback)
	}
	dir := t.TempDir()
	base := map[string]string{
		"connector.class":          connector,
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
	maps.Copy(dcfg, sc.dbzCfg)
	if javaBuild.mysql {
		dcfg["driver.propertiesTransform"] = testenv.MariaDBShim
	}
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

	var extraCP []string
	var dbzWire, rivWire func(Record) Record
	if sc.avro {
		extraCP = append(extraCP, needAvro(t))
		url := avroRegistry(t, db, sc)
		maps.Copy(dcfg, avroCfg(url))
		maps.Copy(rcfg, avroCfg(url))
		dbzWire, rivWire = newAvroWire(url).record, newAvroWire(url).record
	}

	dbz := startDebezium(t, dir, dcfg, dbzWire, extraCP...)
	dbz.refuses = sc.dbzRefuses
	riv := startRivulet(t, dir, strings.Split(rcfg["bootstrap.servers"], ","), rcfg, rivWire)

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
		// Rivulet logs the end of its snapshot; Debezium marks its last
		// read (or, when a transform took the source block away, has read
		// the marker table, which sorts last).
		rivDone := strings.Contains(riv.log.String(), "initial snapshot complete")
		if dbz.refused {
			return rivDone
		}
		d := dbz.poll()
		dbzDone := hasSnapshotEnd(d) || !sc.emptyMarker && markerSeen(db, 0)(d)
		return dbzDone && rivDone && countReads(riv.poll()) >= countReads(d)
	})
	srv.Exec(t, db, "INSERT INTO "+markerTable+" VALUES (1)")
	waitBoth(t, dbz, riv, "marker row 1", 120*time.Second, markerSeen(db, 1))
	for _, s := range sc.stream {
		srv.Exec(t, db, s...)
	}
	srv.Exec(t, db, "INSERT INTO "+markerTable+" VALUES (2)")
	waitBoth(t, dbz, riv, "marker row 2", 120*time.Second, markerSeen(db, 2))

	if !dbz.refused {
		dbz.stop()
	}
	res := &result{db: db, refused: dbz.refused}
	res.debezium = dbz.poll()
	res.rivulet = riv.finish()
	if d := os.Getenv("RIVULET_DIFFERENTIAL_DUMP"); d != "" {
		dump(t, filepath.Join(d, strings.ReplaceAll(t.Name(), "/", "_")), res)
	}
	if t.Failed() || os.Getenv("RIVULET_DIFFERENTIAL_LOGS") != "" {
		t.Logf("rivulet log:\n%s", riv.log.String())
		t.Logf("debezium log:\n%s", dbz.log.String())
	}
	return res
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

// markerSeen waits for a record of marker row id (rows of the marker
// table are only ever inserted: any non-tombstone record of the row is its
// create or, for row 0, its snapshot read). The topic may be routed; it
// still ends in the table's name.
func markerSeen(db string, id int) func([]Record) bool {
	key := fmt.Sprintf(`"id":%d}`, id)
	return func(recs []Record) bool {
		for i := len(recs) - 1; i >= 0; i-- {
			r := recs[i]
			if strings.HasSuffix(r.Topic, "."+markerTable) && strings.Contains(string(r.Key), key) && r.Value != nil {
				return true
			}
		}
		return false
	}
}

// waitBoth waits until ok holds for both sides' records.
func waitBoth(t *testing.T, dbz *debezium, riv *rivulet, what string, timeout time.Duration, ok func([]Record) bool) {
	t.Helper()
	waitFor(t, dbz, riv, what, timeout, func() bool { return (dbz.refused || ok(dbz.poll())) && ok(riv.poll()) })
}

// waitFor waits until ok holds, failing if either process ends first.
func waitFor(t *testing.T, dbz *debezium, riv *rivulet, what string, timeout time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if dbz.failed() && !dbz.refused {
			if dbz.knownRefusal() {
				dbz.refused = true
				t.Logf("Debezium 3.6.1 stopped as known (README, known differences): %s", dbz.refuses)
				continue
			}
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

// dump writes both sides' records to dir (RIVULET_DIFFERENTIAL_DUMP, for
// reading a difference in full): debezium.txt and rivulet.txt, one record a
// line as topic, key, value and headers.
func dump(t *testing.T, dir string, res *result) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, recs := range map[string][]Record{"debezium.txt": res.debezium, "rivulet.txt": res.rivulet} {
		var b strings.Builder
		for _, r := range recs {
			fmt.Fprintf(&b, "%s\t%s\t%s\t%s\n", r.Topic, orNull(r.Key), orNull(r.Value), headerText(r.Headers))
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func orNull(b []byte) string {
	if b == nil {
		return "null"
	}
	return string(b)
}
