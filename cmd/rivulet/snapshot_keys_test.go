package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestSnapshot_MessageKeyColumns: message.key.columns replaces the key of a
// table with a primary key, and gives a table without one both its key and
// its snapshot chunk key (read in key order, in chunks, not whole).
func TestSnapshot_MessageKeyColumns(t *testing.T) {
	e := newE2E(t)
	e.srv.Exec(t, e.db,
		`CREATE TABLE k_nopk (ref VARCHAR(10) NOT NULL, v INT)`,
		// Out of key order: a whole-table read would return insertion order.
		`INSERT INTO k_nopk VALUES ('r7', 7), ('r2', 2), ('r9', 9), ('r1', 1), ('r5', 5), ('r3', 3), ('r8', 8)`,
		`CREATE TABLE k_pk (id INT PRIMARY KEY, email VARCHAR(30) NOT NULL, v INT)`,
		`INSERT INTO k_pk VALUES (1, 'a@x', 1), (2, 'b@x', 2)`,
	)
	cfg := e.config(t, map[string]string{
		"key.converter.schemas.enable": "false", "value.converter.schemas.enable": "false",
		"snapshot.mode": "initial", "snapshot.fetch.size": "3",
		"message.key.columns": e.db + ".k_nopk:ref;" + e.db + ".k_pk:email",
	})
	in := e.start(t, cfg)
	nopk, pk := e.prefix+"."+e.db+".k_nopk", e.prefix+"."+e.db+".k_pk"

	recs := consume(t, e.brokers, 7, nopk)
	var refs []string
	for _, r := range recs {
		if len(r.Key) != 1 {
			t.Fatalf("k_nopk key = %s, want only ref", r.RawKey)
		}
		refs = append(refs, r.Key["ref"].(string))
	}
	if want := []string{"r1", "r2", "r3", "r5", "r7", "r8", "r9"}; !slices.Equal(refs, want) {
		t.Errorf("k_nopk snapshot keys = %v, want %v (chunked in key order)", refs, want)
	}
	checkSnapshotDone(t, e)

	e.srv.Exec(t, e.db, `UPDATE k_nopk SET v = 30 WHERE ref = 'r3'`, `UPDATE k_pk SET v = 20 WHERE id = 2`)
	recs = consume(t, e.brokers, 8, nopk)
	if last := recs[7]; last.Value["op"] != "u" || fmt.Sprint(last.Key) != "map[ref:r3]" {
		t.Errorf("streamed k_nopk record: key %s op %v", last.RawKey, last.Value["op"])
	}
	recs = consume(t, e.brokers, 3, pk)
	for _, r := range recs {
		if _, ok := r.Key["email"]; !ok || len(r.Key) != 1 {
			t.Errorf("k_pk key = %s, want {email}", r.RawKey)
		}
	}
	if recs[2].Value["op"] != "u" || recs[2].Key["email"] != "b@x" {
		t.Errorf("streamed k_pk record: key %s op %v", recs[2].RawKey, recs[2].Value["op"])
	}
	in.stop()
}

// TestSnapshot_ConfigurationBased maps Debezium's configuration_based keys:
// snapshot.data without start.stream snapshots on every start and exits;
// start.stream without snapshot.data streams only.
func TestSnapshot_ConfigurationBased(t *testing.T) {
	e := newE2E(t)
	e.srv.Exec(t, e.db, `CREATE TABLE m (id INT PRIMARY KEY)`, `INSERT INTO m VALUES (1), (2), (3)`)
	const cb = "snapshot.mode.configuration.based."
	t.Run("data without stream", func(t *testing.T) {
		e.prefix = "cbdata"
		cfg := e.config(t, map[string]string{"snapshot.mode": "configuration_based", cb + "snapshot.data": "true"})
		for run := range 2 {
			out, err := exec.Command(rivuletBinary(t), "run", "--config", cfg).CombinedOutput()
			if err != nil {
				t.Fatalf("run %d: %v\n%s", run, err, out)
			}
			if !strings.Contains(string(out), "does not stream, stopping") {
				t.Errorf("run %d did not stop after its snapshot:\n%s", run, out)
			}
		}
		// Debezium's ConfigurationBasedSnapshotter snapshots whenever snapshot.data is set.
		consume(t, e.brokers, 6, e.prefix+"."+e.db+".m")
	})
	t.Run("stream without data", func(t *testing.T) {
		e.prefix = "cbstream"
		e.dir = t.TempDir()
		cfg := e.config(t, map[string]string{
			"snapshot.mode": "configuration_based", cb + "snapshot.schema": "true", cb + "start.stream": "true",
			"value.converter.schemas.enable": "false",
		})
		in := e.start(t, cfg)
		e.srv.Exec(t, e.db, `INSERT INTO m VALUES (4)`)
		recs := consume(t, e.brokers, 1, e.prefix+"."+e.db+".m")
		in.stop()
		if len(recs) != 1 || recs[0].Value["op"] != "c" {
			t.Errorf("records %v, want only the streamed insert", recs)
		}

		// snapshot.on.data.error without snapshot.data: a purged stored
		// position starts afresh from the current end, with a warning.
		path := filepath.Join(e.dir, "offsets.json")
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		file := e.srv.Query(t, "", "SHOW MASTER STATUS")[0][0]
		// A file before the earliest, without GTIDs (a GTID set would still resume): purged.
		gone := gtidsField.ReplaceAllString(strings.ReplaceAll(string(b), file, "mysql-bin.000000"), "")
		if err := os.WriteFile(path, []byte(gone), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg = e.config(t, map[string]string{
			"snapshot.mode": "configuration_based", cb + "start.stream": "true", cb + "snapshot.on.data.error": "true",
			"value.converter.schemas.enable": "false",
		})
		in = e.start(t, cfg)
		e.srv.Exec(t, e.db, `INSERT INTO m VALUES (5)`)
		recs = consume(t, e.brokers, 2, e.prefix+"."+e.db+".m")
		in.stop()
		if len(recs) != 2 || recs[1].Value["op"] != "c" || recs[1].Value["after"].(map[string]any)["id"] != 5.0 {
			t.Errorf("records after the purge %v, want the insert of 5", recs)
		}
		if !strings.Contains(in.log.String(), "starting afresh from the current position") {
			t.Errorf("no warning about the fresh start:\n%s", in.log.String())
		}
	})
}

// gtidsField matches the GTID set of a stored offset value, escaped JSON inside the file store's JSON.
var gtidsField = regexp.MustCompile(`,?\\?"gtids\\?":\\?"[^"\\]*\\?"`)
