package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rivulet-cdc/rivulet/internal/mysqlstub"
	"github.com/rivulet-cdc/rivulet/internal/reliability"
	"github.com/rivulet-cdc/rivulet/internal/testenv"
	"github.com/rivulet-cdc/rivulet/offsets"
)

// The tests in this file run `rivulet run` and `rivulet check` through
// their MySQL branch against internal/mysqlstub, a test primary that speaks
// the MySQL protocol and serves real MySQL 8/9 binlog files (no MySQL server
// installs on these machines). Where the stub cannot stand for the server,
// each test says so. What the stub never does: run SQL (no snapshot of rows:
// snapshot.mode=no_data over the tables it is given), grow its binlog while
// a dump runs (files are added between runs), or check the client's
// privileges beyond the password.

const stubVectors = "../../binlog/testdata/mysql8"

// The vectors these tests serve (binlog/testdata/mysql8/README.md):
//
//   - apecloud-mysql-bin.000057 (MySQL 8.0.31), server 76f3e7be…:
//     GTID 11 CREATE TABLE a.b, 12 INSERT into a.b (TRANSACTION_PAYLOAD),
//     13 UPDATE and INSERT of a.test_table_3 (TRANSACTION_PAYLOAD).
//   - binlog_transaction_with_GTID_TAG.000001 (MySQL 9.6.0), server
//     55778904…: tagged GTID 55778904…:mytag:3, one INSERT into test.orders;
//     its PREVIOUS_GTIDS name 55778904…:1-13:mytag:1-2.
const (
	stubApecloud = "apecloud-mysql-bin.000057"
	stubTagged   = "binlog_transaction_with_GTID_TAG.000001"
	uuidApecloud = "76f3e7be-6720-11ed-9cad-0242ac110002"
	uuidTagged   = "55778904-0299-11f1-b1b8-4ef0c4956feb"
)

// stubTables are the tables the stub reports to the schema loader (their
// DDL is not in the files: the table definitions come from
// internal/mysql8's reading of the files' metadata and rows).
var stubTables = map[string]string{
	"a.test_table_3": "CREATE TABLE `test_table_3` (product_id INT NOT NULL PRIMARY KEY, product_item VARCHAR(255) NOT NULL, c3 DATE, c4 INT, c5 TEXT, c6 TIMESTAMP NULL, " +
		"enum_field ENUM('x-small','small','medium','large'), set_field SET('a','b','c','d'), c9 BINARY(3), c10 JSON, " +
		"product_item_2 VARCHAR(255) NOT NULL, c12 DATE NOT NULL, c13 DATE, c14 INT, c15 TEXT, c16 TIMESTAMP NULL, c17 DATE, c18 INT, c19 TEXT, c20 TIMESTAMP NULL) DEFAULT CHARSET=utf8mb3",
	"test.orders": "CREATE TABLE `orders` (id INT NOT NULL PRIMARY KEY, customer_id INT, amount DECIMAL(10,2))",
}

func stubFile(name string) string { return filepath.Join(stubVectors, name) }

