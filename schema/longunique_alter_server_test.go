package schema

import (
	"testing"

	"github.com/rivulet-cdc/rivulet/internal/testenv"
)

// TestLongUniqueAfterAlter_MariaDB: the tracker's count of hidden hash
// columns equals the long unique keys information_schema shows after
// statements that prepare the table's keys again (ALTER TABLE, CREATE and
// DROP INDEX make a key long only by USING HASH a plain unique key,
// main/long_unique_bugs MDEV-18798) and after those that do not (RENAME,
// DISABLE KEYS, DROP COLUMN IF EXISTS of a column not there).
func TestLongUniqueAfterAlter_MariaDB(t *testing.T) {
	srv := testenv.MariaDB(t)
	db := srv.Database(t)
	c, err := srv.Connect(db)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, ss := range [][]string{
		{"CREATE TABLE t1 (a INT, UNIQUE ind USING HASH (a)) ENGINE=InnoDB", "ALTER TABLE t1 FORCE"},
		{"CREATE TABLE t1 (a INT, UNIQUE ind USING HASH (a)) ENGINE=InnoDB", "ALTER TABLE t1 ADD c INT"},
		{"CREATE TABLE t1 (a INT, UNIQUE ind USING HASH (a)) ENGINE=InnoDB", "ALTER TABLE t1 CHANGE COLUMN IF EXISTS b a INT"},
		{"CREATE TABLE t1 (a INT, UNIQUE ind USING HASH (a)) ENGINE=InnoDB", "ALTER TABLE t1 DROP COLUMN IF EXISTS b"},
		{"CREATE TABLE t1 (a INT, UNIQUE ind USING HASH (a)) ENGINE=MyISAM", "ALTER TABLE t1 COMMENT 'x'"},
		{"CREATE TABLE t1 (a INT, UNIQUE ind USING HASH (a)) ENGINE=InnoDB", "ALTER TABLE t1 RENAME TO t1x", "ALTER TABLE t1x RENAME TO t1"},
		{"CREATE TABLE t1 (a INT, UNIQUE ind USING HASH (a)) ENGINE=MyISAM", "ALTER TABLE t1 DISABLE KEYS"},
		{"CREATE TABLE t1 (a INT, b TEXT, UNIQUE ind USING HASH (a), UNIQUE(b)) ENGINE=InnoDB", "ALTER TABLE t1 ADD c INT, ADD UNIQUE uc (c) USING HASH"},
		{"CREATE TABLE t1 (a INT, UNIQUE ind USING HASH (a)) ENGINE=InnoDB", "CREATE INDEX ib ON t1 (a)"},
		{"CREATE TABLE t1 (a INT, UNIQUE ind USING HASH (a)) ENGINE=InnoDB", "ALTER TABLE t1 ADD INDEX ib (a)"},
		{"CREATE TABLE t1 (a INT, UNIQUE ind USING HASH (a)) ENGINE=MEMORY", "ALTER TABLE t1 ENGINE=InnoDB"},
		{"CREATE TABLE t1 (a INT, b INT, UNIQUE ind USING HASH (a), KEY kb (b)) ENGINE=InnoDB", "DROP INDEX kb ON t1"},
		{"CREATE TABLE t1 (a INT, b INT, UNIQUE ind USING HASH (a)) ENGINE=InnoDB", "DROP INDEX IF EXISTS kb ON t1"},
		{"CREATE TABLE t1 (a INT, UNIQUE ind USING HASH (a)) ENGINE=InnoDB", "ALTER TABLE t1 ADD b INT", "ALTER TABLE t1 ADD UNIQUE ub (b) USING HASH"},
	} {
		tr := NewTracker(TrackerConfig{MariaDB: true})
		tr.SetDatabase(db, "utf8mb4")
		srv.Exec(t, db, "DROP TABLE IF EXISTS t1")
		for _, s := range ss {
			srv.Exec(t, db, s)
			if _, err := tr.ApplyDDL(t.Context(), DDL{DB: db, SQL: s, Pos: "test"}); err != nil {
				t.Fatalf("%s: %v", s, err)
			}
		}
		r, err := c.Execute("SELECT COUNT(DISTINCT s.INDEX_NAME) FROM information_schema.STATISTICS s WHERE s.TABLE_SCHEMA = '" + db + "' AND TABLE_NAME='t1' AND s.INDEX_TYPE = 'HASH' AND s.NON_UNIQUE = 0")
		if err != nil {
			t.Fatal(err)
		}
		n, _ := r.GetInt(0, 0)
		got := tr.Def(db, "t1").Table.HashColumns
		if int(n) != got {
			t.Errorf("%v: server %d, tracked %d", ss, n, got)
		}
	}
}
