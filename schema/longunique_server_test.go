package schema

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/rivulet-cdc/rivulet/internal/testenv"
)

// TestLongUniqueHashColumns_MariaDB: the tracker's count of hidden hash
// columns equals the long unique keys information_schema shows (unique
// keys of INDEX_TYPE HASH outside MEMORY), after CREATE and ALTER TABLE,
// for InnoDB, MyISAM and MEMORY tables; each holds a hidden column of
// the row images (measured with mariadb-binlog -vv, see
// TestLongUniqueHashColumns).
func TestLongUniqueHashColumns_MariaDB(t *testing.T) {
	srv := testenv.MariaDB(t)
	db := srv.Database(t)
	tr := NewTracker(TrackerConfig{MariaDB: true})
	tr.SetDatabase(db, "utf8mb4")
	stmts := []string{
		"CREATE TABLE t1 (a INT PRIMARY KEY, b BLOB, c VARCHAR(1000) CHARACTER SET utf8mb4, UNIQUE(b), UNIQUE(a, b), UNIQUE(b(10)), UNIQUE(c))",
		"CREATE TABLE t2 (a INT, b VARCHAR(501) CHARACTER SET latin1, c VARCHAR(500) CHARACTER SET latin1, UNIQUE(b, c), UNIQUE(a) USING HASH) ENGINE=MyISAM",
		"CREATE TABLE t3 (a INT, b VARCHAR(100), UNIQUE(a, b) USING HASH) ENGINE=MEMORY",
		"CREATE TABLE t4 (a INT, b VARCHAR(100) CHARACTER SET latin1, UNIQUE KEY ub (b))",
		"ALTER TABLE t4 MODIFY b VARCHAR(4000) CHARACTER SET latin1",
		"ALTER TABLE t4 ADD c TEXT, ADD UNIQUE KEY uc (c, a)",
		"ALTER TABLE t3 ENGINE=InnoDB",
		"ALTER TABLE t1 DROP INDEX b",
		"ALTER TABLE t4 DROP INDEX uc, DROP COLUMN c",
		"CREATE TABLE t5 (a INT, s DATE, e DATE, t TEXT, PERIOD FOR p(s, e), UNIQUE (a, p WITHOUT OVERLAPS), UNIQUE (t))",
	}
	c, err := srv.Connect(db)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i, s := range stmts {
		srv.Exec(t, db, s)
		if _, err := tr.ApplyDDL(t.Context(), DDL{DB: db, SQL: s, Pos: "test"}); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		r, err := c.Execute("SELECT s.TABLE_NAME, COUNT(DISTINCT s.INDEX_NAME) FROM information_schema.STATISTICS s " +
			"JOIN information_schema.TABLES t USING (TABLE_SCHEMA, TABLE_NAME) WHERE s.TABLE_SCHEMA = '" + db + "' " +
			"AND s.INDEX_TYPE = 'HASH' AND s.NON_UNIQUE = 0 AND t.ENGINE <> 'MEMORY' GROUP BY 1")
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int{}
		for j := range r.RowNumber() {
			name, _ := r.GetString(j, 0)
			n, _ := r.GetInt(j, 1)
			want[name] = int(n)
		}
		r.Close()
		for _, name := range []string{"t1", "t2", "t3", "t4", "t5"} {
			d := tr.Def(db, name)
			if d == nil {
				continue
			}
			if d.Table.HashColumns != want[name] {
				t.Errorf("#%d %s: %s has %d hash columns, information_schema %d", i, s, name, d.Table.HashColumns, want[name])
			}
		}
	}
	if n := tr.Def(db, "t1").Table.HashColumns; n != 2 {
		t.Errorf("t1 at the end: %d hash columns, want 2", n)
	}
	// The schema history keeps them (the index list's Long), without an
	// ENGINE to work them out again.
	for _, name := range []string{"t1", "t2", "t4"} {
		data, err := json.Marshal(encodeTable(tr.Def(db, name), false))
		if err != nil {
			t.Fatal(err)
		}
		var back tableJSON
		if err := json.Unmarshal(data, &back); err != nil {
			t.Fatal(err)
		}
		d, err := decodeTable(TableID{db, name}, &back)
		if err != nil {
			t.Fatal(err)
		}
		if want := tr.Def(db, name).Table.HashColumns; d.Table.HashColumns != want {
			t.Errorf("%s after the history: %d hash columns, want %d (%s)", name, d.Table.HashColumns, want, strings.TrimSpace(string(data)))
		}
	}
}
