package main

import (
	"regexp"
	"strings"
	"testing"
)

// TestSchema_HistoryShowAndRestart streams across DDL, lists the recorded
// history and the model at the stored offset, then alters the table while
// rivulet is down: after the restart (model rebuilt from the history topic)
// each row carries the columns of its moment.
func TestSchema_HistoryShowAndRestart(t *testing.T) {
	e := newE2E(t)
	e.srv.Exec(t, e.db, "CREATE TABLE t (id INT PRIMARY KEY, a VARCHAR(10))")
	cfg := e.config(t, nil)
	in := e.start(t, cfg)
	in.waitReady()
	e.srv.Exec(t, e.db, "INSERT INTO t VALUES (1, 'x')", "ALTER TABLE t ADD COLUMN b INT", "INSERT INTO t VALUES (2, 'y', 20)")
	topic := e.prefix + "." + e.db + ".t"
	recs := consume(t, e.brokers, 2, topic)
	in.stop()
	if !strings.Contains(in.log.String(), `msg="DDL applied"`) {
		t.Errorf("no state-change log line for the ALTER:\n%s", in.log.String())
	}
	after := payload(recs[1].Value)["after"].(map[string]any)
	if after["b"] != float64(20) || after["a"] != "y" {
		t.Errorf("second row after = %v", after)
	}

	// The schema-change event of the ALTER on the topic named topic.prefix.
	changes := consumeUntil(t, e.brokers, func(r []record) bool {
		for _, rec := range r {
			if v := payload(rec.Value); v != nil && v["ddl"] == "ALTER TABLE t ADD COLUMN b INT" {
				return true
			}
		}
		return false
	}, e.prefix)
	var alter map[string]any
	for _, rec := range changes {
		if v := payload(rec.Value); v != nil && v["ddl"] == "ALTER TABLE t ADD COLUMN b INT" {
			alter = v
			if k := payload(rec.Key); k["databaseName"] != e.db {
				t.Errorf("schema change key = %v", rec.Key)
			}
		}
	}
	if alter == nil {
		t.Fatalf("no schema-change event for the ALTER on topic %s", e.prefix)
	}
	tc := alter["tableChanges"].([]any)[0].(map[string]any)
	cols := tc["table"].(map[string]any)["columns"].([]any)
	if tc["type"] != "ALTER" || tc["id"] != `"`+e.db+`"."t"` || len(cols) != 3 || cols[2].(map[string]any)["name"] != "b" ||
		alter["databaseName"] != e.db || alter["source"].(map[string]any)["db"] != e.db {
		t.Errorf("schema change event = %v", alter)
	}

	out, errOut, code := cli(t, "schema", "history", "--config", cfg)
	if code != 0 || !strings.Contains(out, "ALTER TABLE t ADD COLUMN b INT") || !strings.Contains(out, "CREATE "+e.db+".t") {
		t.Errorf("schema history: code %d\n%s\n%s", code, out, errOut)
	}
	out, errOut, code = cli(t, "schema", "show", "--config", cfg)
	if code != 0 || !strings.Contains(out, e.db+".t (captured") || !regexp.MustCompile(`\n\s+3\s+b\s+INT\(11\)`).MatchString(out) {
		t.Errorf("schema show: code %d\n%s\n%s", code, out, errOut)
	}

	e.srv.Exec(t, e.db, "ALTER TABLE t DROP COLUMN a", "INSERT INTO t VALUES (3, 30)", "ALTER TABLE t CHANGE b c BIGINT", "INSERT INTO t VALUES (4, 40)")
	in = e.start(t, cfg)
	in.waitReady()
	rows := lastByID(t, e.brokers, 4, topic)
	in.stop()
	third, fourth := rows[3], rows[4]
	if len(third) != 2 || third["b"] != float64(30) || len(fourth) != 2 || fourth["c"] != float64(40) {
		t.Errorf("rows after restart: %v, %v", third, fourth)
	}
}
