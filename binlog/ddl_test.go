package binlog

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/internal/testenv"
	"github.com/rivulet-cdc/rivulet/schema"
)

func TestStatusVars(t *testing.T) {
	// Q_FLAGS2, Q_SQL_MODE, Q_CATALOG_NZ "std", Q_CHARSET (33, 33, 45).
	b := []byte{0, 0, 0, 0, 0, 1, 4, 0, 0, 0, 0, 0, 0, 0, 6, 3, 's', 't', 'd', 4, 33, 0, 33, 0, 45, 0}
	mode, has, coll := statusVars(b)
	if mode != 4 || !has || coll != 45 {
		t.Errorf("statusVars = %d %v %d, want 4 true 45", mode, has, coll)
	}
	for i := range b { // truncated input must not panic
		statusVars(b[:i])
	}
}

// TestReader_DDLTracking writes a history of inserts and DDL before the
// reader starts, so that only the tracked model (not the live schema) can
// decode each row: every event must carry the columns of its moment.
func TestReader_DDLTracking(t *testing.T) {
	srv := testenv.MariaDB(t)
	db := srv.Database(t)
	srv.Exec(t, db, "CREATE TABLE t (id INT PRIMARY KEY, a VARCHAR(10))")
	h := newHarness(t, srv, db)
	f, err := schema.NewFilter(schema.FilterConfig{DatabaseIncludeList: db})
	if err != nil {
		t.Fatal(err)
	}
	tr := schema.NewTracker(schema.TrackerConfig{Filter: f})
	if _, err := tr.LoadFrom(t.Context(), h.loader); err != nil {
		t.Fatal(err)
	}
	h.cfg.Tables, h.cfg.DDL = tr, tr
	from := h.now()
	srv.Exec(t, db,
		"INSERT INTO t VALUES (1, 'x')",
		"ALTER TABLE t ADD COLUMN b INT",
		"INSERT INTO t VALUES (2, 'y', 20)",
		"ALTER TABLE t DROP COLUMN a",
		"INSERT INTO t VALUES (3, 30)",
		"ALTER TABLE t CHANGE b c BIGINT UNSIGNED",
		"INSERT INTO t VALUES (4, 40)",
		"ALTER TABLE t ADD COLUMN d VARCHAR(3) FIRST",
		"INSERT INTO t (d, id, c) VALUES ('z', 5, 50)",
		"CREATE TABLE u (k INT PRIMARY KEY, s TEXT)",
		"INSERT INTO u VALUES (1, 'u1')",
		"RENAME TABLE t TO tmp, u TO t, tmp TO u",
		"INSERT INTO t VALUES (2, 't2')",
		"INSERT INTO u VALUES ('w', 6, 60)",
		"DROP TABLE u",
		"CREATE TABLE u (q DATE PRIMARY KEY)",
		"INSERT INTO u VALUES ('2020-01-02')",
		"TRUNCATE TABLE t",
		"INSERT INTO t VALUES (3, 't3')",
		// Logged in ROW format as CREATE TABLE with explicit columns + rows.
		"CREATE TABLE c AS SELECT 7 AS x",
	)
	type row struct {
		Table string
		Cols  []string
		After []string
	}
	want := []row{
		{"t", []string{"id", "a"}, []string{"int:1", "str:x"}},
		{"t", []string{"id", "a", "b"}, []string{"int:2", "str:y", "int:20"}},
		{"t", []string{"id", "b"}, []string{"int:3", "int:30"}},
		{"t", []string{"id", "c"}, []string{"int:4", "uint:40"}},
		{"t", []string{"d", "id", "c"}, []string{"str:z", "int:5", "uint:50"}},
		{"u", []string{"k", "s"}, []string{"int:1", "str:u1"}},
		{"t", []string{"k", "s"}, []string{"int:2", "str:t2"}},
		{"u", []string{"d", "id", "c"}, []string{"str:w", "int:6", "uint:60"}},
		{"u", []string{"q"}, []string{"date:2020-01-02"}},
		{"t", []string{"k", "s"}, nil}, // TRUNCATE TABLE t: op t, no row images
		{"t", []string{"k", "s"}, []string{"int:3", "str:t3"}},
		{"c", []string{"x"}, []string{"int:7"}},
	}
	rn := h.start(from)
	evs, batches := rn.events(t, len(want))
	var got []row
	for _, ev := range evs {
		var cols []string
		for _, c := range ev.Table.Columns {
			cols = append(cols, c.Name)
		}
		got = append(got, row{ev.Table.Name, cols, showRow(ev.After)})
		if ev.Op != event.OpCreate && (ev.Op != event.OpTruncate || ev.After != nil) {
			t.Errorf("op %c, want c (or t for the TRUNCATE)", ev.Op)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	var ddl []string
	for _, b := range batches {
		for _, c := range b.Schema {
			ddl = append(ddl, c.DDL)
		}
	}
	for _, w := range []string{"ALTER TABLE t ADD COLUMN b INT", "RENAME TABLE t TO tmp, u TO t, tmp TO u", "DROP TABLE `u`"} {
		if !slices.ContainsFunc(ddl, func(s string) bool { return s == w || len(s) > len(w) && s[:len(w)] == w }) {
			t.Errorf("no schema change %q in the batches; got %q", w, ddl)
		}
	}
}

func TestReader_DDLUnparseableStops(t *testing.T) {
	srv := testenv.MariaDB(t)
	db := srv.Database(t)
	srv.Exec(t, db, "CREATE TABLE t (id INT PRIMARY KEY)")
	h := newHarness(t, srv, db)
	tr := schema.NewTracker(schema.TrackerConfig{})
	if _, err := tr.LoadFrom(t.Context(), h.loader); err != nil {
		t.Fatal(err)
	}
	h.cfg.Tables, h.cfg.DDL = tr, tr
	from := h.now()
	// MariaDB's REF_SYSTEM_ID column attribute is not in the TiDB grammar.
	const stmt = "ALTER TABLE t ADD COLUMN g GEOMETRY REF_SYSTEM_ID=4326 INVISIBLE"
	srv.Exec(t, db, stmt)
	r := h.reader()
	out := make(chan Batch, 16)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	err := r.Run(ctx, from, out)
	var de *schema.DDLError
	if !errors.As(err, &de) || de.SQL != stmt || IsRetryable(err) {
		t.Fatalf("Run = %v, want a fatal DDL error naming the statement", err)
	}
}

func FuzzStatusVars(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 0, 1, 4, 0, 0, 0, 0, 0, 0, 0, 6, 3, 's', 't', 'd', 4, 33, 0, 33, 0, 45, 0})
	f.Add([]byte{11, 4, 'r', 'o', 'o', 't', 9, 'l', 'o', 'c', 'a', 'l', 'h', 'o', 's', 't', 12, 2, 'a', 0, 'b', 0})
	f.Add([]byte{12, 254, 128, 1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		statusVars(b) // must not panic on any input
	})
}
