package binlog

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/rivulet-cdc/rivulet/internal/testenv"
)

// TestReader_LongUniqueHashColumns: MariaDB's long unique keys put a hidden
// BIGINT (DB_ROW_HASH_n) after the last column of every row image; the
// reader decodes past them and emits the table's columns only, with the
// table map's column names (binlog_row_metadata=FULL) and with the
// tracker's count alone (MINIMAL).
func TestReader_LongUniqueHashColumns(t *testing.T) {
	for _, meta := range []string{"FULL", "MINIMAL"} {
		t.Run(meta, func(t *testing.T) {
			srv := testenv.StartMariaDB(t, testenv.WithArgs("--binlog-row-metadata="+meta))
			db := srv.Database(t)
			h := newHarness(t, srv, db)
			fallbackTracker(t, h, srv, db)
			from := h.now()
			srv.Exec(t, db,
				"CREATE TABLE t (id INT PRIMARY KEY, b BLOB, c VARCHAR(1000) CHARACTER SET utf8mb4, UNIQUE(b), UNIQUE(c), UNIQUE(id, b))",
				"INSERT INTO t VALUES (1, 'x', 'y')",
				"UPDATE t SET b = 'z' WHERE id = 1",
				"ALTER TABLE t ADD d TEXT, ADD UNIQUE (d)",
				"INSERT INTO t VALUES (2, 'p', 'q', 'r')",
				"ALTER TABLE t DROP INDEX b, DROP INDEX c",
				"DELETE FROM t WHERE id = 2",
			)
			rn := h.start(from)
			evs, _ := rn.events(t, 4)
			var got []string
			for _, ev := range evs {
				row := ev.After
				if row == nil {
					row = ev.Before
				}
				got = append(got, fmt.Sprintf("%d cols %d: %s", len(ev.Table.Columns), ev.Table.HashColumns, strings.Join(showRow(row), ",")))
			}
			want := []string{
				"3 cols 3: int:1,bytes:78,str:y",
				"3 cols 3: int:1,bytes:7a,str:y",
				"4 cols 4: int:2,bytes:70,str:q,str:r",
				"4 cols 2: int:2,bytes:70,str:q,str:r",
			}
			if !slices.Equal(got, want) {
				t.Errorf("events:\n got %q\nwant %q", got, want)
			}
			rn.stop(t)
		})
	}
}

// TestReader_VersionedKeyFromMetadata: MariaDB adds row_end to the keys of
// a system-versioned table and the TABLE_MAP's primary key says so; a table
// rebuilt from the row metadata keeps the declared key, as
// information_schema and the DDL give it (suite/period overlaps.test).
func TestReader_VersionedKeyFromMetadata(t *testing.T) {
	srv := testenv.MariaDB(t)
	db := srv.Database(t)
	srv.Exec(t, db, "CREATE TABLE v (id INT PRIMARY KEY, a INT) WITH SYSTEM VERSIONING")
	h := newHarness(t, srv, db)
	_, kinds := fallbackTracker(t, h, srv, db)
	from := h.now()
	srv.Exec(t, db,
		"SET SESSION system_versioning_alter_history = KEEP",
		"ALTER TABLE v ADD COLUMN g GEOMETRY REF_SYSTEM_ID=4326 INVISIBLE",
		"INSERT INTO v (id, a) VALUES (1, 2)")
	rn := h.start(from)
	evs, _ := rn.events(t, 1)
	tb := evs[0].Table
	var cols []string
	for _, c := range tb.Columns {
		cols = append(cols, c.Name)
	}
	if want := []string{"id", "a", "g", "row_start", "row_end"}; !slices.Equal(cols, want) {
		t.Errorf("columns %q, want %q", cols, want)
	}
	if !slices.Equal(tb.PrimaryKey, []int{0}) {
		t.Errorf("primary key %v, want [0] (id)", tb.PrimaryKey)
	}
	if k := kinds()["v"]; k != "binlog_metadata" {
		t.Errorf("fallback %q, want binlog_metadata", k)
	}
	rn.stop(t)
}
