package schema

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzClassifyNeutral: the classifier and the rewrites never panic, and a
// statement the classifier calls column-neutral never changes a table's
// columns when the tracker applies it (issue 17); the key may change only
// where the classifier says so (a UNIQUE index added or dropped on a table
// without a primary key).
func FuzzClassifyNeutral(f *testing.F) {
	for _, s := range []string{
		"alter table t1 add spatial index b1(c desc)",
		"ALTER TABLE t1 ADD KEY (a DESC, (a + 1) ASC)",
		"ALTER TABLE t2 ADD UNIQUE KEY u2 (b)",
		"ALTER TABLE t2 DROP INDEX u, ADD INDEX i (a, b), ALGORITHM=NOCOPY, LOCK=NONE",
		"ALTER TABLE t1 RENAME INDEX a TO b, RENAME KEY c TO d",
		"ALTER TABLE t1 ADD CONSTRAINT IF NOT EXISTS c1 CHECK (a > 0), DROP CHECK c0, DROP FOREIGN KEY fk2",
		"ALTER TABLE t1 ALTER INDEX i INVISIBLE, ALTER CHECK c1 NOT ENFORCED",
		"ALTER TABLE t1 ENGINE=InnoDB COMMENT='x' AUTO_INCREMENT=5 ROW_FORMAT=COMPRESSED KEY_BLOCK_SIZE=8",
		"ALTER TABLE t1 PARTITION BY RANGE (a) (PARTITION p0 VALUES LESS THAN (10), PARTITION p1 VALUES LESS THAN MAXVALUE)",
		"ALTER ONLINE IGNORE TABLE IF EXISTS t1 WAIT 5 ADD INDEX (a)",
		"/*!40000 ALTER TABLE `t1` DISABLE KEYS */",
		"SET STATEMENT max_statement_time=10 FOR ALTER TABLE t1 ADD INDEX (a)",
		"CREATE OR REPLACE UNIQUE INDEX IF NOT EXISTS u ON t2 (b)",
		"DROP INDEX IF EXISTS u ON t2",
		"ALTER TABLE t1 ADD INDEX ix (b) IGNORED, ALTER INDEX ix NOT IGNORED",
		"ALTER TABLE t1 ADD COLUMN c INT",
		"ALTER TABLE t1 CHARACTER SET latin1",
		"CREATE TABLE t3 (a INT) WITH SYSTEM VERSIONING",
		"ALTER TABLE t1 RENAME COLUMN IF EXISTS b TO c, ALGORITHM=NOCOPY",
		"ALTER TABLE t1 /*M!100000 ADD INDEX (b) */",
		"ALTER TABLE t1 ADD INDEX (`a``b`",
		"ALTER TABLE",
		`create table "a1\""b1" (a int)`,
		"ALTER TABLE t1 ADD SYSTEM VERSIONING, DROP PERIOD IF EXISTS FOR p",
		"CREATE DATABASE d CHARACTER SET DEFAULT COLLATE uca1400_ai_ci",
		"ALTER TABLE t1 CONVERT PARTITION p1 TO TABLE t3",
		"ALTER TABLE t1 CONVERT TABLE t2 TO PARTITION pn VALUES LESS THAN (MAXVALUE)",
		"ALTER TABLE t1 CONVERT TO CHARACTER SET DEFAULT, CHARACTER SET utf8",
		"ALTER TABLE t1 ADD generated INT AFTER b, CHANGE b rank VARCHAR(3), DROP COLUMN nowait",
		"CREATE TABLE t4 (a VARCHAR2(10) COMPRESSED BYTE, b NUMBER(3), c oracle_schema.DATE, d enum(0x9353) character set sjis)",
	} {
		f.Add(s)
		f.Add(s[:len(s)/2])
	}
	f.Fuzz(func(t *testing.T, sql string) {
		_ = rewriteMariaDB(sql)
		_ = rewriteMariaDB(convertPartition(oracleTypes(maxdbTypes(sql))))
		_ = rewriteMariaDB(ansiIdents(sql, false))
		_ = ansiIdents(sql, true)
		_ = NeedsParse(sql)
		n, ok := ClassifyNeutral(sql, "app")
		tr := newTestTracker(t,
			"CREATE TABLE t1 (a INT PRIMARY KEY, b VARCHAR(10), `a``b` INT)",
			"CREATE TABLE t2 (a INT NOT NULL, b INT NOT NULL, UNIQUE KEY u (a))")
		before := map[string]*Table{}
		for _, name := range []string{"t1", "t2"} {
			tb, err := tr.Table(t.Context(), "app", name)
			if err != nil {
				t.Fatal(err)
			}
			before[name] = tb
		}
		_, _ = tr.ApplyDDL(t.Context(), DDL{DB: "app", SQL: sql, Pos: "fuzz"})
		if !ok {
			// The sql_mode=ORACLE rewrites must not panic either.
			_, _ = tr.ApplyDDL(t.Context(), DDL{DB: "app", SQL: sql, Pos: "fuzz", SQLMode: modeOracle, HasSQLMode: true})
			return
		}
		for name, b := range before {
			a, err := tr.Table(t.Context(), "app", name)
			if err != nil || a == nil {
				continue // dropped or renamed by a statement that is not column-neutral after all: checked below
			}
			if d := cmp.Diff(b.Columns, a.Columns); d != "" {
				t.Fatalf("column-neutral %q (%+v) changed app.%s's columns:\n%s", sql, n, name, d)
			}
			keyMayChange := n.AddsUnique || len(n.DropsIndexes) > 0
			if !keyMayChange && !cmp.Equal(b.PrimaryKey, a.PrimaryKey) {
				t.Fatalf("column-neutral %q (%+v) changed app.%s's key %v -> %v", sql, n, name, b.PrimaryKey, a.PrimaryKey)
			}
		}
		for name := range before {
			if tr.Def("app", name) == nil {
				t.Fatalf("column-neutral %q (%+v) removed app.%s from the model", sql, n, name)
			}
		}
	})
}
