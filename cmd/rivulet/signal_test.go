package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

const signalTableDDL = `CREATE TABLE debezium_signal (id VARCHAR(42) PRIMARY KEY, type VARCHAR(32) NOT NULL, data VARCHAR(2048) NULL)`

// sendSignals inserts signals (type, data pairs) into the signal table in
// one transaction.
func sendSignals(t *testing.T, e *e2eEnv, typeData ...string) {
	t.Helper()
	stmts := []string{"BEGIN"}
	for i := 0; i+1 < len(typeData); i += 2 {
		stmts = append(stmts, fmt.Sprintf("INSERT INTO debezium_signal VALUES ('%s-%d', '%s', '%s')",
			typeData[i], time.Now().UnixNano(), typeData[i], typeData[i+1]))
	}
	e.srv.Exec(t, e.db, append(stmts, "COMMIT")...)
}

func executeData(tables ...string) string {
	return `{"data-collections": ["` + strings.Join(tables, `","`) + `"], "type": "incremental"}`
}

// waitLog waits until the log holds n lines containing s.
func waitLog(t *testing.T, in *instance, s string, n int) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for strings.Count(in.log.String(), s) < n {
		if time.Now().After(deadline) {
			t.Fatalf("log has no %q (x%d) after 90s", s, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitOffset waits until the stored offset satisfies ok.
func waitOffset(t *testing.T, e *e2eEnv, ok func(string) bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		b, _ := os.ReadFile(filepath.Join(e.dir, "offsets.json"))
		if ok(string(b)) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("stored offset never matched: %s", b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// incrementalReads returns the "r" records and checks that each carries
// source.snapshot "incremental".
func incrementalReads(t *testing.T, recs []record) []record {
	t.Helper()
	var out []record
	for _, r := range recs {
		if r.Value == nil || r.Value["op"] != "r" {
			continue
		}
		if s := r.Value["source"].(map[string]any)["snapshot"]; s != "incremental" {
			t.Errorf("source.snapshot = %v, want incremental: %s", s, r.RawVal)
		}
		out = append(out, r)
	}
	return out
}

// TestSignal_IncrementalUnderWrites streams a table that was never
// snapshotted (snapshot.mode=no_data), then asks for an incremental
// snapshot through the signal table while a writer inserts, updates
// (including primary keys) and deletes: the topic ends equal to the table,
// and the snapshot rows carry source.snapshot "incremental".
func TestSignal_IncrementalUnderWrites(t *testing.T) {
	e := newE2E(t)
	const rows = 6000
	seedTable(t, e, rows)
	e.srv.Exec(t, e.db, signalTableDDL)
	cfg := e.config(t, map[string]string{
		"key.converter.schemas.enable": "false", "value.converter.schemas.enable": "false",
		"signal.data.collection": e.db + ".debezium_signal", "incremental.snapshot.chunk.size": "200",
	})
	in := e.start(t, cfg)
	stop := startWriter(t, e, rows)
	sendSignals(t, e, "execute-snapshot", executeData(e.db+".items"))
	waitLog(t, in, "incremental snapshot complete", 1)
	checkTopicEqualsTable(t, e, stop)
	recs := consumeUntil(t, e.brokers, func(r []record) bool { return len(incrementalReads(t, r)) >= rows/2 }, e.prefix+"."+e.db+".items")
	if n := len(incrementalReads(t, recs)); n < rows/2 {
		t.Errorf("%d incremental snapshot rows, want most of %d", n, rows)
	}
	// The signal table is captured as Debezium does (it is in the include list).
	consume(t, e.brokers, 1, e.prefix+"."+e.db+".debezium_signal")
	in.stop()
	if strings.Contains(in.log.String(), "rows_superseded_by_stream=0") {
		t.Errorf("no snapshot row was superseded by a streamed change: the writer did not overlap the snapshot")
	}
}

// TestSignal_ResumesAfterKill kills rivulet with SIGKILL in the middle of
// an incremental snapshot under writes: the restart continues it from the
// stored offset and the topic still ends equal to the table.
func TestSignal_ResumesAfterKill(t *testing.T) {
	e := newE2E(t)
	const rows = 6000
	seedTable(t, e, rows)
	e.srv.Exec(t, e.db, signalTableDDL)
	cfg := e.config(t, map[string]string{
		"key.converter.schemas.enable": "false", "value.converter.schemas.enable": "false",
		"signal.data.collection": e.db + ".debezium_signal", "incremental.snapshot.chunk.size": "100",
		"offset.flush.interval.ms": "50",
	})
	in := e.start(t, cfg)
	stop := startWriter(t, e, rows)
	sendSignals(t, e, "execute-snapshot", executeData(e.db+".items"))
	waitOffset(t, e, func(s string) bool { return strings.Contains(s, `progress`) })
	in.kill()
	if strings.Contains(in.log.String(), "incremental snapshot complete") {
		t.Skip("the snapshot completed before the kill")
	}
	in = e.start(t, cfg)
	waitLog(t, in, "incremental snapshot resumed after a restart", 1)
	waitLog(t, in, "incremental snapshot complete", 1)
	checkTopicEqualsTable(t, e, stop)
	in.stop()
}

// TestSignal_PauseResumeStop pauses a snapshot right as it starts (no
// more chunks while paused), resumes it to completion, then stops a second
// one before it ends.
func TestSignal_PauseResumeStop(t *testing.T) {
	e := newE2E(t)
	e.srv.Exec(t, e.db, signalTableDDL, `CREATE TABLE p (id INT PRIMARY KEY, v INT)`)
	const rows = 400
	var vals []string
	for i := range rows {
		vals = append(vals, fmt.Sprintf("(%d, %d)", i, i))
	}
	e.srv.Exec(t, e.db, "INSERT INTO p VALUES "+strings.Join(vals, ","))
	cfg := e.config(t, map[string]string{
		"key.converter.schemas.enable": "false", "value.converter.schemas.enable": "false",
		"signal.data.collection": e.db + ".debezium_signal", "incremental.snapshot.chunk.size": "10",
	})
	in := e.start(t, cfg)
	topic := e.prefix + "." + e.db + ".p"

	sendSignals(t, e, "execute-snapshot", executeData(e.db+".p"), "pause-snapshot", "")
	waitOffset(t, e, func(s string) bool { return strings.Contains(s, `\"paused\":true`) })
	e.srv.Exec(t, e.db, "INSERT INTO p VALUES (-1, -1)") // marker: everything before it was handed out
	recs := consumeUntil(t, e.brokers, func(r []record) bool {
		return len(r) > 0 && r[len(r)-1].Key["id"] == -1.0
	}, topic)
	paused := len(incrementalReads(t, recs))
	if paused >= rows/2 {
		t.Errorf("%d rows read while paused (chunks of 10 of %d rows)", paused, rows)
	}
	sendSignals(t, e, "resume-snapshot", "")
	waitLog(t, in, "incremental snapshot complete", 1)
	recs = consumeUntil(t, e.brokers, func(r []record) bool { return len(incrementalReads(t, r)) >= rows }, topic)
	if n := len(incrementalReads(t, recs)); n != rows {
		t.Fatalf("%d incremental rows after resume, want %d", n, rows)
	}
	t.Logf("%d rows read while paused, %d in all", paused, rows)

	sendSignals(t, e, "execute-snapshot", executeData(e.db+".p"), "stop-snapshot", `{"type":"incremental"}`)
	waitLog(t, in, "incremental snapshot stopped", 1)
	waitOffset(t, e, func(s string) bool { return !strings.Contains(s, "rivulet_incremental") })
	e.srv.Exec(t, e.db, "INSERT INTO p VALUES (-2, -2)")
	recs = consumeUntil(t, e.brokers, func(r []record) bool {
		return len(r) > 0 && r[len(r)-1].Key["id"] == -2.0
	}, topic)
	if n := len(incrementalReads(t, recs)) - rows; n >= rows/2 {
		t.Errorf("the stopped snapshot emitted %d rows", n)
	}
	if strings.Count(in.log.String(), "incremental snapshot complete") != 1 {
		t.Errorf("the stopped snapshot completed")
	}
	in.stop()
}

// TestSignal_KafkaChannel asks for an incremental snapshot with
// additional-conditions through the Kafka signal topic (key = topic.prefix);
// a record with another key is ignored.
func TestSignal_KafkaChannel(t *testing.T) {
	e := newE2E(t)
	e.srv.Exec(t, e.db, `CREATE TABLE k (id INT PRIMARY KEY, v VARCHAR(10))`)
	var vals []string
	for i := 1; i <= 20; i++ {
		vals = append(vals, fmt.Sprintf("(%d, 'v%d')", i, i))
	}
	e.srv.Exec(t, e.db, "INSERT INTO k VALUES "+strings.Join(vals, ","))
	sigTopic := e.prefix + "-signal"
	produce := func(key, value string) {
		t.Helper()
		cl, err := kgo.NewClient(kgo.SeedBrokers(e.brokers...), kgo.AllowAutoTopicCreation())
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: sigTopic, Key: []byte(key), Value: []byte(value)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	exec := `{"type":"execute-snapshot","data":{"data-collections":["` + e.db + `.k"],"type":"incremental"}}`
	produce("someone-else", exec) // not this connector's: ignored
	cfg := e.config(t, map[string]string{
		"key.converter.schemas.enable": "false", "value.converter.schemas.enable": "false",
		"signal.enabled.channels": "source,kafka", "signal.kafka.topic": sigTopic,
	})
	in := e.start(t, cfg)
	produce(e.prefix, `{"type":"execute-snapshot","data":{"data-collections":["`+e.db+`.k"],"type":"incremental",`+
		`"additional-conditions":[{"data-collection":"`+e.db+`.k","filter":"id > 10"}]}}`)
	waitLog(t, in, "incremental snapshot complete", 1)
	e.srv.Exec(t, e.db, "INSERT INTO k VALUES (-1, 'end')")
	recs := consumeUntil(t, e.brokers, func(r []record) bool {
		return len(r) > 0 && r[len(r)-1].Key["id"] == -1.0
	}, e.prefix+"."+e.db+".k")
	reads := incrementalReads(t, recs)
	if len(reads) != 10 {
		t.Errorf("%d incremental rows, want 10 (id > 10)", len(reads))
	}
	for _, r := range reads {
		if id := r.Key["id"].(float64); id <= 10 {
			t.Errorf("row id %v read despite the additional condition", id)
		}
	}
	if strings.Count(in.log.String(), "incremental snapshot started") != 1 {
		t.Errorf("the signal keyed by another connector was not ignored")
	}
	in.stop()
}
