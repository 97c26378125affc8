package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSchema_RecoveryRebuildsLostHistory loses the schema history while an
// offset is stored: a restart stops with the remedy, and
// snapshot.mode=recovery rebuilds the history from the live schema and
// streams on from the stored offset.
func TestSchema_RecoveryRebuildsLostHistory(t *testing.T) {
	e := newE2E(t)
	e.srv.Exec(t, e.db, "CREATE TABLE t (id INT PRIMARY KEY, a VARCHAR(10))")
	history := filepath.Join(e.dir, "history.jsonl")
	base := map[string]string{
		"schema.history.internal":               "io.debezium.storage.file.history.FileSchemaHistory",
		"schema.history.internal.file.filename": history,
		"value.converter.schemas.enable":        "false",
	}
	in := e.start(t, e.config(t, base))
	e.srv.Exec(t, e.db, "INSERT INTO t VALUES (1, 'x')")
	topic := e.prefix + "." + e.db + ".t"
	consume(t, e.brokers, 1, topic)
	in.stop()

	if err := os.Remove(history); err != nil {
		t.Fatal(err)
	}
	out, code := runBinary(t, "run", "--config", e.config(t, base))
	if code != 1 || !strings.Contains(out, "schema history") || !strings.Contains(out, "snapshot.mode=recovery") {
		t.Fatalf("restart without history: exit %d, want 1 and the remedy:\n%s", code, out)
	}

	rec := map[string]string{"snapshot.mode": "recovery"}
	for k, v := range base {
		rec[k] = v
	}
	in = e.start(t, e.config(t, rec))
	e.srv.Exec(t, e.db, "INSERT INTO t VALUES (2, 'y')")
	if a := lastByID(t, e.brokers, 2, topic)[2]; a["a"] != "y" {
		t.Errorf("row after recovery = %v", a)
	}
	in.stop()
	if b, err := os.ReadFile(history); err != nil || !strings.Contains(string(b), `"tableChanges"`) {
		t.Errorf("recovery did not record the live schema in %s: %v %.200s", history, err, b)
	}
}

// TestSchema_UnparseableDDLStopsThenReloads: with
// schema.history.internal.unparseable.ddl.fallback=fail a statement the
// parser cannot take on a captured table stops the stream with the choices;
// with the default fallbacks the restart rebuilds the table (from the next
// TABLE_MAP's full row metadata) and streams on with its new columns.
func TestSchema_UnparseableDDLStopsThenReloads(t *testing.T) {
	e := newE2E(t)
	e.srv.Exec(t, e.db, "CREATE TABLE t (id INT PRIMARY KEY, a VARCHAR(10))")
	base := map[string]string{"value.converter.schemas.enable": "false", "schema.history.internal.unparseable.ddl.fallback": "fail"}
	in := e.start(t, e.config(t, base))
	e.srv.Exec(t, e.db, "INSERT INTO t VALUES (1, 'x')", "ALTER TABLE t ADD COLUMN g GEOMETRY REF_SYSTEM_ID=4326 INVISIBLE", "INSERT INTO t VALUES (2, 'y')")
	select {
	case <-in.exited:
	case <-time.After(60 * time.Second):
		t.Fatalf("rivulet did not stop on an unparseable DDL\n%s", in.log.String())
	}
	logs := in.log.String()
	for _, want := range []string{"REF_SYSTEM_ID=4326", "unparseable.ddl.fallback=reload", "skip.unparseable.ddl=true"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the stop does not name %q:\n%s", want, logs)
		}
	}
	if in.err == nil {
		t.Errorf("rivulet exited 0 on an unparseable DDL")
	}

	reload := map[string]string{"value.converter.schemas.enable": "false"}
	in = e.start(t, e.config(t, reload))
	e.srv.Exec(t, e.db, "INSERT INTO t VALUES (3, 'z')")
	topic := e.prefix + "." + e.db + ".t"
	// At least once: the stop on the DDL may come before the offset of row 1
	// was committed, so row 1 can arrive twice; judge the last row per id.
	byID := lastByID(t, e.brokers, 3, topic)
	for i, want := range []string{"x", "y", "z"} {
		if a := byID[float64(i+1)]; a == nil || a["a"] != want {
			t.Errorf("row %d after = %v, want a=%s", i+1, a, want)
		}
	}
	if !strings.Contains(in.log.String(), "rebuilt from the binlog's full row metadata") {
		t.Errorf("the fallback was not logged:\n%s", in.log.String())
	}
	in.stop()
}

// TestSchema_ReloadRefusedWhenChangedLater: no fallback holds when a later
// statement changes the same table again before any row of it (the
// server's definition is then not the one after the unparseable statement,
// and no TABLE_MAP tells it): the stream stops naming the later statement.
// With a row in between, the row's TABLE_MAP metadata resolves it.
func TestSchema_ReloadRefusedWhenChangedLater(t *testing.T) {
	e := newE2E(t)
	e.srv.Exec(t, e.db, "CREATE TABLE t (id INT PRIMARY KEY, a VARCHAR(10))", "CREATE TABLE u (id INT PRIMARY KEY, a VARCHAR(10))")
	cfg := map[string]string{"value.converter.schemas.enable": "false"}
	in := e.start(t, e.config(t, cfg))
	in.stop()
	e.srv.Exec(t, e.db, "ALTER TABLE u ADD COLUMN g GEOMETRY REF_SYSTEM_ID=4326 INVISIBLE", "INSERT INTO u VALUES (1, 'x')",
		"SET SESSION system_versioning_alter_history = KEEP", "ALTER TABLE u ADD COLUMN b INT", "INSERT INTO u VALUES (2, 'y', 2)")
	e.srv.Exec(t, e.db, "ALTER TABLE t ADD COLUMN g GEOMETRY REF_SYSTEM_ID=4326 INVISIBLE",
		"SET SESSION system_versioning_alter_history = KEEP", "ALTER TABLE t ADD COLUMN b INT", "INSERT INTO t VALUES (2, 'y', 2)")
	out, code := runBinary(t, "run", "--config", e.config(t, cfg))
	if code != 1 || !strings.Contains(out, "a later statement changes") || !strings.Contains(out, "ALTER TABLE t ADD COLUMN b INT") {
		t.Fatalf("fallback with a later ALTER: exit %d, want 1 naming the later statement:\n%s", code, out)
	}
	if !strings.Contains(out, "rebuilt from the binlog's full row metadata") || !strings.Contains(out, "table="+e.db+".u") {
		t.Errorf("table u (a row between the statements) was not rebuilt from the row metadata:\n%s", out)
	}
}