func startStub(t *testing.T, o mysqlstub.Options) *mysqlstub.Primary {
	t.Helper()
	if o.Tables == nil {
		o.Tables = stubTables
	}
	p, err := mysqlstub.Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// stubEnv is a connector configuration against one or more stubs.
type stubEnv struct {
	e2eEnv
	stub *mysqlstub.Primary
}

func newStubEnv(t *testing.T, p *mysqlstub.Primary) *stubEnv {
	return &stubEnv{e2eEnv: e2eEnv{brokers: testenv.Kafka(t), dir: t.TempDir(), prefix: "st"}, stub: p}
}

func (e *stubEnv) config(t *testing.T, extra map[string]string) string {
	t.Helper()
	host, port := e.stub.Addr()
	cfg := map[string]string{
		"connector.class":                     "io.debezium.connector.mysql.MySqlConnector",
		"database.hostname":                   host,
		"database.port":                       strconv.Itoa(port),
		"database.user":                       "rivulet",
		"database.password":                   "secret",
		"database.server.id":                  "5701",
		"topic.prefix":                        e.prefix,
		"database.include.list":               "a,test",
		"snapshot.mode":                       "no_data",
		"schema.history.internal.kafka.topic": e.prefix + ".history",
		"bootstrap.servers":                   strings.Join(e.brokers, ","),
		"offset.storage.file.filename":        filepath.Join(e.dir, "offsets.json"),
		"offset.flush.interval.ms":            "100",
		"heartbeat.interval.ms":               "0",
		"metrics.listen":                      fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t)),
		"log.level":                           "debug",
		"key.converter.schemas.enable":        "false",
		"value.converter.schemas.enable":      "false",
	}
	for k, v := range extra {
		if v == "" {
			delete(cfg, k)
			continue
		}
		cfg[k] = v
	}
	b, err := json.Marshal(map[string]any{"name": "stub-connector", "config": cfg})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(e.dir, "connector.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// storedOffset waits until the offsets file holds a position whose GTID
// set contains want, and returns the file's content.
func (e *stubEnv) storedOffset(t *testing.T, want string) string {
	t.Helper()
	path := filepath.Join(e.dir, "offsets.json")
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, _ := os.ReadFile(path)
		if strings.Contains(string(b), want) {
			return string(b)
		}
		if time.Now().After(deadline) {
			t.Fatalf("offsets file never held %q; it holds:\n%s", want, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// gtidsOf returns the source.gtid of each change record, in order.
func gtidsOf(recs []record) []string {
	var out []string
	for _, r := range recs {
		if r.Value == nil {
			continue
		}
		if src, ok := payload(r.Value)["source"].(map[string]any); ok {
			g, _ := src["gtid"].(string)
			out = append(out, fmt.Sprintf("%s %s", r.Topic, g))
		}
	}
	return out
}

// TestStub_RunResumesFromGTIDSetAfterKill9: rivulet streams the apecloud
// file from the stub, is killed with SIGKILL once its offset holds GTID 13,
// the primary writes another file meanwhile (the tagged-GTID file added),
// and the restarted rivulet resumes with COM_BINLOG_DUMP_GTID from the
// stored MySQL GTID set: the new file's insert arrives, nothing of the
// first file is sent again, and the stored set gains the tagged GTID.
//
// Where the stub cannot stand for the server: the kill lands between
// transactions (the files are a few transactions long and fixed while a
// dump runs), so a kill inside a transaction is shown against MariaDB by
// TestRun_KillNineLosesNothing, not here.
func TestStub_RunResumesFromGTIDSetAfterKill9(t *testing.T) {
	p := startStub(t, mysqlstub.Options{Version: "8.0.40", UUID: uuidApecloud, Files: []string{stubFile(stubApecloud)}})
	e := newStubEnv(t, p)
	cfg := e.config(t, nil)
	in := e.start(t, cfg)
	first := consume(t, e.brokers, 2, e.prefix+".a.test_table_3")
	t.Logf("first run: %v", gtidsOf(first))
	for _, g := range gtidsOf(first) {
		if !strings.HasSuffix(g, uuidApecloud+":13") {
			t.Errorf("record %s: want GTID %s:13", g, uuidApecloud)
		}
	}
	off := e.storedOffset(t, uuidApecloud+":1-13")
	in.kill()
	t.Logf("offset at kill: %s", off)

	if err := p.Add(stubFile(stubTagged)); err != nil {
		t.Fatal(err)
	}
	dumpsBefore := len(p.Dumps())
	in = e.start(t, cfg)
	recs := consume(t, e.brokers, 3, e.prefix+".a.test_table_3", e.prefix+".test.orders")
	e.storedOffset(t, uuidTagged+":mytag:3,"+uuidApecloud+":1-13")
	in.stop()
	var orders, table3 int
	for _, r := range recs {
		switch r.Topic {
		case e.prefix + ".test.orders":
			orders++
			src := payload(r.Value)["source"].(map[string]any)
			if g := src["gtid"]; g != uuidTagged+":mytag:3" {
				t.Errorf("orders record gtid %v, want %s:mytag:3", g, uuidTagged)
			}
		case e.prefix + ".a.test_table_3":
			table3++
		}
	}
	if orders != 1 || table3 != 2 {
		t.Errorf("after restart: %d orders and %d test_table_3 records, want 1 and 2 (the first run's two, not repeated)", orders, table3)
	}
	dumps := p.Dumps()[dumpsBefore:]
	if len(dumps) == 0 || !strings.HasPrefix(dumps[0], "gtid ") || !strings.Contains(dumps[0], uuidApecloud+":1-13") {
		t.Errorf("restart dumps %q: want COM_BINLOG_DUMP_GTID with %s:1-13", dumps, uuidApecloud)
	}
}

// runUntilExit runs `rivulet run` and waits for it to exit on its own (60 s
// at most); it returns the exit code and the log.
func runUntilExit(t *testing.T, cfgPath string) (int, string) {
	t.Helper()
	code, out, errOut := 0, "", ""
	done := make(chan struct{})
	go func() {
		defer close(done)
		out, errOut, code = cliTimeout(t, 60*time.Second, "run", "--config", cfgPath)
	}()
	<-done
	return code, out + errOut
}

// cliTimeout is cli with a deadline: a run that does not exit is killed.
func cliTimeout(t *testing.T, d time.Duration, args ...string) (string, string, int) {
	t.Helper()
	var out, errb strings.Builder
	cmd := exec.Command(rivuletBinary(t), args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(d, func() { _ = cmd.Process.Kill() })
	defer timer.Stop()
	err := cmd.Wait()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return out.String(), errb.String(), ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return out.String(), errb.String(), 0
}

// TestStub_GTIDPurgedDetected: the connector stops after the apecloud file
// (stored set 76f3e7be…:1-13); the primary then writes two more files and
// purges up to the last one, so gtid_purged holds the tagged transaction
// 55778904…:mytag:3 the stored set lacks. `rivulet check` fails the stored
// position naming the purged GTIDs and the remedy, `rivulet offsets show`
// explains the gap, and `rivulet run` refuses to start instead of skipping
// the purged changes.
//
// The stub stands for the server here as far as MySQL's answers go
// (@@gtid_purged, @@gtid_executed, SHOW BINARY LOGS); that PURGE BINARY
// LOGS moves gtid_purged to the PREVIOUS_GTIDS of the new first file is
// MySQL's documented behaviour, reproduced by Primary.Purge.
func TestStub_GTIDPurgedDetected(t *testing.T) {
	p := startStub(t, mysqlstub.Options{Version: "8.0.40", UUID: uuidApecloud, Files: []string{stubFile(stubApecloud)}})
	e := newStubEnv(t, p)
	cfg := e.config(t, nil)
	in := e.start(t, cfg)
	consume(t, e.brokers, 2, e.prefix+".a.test_table_3")
	e.storedOffset(t, `"gtids":"`+uuidApecloud+`:1-13"`)
	in.stop()

	out, stderr, code := cli(t, "check", "--config", cfg)
	if code != exitOK || !strings.Contains(out, "PASS  stored position") {
		t.Fatalf("check before the purge: exit %d, want a passing stored position\n%s%s", code, out, stderr)
	}
	for _, f := range []string{stubTagged, "mysql_type_bit.000001"} {
		if err := p.Add(stubFile(f)); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Purge("mysql_type_bit.000001"); err != nil {
		t.Fatal(err)
	}

	out, stderr, code = cli(t, "check", "--config", cfg)
	t.Logf("check:\n%s", out)
	if code != exitFailure || !strings.Contains(out, "FAIL  stored position") ||
		!strings.Contains(out, "were purged") || !strings.Contains(out, uuidTagged+":mytag:3") || !strings.Contains(out, "rivulet offsets reset") {
		t.Errorf("check after the purge: exit %d, want a failing stored position naming %s:mytag:3 and the remedy\n%s%s", code, uuidTagged, out, stderr)
	}
	out, stderr, code = cli(t, "offsets", "show", "--config", cfg)
	t.Logf("offsets show:\n%s", out)
	if code != exitOK || !strings.Contains(out, "server:   CANNOT continue") || !strings.Contains(out, uuidTagged+":mytag:3") {
		t.Errorf("offsets show after the purge: exit %d, want the gap explained\n%s%s", code, out, stderr)
	}
	code, log := runUntilExit(t, cfg)
	if code == exitOK || !strings.Contains(log, "were purged") || !strings.Contains(log, uuidTagged+":mytag:3") {
		t.Errorf("run after the purge: exit %d, want a refusal naming the purged GTIDs\n%s", code, log)
	}
	for _, d := range p.Dumps() {
		if strings.Contains(d, "mytag") {
			t.Errorf("run asked for a dump after the purge (%s): it must refuse before streaming", d)
		}
	}
}

// TestStub_GTIDSourceFilters runs the two servers' history (apecloud's
// 76f3e7be…:11-13, then the tagged 55778904…:mytag:3) through
// gtid.source.includes/excludes naming server UUIDs and a tag: the rows of
// the transactions from other sources are not emitted, and the stored GTID
// set still moves past every transaction, as Debezium's GTID source filter
// does. The source of a tagged GTID is "<uuid>:<tag>"; a pattern naming the
// UUID alone covers its tags.
//
// The stub serves the files as one primary would if both servers'
// transactions had reached it (a multi-source or former replica): the
// filter reads only the GTID events, which are the real servers' bytes.
func TestStub_GTIDSourceFilters(t *testing.T) {
	all := []string{"a.b " + uuidApecloud + ":12", "a.test_table_3 " + uuidApecloud + ":13", "a.test_table_3 " + uuidApecloud + ":13", "test.orders " + uuidTagged + ":mytag:3"}
	for i, tt := range []struct {
		name string
		keys map[string]string
		want []string
	}{
		{"none", nil, all},
		{"include uuid", map[string]string{"gtid.source.includes": uuidApecloud}, all[:3]},
		{"include uuid covers its tags", map[string]string{"gtid.source.includes": uuidTagged}, all[3:]},
		{"include other tag", map[string]string{"gtid.source.includes": uuidTagged + ":othertag"}, nil},
		{"exclude tag", map[string]string{"gtid.source.excludes": uuidTagged + ":mytag"}, all[:3]},
		{"exclude uuid pattern", map[string]string{"gtid.source.excludes": "76F3E7BE-.*"}, all[3:]},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := startStub(t, mysqlstub.Options{Version: "9.6.0", UUID: uuidTagged, Files: []string{stubFile(stubApecloud), stubFile(stubTagged)}})
			e := newStubEnv(t, p)
			e.prefix = fmt.Sprintf("gf%d", i)
			in := e.start(t, e.config(t, tt.keys))
			e.storedOffset(t, `"gtids":"`+uuidTagged+`:1-13:mytag:1-3,`+uuidApecloud+`:1-13"`)
			in.stop()
			recs, err := reliability.ReadTopics(t.Context(), e.brokers, func(s string) bool { return strings.HasPrefix(s, e.prefix+".") })
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range recs {
				if r.Streamed() {
					got = append(got, strings.TrimPrefix(r.Topic, e.prefix+".")+" "+r.Source.GTID)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("records by topic and GTID:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestStub_FailoverToPrimaryWithSameGTIDHistory: rivulet streams from
// primary A, stops, and is pointed at primary B (another server UUID and
// server_id, its own binlog file names) that holds the same transactions
// and the ones written since: `check` passes the stored position on B by
// its GTID set although B has no file of that name, and `run` resumes on B
// with COM_BINLOG_DUMP_GTID: the new transaction arrives, nothing is sent
// twice, and the stored position names B's files. A server that lacks
// transactions of the stored set (another server's history) is refused.
//
// Where the stub cannot stand for the server: B serves A's binlog bytes
// under its own file names, while a real replica would have re-logged the
// transactions with its own server_id in the event headers; Rivulet's
// resume reads only the GTIDs, which are the same either way.
func TestStub_FailoverToPrimaryWithSameGTIDHistory(t *testing.T) {
	a := startStub(t, mysqlstub.Options{Version: "8.0.40", ServerID: 1, UUID: uuidApecloud, Files: []string{stubFile(stubApecloud)}})
	e := newStubEnv(t, a)
	in := e.start(t, e.config(t, nil))
	consume(t, e.brokers, 2, e.prefix+".a.test_table_3")
	e.storedOffset(t, `"file":"apecloud-mysql-bin.000057","pos":1283,"gtids":"`+uuidApecloud+`:1-13"`)
	in.stop()

	b := startStub(t, mysqlstub.Options{Version: "8.0.40", ServerID: 2, UUID: "0b0b0b0b-0000-4000-8000-00000000000b",
		Files:  []string{stubFile(stubApecloud)},
		Rename: map[string]string{stubApecloud: "b-bin.000001", stubTagged: "b-bin.000002", "binlog.000005": "b-bin.000003"}})
	// B's history is A's (what A logged before the file is purged on B
	// too), then the tagged transaction written after the failover: added,
	// so that its file's own PREVIOUS_GTIDS (its real server's past) do not
	// count as B's.
	if err := b.Add(stubFile(stubTagged)); err != nil {
		t.Fatal(err)
	}
	e.stub = b
	cfg := e.config(t, nil)
	out, stderr, code := cli(t, "check", "--config", cfg)
	if code != exitOK || !strings.Contains(out, "PASS  stored position") {
		t.Fatalf("check against B: exit %d, want the stored position to pass by its GTID set\n%s%s", code, out, stderr)
	}
	in = e.start(t, cfg)
	recs := consume(t, e.brokers, 3, e.prefix+".a.test_table_3", e.prefix+".test.orders")
	e.storedOffset(t, `"file":"b-bin.000003","pos":4`)
	in.stop()
	var orders, table3 int
	for _, r := range recs {
		switch r.Topic {
		case e.prefix + ".test.orders":
			orders++
		case e.prefix + ".a.test_table_3":
			table3++
		}
	}
	if orders != 1 || table3 != 2 {
		t.Errorf("after failover: %d orders and %d test_table_3 records, want 1 and 2 (A's two, not repeated by B)", orders, table3)
	}
	if d := b.Dumps(); len(d) == 0 || d[0] != "gtid "+uuidApecloud+":1-13" {
		t.Errorf("B's dumps %q: want one COM_BINLOG_DUMP_GTID from %s:1-13", d, uuidApecloud)
	}

	// C never executed A's transactions: resuming there would skip or
	// repeat changes, so check and run refuse.
	c := startStub(t, mysqlstub.Options{Version: "8.0.40", ServerID: 3, UUID: "b9b88c66-0755-11f1-9899-4a9da94c4d71",
		Files: []string{stubFile("binlog_transaction_previous_GTID_no_tag.000001")}})
	e.stub = c
	cfg = e.config(t, nil)
	out, _, code = cli(t, "check", "--config", cfg)
	t.Logf("check against C:\n%s", out)
	if code != exitFailure || !strings.Contains(out, "FAIL  stored position") || !strings.Contains(out, "has not executed transactions") {
		t.Errorf("check against C: exit %d, want a failing stored position (C lacks the stored transactions)\n%s", code, out)
	}
	code, log := runUntilExit(t, cfg)
	if code == exitOK || !strings.Contains(log, "has not executed transactions") || len(c.Dumps()) != 0 {
		t.Errorf("run against C: exit %d, dumps %q; want a refusal before streaming\n%s", code, c.Dumps(), log)
	}
}

// TestStub_MySQL84StatementNames: MySQL 8.4 removed SHOW MASTER STATUS and
// SHOW SLAVE HOSTS (the stub answers them with a syntax error from 8.4 on,
// as the server does); `check` and `run` use SHOW BINARY LOG STATUS and
// SHOW REPLICAS there, pass every check and stream.
//
// Where the stub cannot stand for the server: the snapshot's watermarks
// (snapshot/conn.go, with the same fallback) need row reads the stub does
// not serve, so they are not exercised here.
func TestStub_MySQL84StatementNames(t *testing.T) {
	for _, v := range []string{"8.4.3", "9.6.0"} {
		t.Run(v, func(t *testing.T) {
			p := startStub(t, mysqlstub.Options{Version: v, UUID: uuidApecloud, Files: []string{stubFile(stubApecloud)}})
			e := newStubEnv(t, p)
			e.prefix = "v" + strings.ReplaceAll(v, ".", "")
			cfg := e.config(t, nil)
			out, stderr, code := cli(t, "check", "--config", cfg)
			if code != exitOK || strings.Contains(out, "FAIL") || strings.Contains(out, "WARN") {
				t.Errorf("check against MySQL %s: exit %d, want every check to pass\n%s%s", v, code, out, stderr)
			}
			in := e.start(t, cfg)
			consume(t, e.brokers, 2, e.prefix+".a.test_table_3")
			in.stop()
			q := p.Queries()
			for _, want := range []string{"SHOW BINARY LOG STATUS", "SHOW REPLICAS"} {
				if !slices.Contains(q, want) {
					t.Errorf("MySQL %s: %q never sent; statements: %q", v, want, q)
				}
			}
		})
	}
}

// archiveNames give the vectors one primary's numbering: the tagged file
// follows apecloud's, and the file its ROTATE names follows it.
var archiveNames = map[string]string{stubTagged: "apecloud-mysql-bin.000058", "binlog.000005": "apecloud-mysql-bin.000059",
	"mysql_type_bit.000001": "apecloud-mysql-bin.000059"}

// archiveDir copies vectors into a new directory under the names given.
func archiveDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for src, name := range files {
		b, err := os.ReadFile(stubFile(src))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// comparable is a change record without the processing time and the
// connector's name, which differ between two runs.
func comparable(r reliability.Record) string {
	var v map[string]any
	if err := json.Unmarshal(r.RawValue, &v); err != nil {
		return "not JSON: " + string(r.RawValue)
	}
	v = payload(v)
	for _, k := range []string{"ts_ms", "ts_us", "ts_ns"} {
		delete(v, k)
	}
	if src, ok := v["source"].(map[string]any); ok {
		delete(src, "name") // the topic prefix, which differs between the two connectors
	}
	b, _ := json.Marshal(v)
	return r.Topic[strings.IndexByte(r.Topic, '.')+1:] + " " + string(r.RawKey) + " " + string(b)
}

// TestStub_ArchiveThenServer: the connector stored apecloud-mysql-bin.000057:4
// (GTIDs 76f3e7be…:1-10) and was stopped; meanwhile the primary purged
// 000057 (and, in the first half, 000058). With the file copied to a
// directory named by rivulet.binlog.archive.dir:
//
//   - an archive that starts after the stored position (only 000058) does
//     not cover it and the server purged it: check fails naming both gaps,
//     offsets show explains them;
//   - an archive holding 000057, while the server purged 000058 too: the
//     files end at GTID 13 where the server cannot continue (mytag:3 is
//     gone): check fails naming the archive's end and the purged GTIDs, run
//     refuses before reading anything;
//   - an archive holding 000057 and a server that still has 000058: check
//     passes saying the archive holds the position and where the server
//     continues; run emits 000057's changes from the files and 000058's
//     from the server (COM_BINLOG_DUMP_GTID from the archive's end), and
//     the records equal, field for field but the processing time, those a
//     connector streaming the same history from a server produced.
//
// The files are real MySQL 8.0.31 and 9.6.0 binlogs renamed into one
// primary's numbering (the stub serves them as one history); the stub
// stands for the server only in the continuation after the files.
func TestStub_ArchiveThenServer(t *testing.T) {
	// The reference: the same history streamed from a primary that kept it.
	ref := startStub(t, mysqlstub.Options{Version: "8.0.40", UUID: uuidApecloud, Files: []string{stubFile(stubApecloud)}, Rename: archiveNames})
	if err := ref.Add(stubFile(stubTagged)); err != nil {
		t.Fatal(err)
	}
	re := newStubEnv(t, ref)
	re.prefix = "ref"
	in := re.start(t, re.config(t, nil))
	re.storedOffset(t, uuidTagged+":mytag:3")
	in.stop()

	p := startStub(t, mysqlstub.Options{Version: "8.0.40", UUID: uuidApecloud, Files: []string{stubFile(stubApecloud)}, Rename: archiveNames})
	e := newStubEnv(t, p)
	e.prefix = "arc"
	p.Hold(true)
	in = e.start(t, e.config(t, nil))
	e.storedOffset(t, `"file":"apecloud-mysql-bin.000057","pos":4,"gtids":"`+uuidApecloud+`:1-10"`)
	in.stop()
	p.Hold(false)
	for _, f := range []string{stubTagged, "mysql_type_bit.000001"} {
		if err := p.Add(stubFile(f)); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Purge("apecloud-mysql-bin.000059"); err != nil {
		t.Fatal(err)
	}

	// An archive that starts too late.
	late := archiveDir(t, map[string]string{stubTagged: "apecloud-mysql-bin.000058"})
	cfg := e.config(t, map[string]string{"rivulet.binlog.archive.dir": late})
	out, _, code := cli(t, "check", "--config", cfg)
	t.Logf("check, archive from 000058:\n%s", out)
	if code != exitFailure || !strings.Contains(out, "FAIL  stored position") || !strings.Contains(out, "neither the binlog archive nor the server holds") ||
		!strings.Contains(out, "the archive starts with apecloud-mysql-bin.000058, later than apecloud-mysql-bin.000057") {
		t.Errorf("check with an archive starting after the stored position: exit %d, want both gaps named", code)
	}
	out, _, _ = cli(t, "offsets", "show", "--config", cfg)
	if !strings.Contains(out, "server:   CANNOT continue") || !strings.Contains(out, "neither the binlog archive nor the server holds") {
		t.Errorf("offsets show with an archive starting after the stored position: want the gaps explained\n%s", out)
	}

	// An archive the server cannot continue after.
	arc := archiveDir(t, map[string]string{stubApecloud: stubApecloud})
	cfg = e.config(t, map[string]string{"rivulet.binlog.archive.dir": arc})
	out, _, code = cli(t, "check", "--config", cfg)
	t.Logf("check, archive 000057, server from 000059:\n%s", out)
	if code != exitFailure || !strings.Contains(out, "FAIL  stored position") ||
		!strings.Contains(out, "ends at apecloud-mysql-bin.000057:1283") || !strings.Contains(out, uuidTagged+":mytag:3") {
		t.Errorf("check with an archive the server cannot continue after: exit %d, want the archive's end and the purged GTIDs named", code)
	}
	code, log := runUntilExit(t, cfg)
	if code == exitOK || !strings.Contains(log, "where the server cannot continue") {
		t.Errorf("run with an archive the server cannot continue after: exit %d, want a refusal\n%s", code, log)
	}
	recs, err := reliability.ReadTopics(t.Context(), e.brokers, func(s string) bool { return strings.HasPrefix(s, "arc.") })
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.Streamed() {
			t.Errorf("the refused run produced a change record (%s %s): it must refuse before reading the archive", r.Topic, r.Source.GTID)
		}
	}

	// A server that still has 000058 continues where the archive ends.
	q := startStub(t, mysqlstub.Options{Version: "8.0.40", UUID: uuidApecloud, Files: []string{stubFile(stubApecloud)}, Rename: archiveNames})
	if err := q.Add(stubFile(stubTagged)); err != nil {
		t.Fatal(err)
	}
	if err := q.Purge("apecloud-mysql-bin.000058"); err != nil {
		t.Fatal(err)
	}
	e.stub = q
	cfg = e.config(t, map[string]string{"rivulet.binlog.archive.dir": arc})
	out, _, code = cli(t, "check", "--config", cfg)
	t.Logf("check, archive 000057, server from 000058:\n%s", out)
	if code != exitOK || !strings.Contains(out, "PASS  stored position") || !strings.Contains(out, "the server continues where they end, at apecloud-mysql-bin.000057:1283") {
		t.Errorf("check with an archive the server continues after: exit %d, want a pass naming the archive's end", code)
	}
	in = e.start(t, cfg)
	e.storedOffset(t, uuidTagged+":mytag:3")
	in.stop()
	if d := q.Dumps(); len(d) != 1 || d[0] != "gtid "+uuidApecloud+":1-13" {
		t.Errorf("server dumps %q: want one COM_BINLOG_DUMP_GTID from the archive's end, %s:1-13", d, uuidApecloud)
	}
	if !strings.Contains(in.log.String(), "archived binlogs read; continuing from the server") {
		t.Errorf("run log does not say it continued from the server after the archive")
	}

	read := func(e *stubEnv) []string {
		prefix := e.prefix
		recs, err := reliability.ReadTopics(t.Context(), e.brokers, func(s string) bool { return strings.HasPrefix(s, prefix+".") && strings.Count(s, ".") == 2 })
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range recs {
			if r.Streamed() {
				out = append(out, comparable(r))
			}
		}
		slices.Sort(out)
		return out
	}
	// The offsets too: the same value as the server stream's at the end.
	stored := func(e *stubEnv) offsets.Position {
		pos, ok, err := offsets.NewFileStore(filepath.Join(e.dir, "offsets.json"), "stub-connector", e.prefix).Load(t.Context())
		if err != nil || !ok {
			t.Fatalf("offsets of %s: %v (found %v)", e.prefix, err, ok)
		}
		pos.TsSec = 0
		return pos
	}
	if got, want := stored(e), stored(re); got != want {
		t.Errorf("stored position after the archive and the server = %s, want the server stream's %s", got, want)
	}
	got, want := read(e), read(re)
	if len(want) != 4 {
		t.Fatalf("reference run produced %d records, want 4 (a.b, two test_table_3, orders): %q", len(want), want)
	}
	if !slices.Equal(got, want) {
		t.Errorf("archive-then-server records differ from the server stream's:\n got %q\nwant %q", got, want)
	}

	// offsets set accepts a position only the archive holds, and without
	// the archive refuses it.
	back := []string{"offsets", "set", "--config", cfg, "--file", stubApecloud, "--pos", "4", "--gtids", uuidApecloud + ":1-10", "--dry-run"}
	out, stderr, code := cli(t, back...)
	if code != exitOK || !strings.Contains(out, "source:   the binlog archive") {
		t.Errorf("offsets set to an archived position: exit %d, want it accepted\n%s%s", code, out, stderr)
	}
	back[3] = e.config(t, nil)
	if out, stderr, code := cli(t, back...); code == exitOK || !strings.Contains(stderr, "purged") {
		t.Errorf("offsets set to a purged position without the archive: exit %d, want a refusal\n%s%s", code, out, stderr)
	}
}

// TestStub_PurgedWhileStreaming: the binlogs are purged past the
// connector's position while it runs, and the connection drops (a server
// restart): the reconnect's COM_BINLOG_DUMP_GTID is refused by the primary
// with error 1236, and `rivulet run` stops with the purged-binlog error and
// its remedy instead of retrying forever or skipping the gap.
//
// The 1236 message is the one MySQL 8.0 sends (ER_MASTER_HAS_PURGED_REQUIRED_GTIDS
// is reported through ER_MASTER_FATAL_ERROR_READING_BINLOG); the stub
// decides to send it exactly as the server does, from gtid_purged and the
// client's set.
func TestStub_PurgedWhileStreaming(t *testing.T) {
	p := startStub(t, mysqlstub.Options{Version: "8.0.40", UUID: uuidApecloud, Files: []string{stubFile(stubApecloud)}})
	e := newStubEnv(t, p)
	in := e.start(t, e.config(t, nil))
	consume(t, e.brokers, 2, e.prefix+".a.test_table_3")
	e.storedOffset(t, `"gtids":"`+uuidApecloud+`:1-13"`)
	for _, f := range []string{stubTagged, "mysql_type_bit.000001"} {
		if err := p.Add(stubFile(f)); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Purge("mysql_type_bit.000001"); err != nil {
		t.Fatal(err)
	}
	p.Disconnect()
	select {
	case <-in.exited:
	case <-time.After(60 * time.Second):
		t.Fatalf("rivulet still runs 60s after its position was purged")
	}
	log := in.log.String()
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, "1236") {
			t.Logf("%s", l)
		}
	}
	if in.err == nil || !strings.Contains(log, "1236") || !strings.Contains(log, "purged") {
		t.Errorf("run after a purge while streaming: exit %v, want an error naming server error 1236 and the purge\n%s", in.err, log)
	}
	if d := p.Dumps(); len(d) != 2 || d[1] != "gtid "+uuidApecloud+":1-13" {
		t.Errorf("dumps %q: want the reconnect to ask for %s:1-13", d, uuidApecloud)
	}
}

// TestStub_TableWithoutDDL: the stream starts after a table's CREATE TABLE
// (the schema history and the server's table list do not have it). With
// binlog_row_metadata=FULL (json-opaque.binlog, MySQL 9.0.1) Rivulet builds
// the table from the TABLE_MAP: the 8 records, schemas included, equal
// those of a connector that read the CREATE TABLE. With MINIMAL metadata
// (time_issue.000001, MySQL 8.0.40) and a server that does not have the
// table either, run stops naming binlog_row_metadata=FULL.
//
// Where the stub cannot stand for the server: with MINIMAL metadata a real
// server that still has the table lets Rivulet reload it (the ddl branch's
// fallback, tested against MariaDB); the stub's table list is fixed at
// start, so that path is not shown here.
func TestStub_TableWithoutDDL(t *testing.T) {
	full := func(prefix string, startPos int) []string {
		p := startStub(t, mysqlstub.Options{Version: "9.0.1", UUID: uuidApecloud, Files: []string{stubFile("json-opaque.binlog")},
			Tables: map[string]string{}, StartPos: startPos})
		e := newStubEnv(t, p)
		e.prefix = prefix
		in := e.start(t, e.config(t, map[string]string{"database.include.list": "foo", "value.converter.schemas.enable": "true"}))
		recs := consume(t, e.brokers, 8, prefix+".foo.test")
		in.stop()
		var out []string
		for _, r := range recs {
			var v map[string]any
			if err := json.Unmarshal(r.RawVal, &v); err != nil {
				t.Fatal(err)
			}
			pl := v["payload"].(map[string]any)
			for _, k := range []string{"ts_ms", "ts_us", "ts_ns"} {
				delete(pl, k)
			}
			delete(pl["source"].(map[string]any), "name")
			b, _ := json.Marshal(v)
			out = append(out, strings.ReplaceAll(string(b), prefix+".", "<prefix>."))
		}
		return out
	}
	// json-opaque.binlog: CREATE TABLE foo.test at 340-529, the inserts after.
	want := full("ddl", 0)
	got := full("meta", 529)
	if !slices.Equal(got, want) {
		t.Errorf("records of the table built from the TABLE_MAP differ from those with its DDL:\n got %q\nwant %q", got, want)
	}

	p := startStub(t, mysqlstub.Options{Version: "8.0.40", UUID: uuidApecloud, Files: []string{stubFile("time_issue.000001")}, Tables: map[string]string{}})
	e := newStubEnv(t, p)
	code, log := runUntilExit(t, e.config(t, map[string]string{"database.include.list": "noria"}))
	if code == exitOK || !strings.Contains(log, "noria.t") || !strings.Contains(log, "binlog_row_metadata=FULL") {
		t.Errorf("run on a table without DDL and MINIMAL metadata: exit %d, want a stop naming binlog_row_metadata=FULL\n%s", code, log)
	}
}
