package schema

import (
	"fmt"
	"slices"
	"testing"

	"github.com/rivulet-cdc/rivulet/internal/testenv"
)

func TestClassifyNeutral(t *testing.T) {
	neutral := []string{
		"alter table t1 add spatial index b1(c desc)",
		"ALTER TABLE t1 ADD INDEX i (a) ENGINE_ATTRIBUTE='x'",
		"ALTER TABLE t1 ADD KEY (a DESC, (a + 1) ASC)",
		"ALTER TABLE t1 ADD FULLTEXT KEY ft (b) WITH PARSER ngram",
		"ALTER TABLE db2.t1 DROP INDEX i, ADD INDEX i (a, b), ALGORITHM=INPLACE, LOCK=NONE",
		"ALTER TABLE t1 RENAME INDEX a TO b, RENAME KEY c TO d",
		"ALTER TABLE t1 ADD CONSTRAINT fk FOREIGN KEY (a) REFERENCES t2 (b) ON DELETE CASCADE",
		"ALTER TABLE t1 ADD CONSTRAINT c1 CHECK (a > 0), DROP CHECK c0, DROP FOREIGN KEY fk2, DROP CONSTRAINT c9",
		"ALTER TABLE t1 ALTER INDEX i INVISIBLE, ALTER CHECK c1 NOT ENFORCED",
		"ALTER TABLE t1 ENGINE=InnoDB COMMENT='x' AUTO_INCREMENT=5 ROW_FORMAT=COMPRESSED KEY_BLOCK_SIZE=8",
		"ALTER TABLE t1 STATS_PERSISTENT=0, STATS_SAMPLE_PAGES=DEFAULT, PAGE_COMPRESSED=1",
		"ALTER TABLE t1 ADD PARTITION (PARTITION p3 VALUES LESS THAN (30))",
		"ALTER TABLE t1 DROP PARTITION p0, p1",
		"ALTER TABLE t1 REORGANIZE PARTITION p0 INTO (PARTITION a VALUES LESS THAN (5), PARTITION b VALUES LESS THAN (10))",
		"ALTER TABLE t1 EXCHANGE PARTITION p0 WITH TABLE t2 WITHOUT VALIDATION",
		"ALTER TABLE t1 PARTITION BY RANGE (a) (PARTITION p0 VALUES LESS THAN (10), PARTITION p1 VALUES LESS THAN MAXVALUE)",
		"ALTER TABLE t1 REMOVE PARTITIONING",
		"ALTER TABLE t1 ANALYZE PARTITION p0",
		"ALTER TABLE t1 FORCE",
		"ALTER TABLE t1",
		"ALTER ONLINE IGNORE TABLE IF EXISTS t1 WAIT 5 ADD INDEX (a)",
		"ALTER TABLE t1 ENABLE KEYS",
		"ALTER TABLE t1 DISCARD TABLESPACE",
		"ALTER TABLE t1 ORDER BY a",
		"ALTER TABLE t1 ALTER COLUMN a SET INVISIBLE",
		"/*!40000 ALTER TABLE `t1` DISABLE KEYS */",
		"SET STATEMENT max_statement_time=10 FOR ALTER TABLE t1 ADD INDEX (a)",
		"CREATE INDEX i ON t1 (a DESC)",
		"CREATE OR REPLACE UNIQUE INDEX IF NOT EXISTS i ON db.t1 (a)",
		"CREATE SPATIAL INDEX g ON t1 (g)",
		"DROP INDEX i ON t1",
		"DROP INDEX IF EXISTS `i` ON `t 1`",
		"ALTER TABLE t1 ADD UNIQUE KEY u (a)",
	}
	notNeutral := []string{
		"ALTER TABLE t1 ADD COLUMN c INT",
		"ALTER TABLE t1 ADD c INT",
		"ALTER TABLE t1 ADD (c INT, d INT)",
		"ALTER TABLE t1 ADD INDEX (a), ADD COLUMN c INT",
		"ALTER TABLE t1 ADD PRIMARY KEY (a)",
		"ALTER TABLE t1 ADD CONSTRAINT pk PRIMARY KEY (a)",
		"ALTER TABLE t1 DROP PRIMARY KEY",
		"ALTER TABLE t1 DROP INDEX `PRIMARY`",
		"DROP INDEX `PRIMARY` ON t1",
		"ALTER TABLE t1 DROP CONSTRAINT `PRIMARY`",
		"ALTER TABLE t1 DROP COLUMN a",
		"ALTER TABLE t1 DROP a",
		"ALTER TABLE t1 MODIFY a BIGINT",
		"ALTER TABLE t1 CHANGE a b INT",
		"ALTER TABLE t1 RENAME COLUMN a TO b",
		"ALTER TABLE t1 RENAME TO t2",
		"ALTER TABLE t1 RENAME t2",
		"ALTER TABLE t1 ALTER COLUMN a SET DEFAULT 1",
		"ALTER TABLE t1 DEFAULT CHARSET=latin1",
		"ALTER TABLE t1 ENGINE=InnoDB DEFAULT CHARACTER SET utf8mb4",
		"ALTER TABLE t1 ENGINE=InnoDB COLLATE utf8mb4_bin",
		"ALTER TABLE t1 CONVERT TO CHARACTER SET latin1",
		"ALTER TABLE t1 ADD SYSTEM VERSIONING",
		"ALTER TABLE t1 ADD PERIOD FOR p(s, e)", // its columns become NOT NULL
		"ALTER TABLE t1 DROP SYSTEM VERSIONING",
		"ALTER TABLE t1 ENGINE=InnoDB WITH SYSTEM VERSIONING",
		"ALTER TABLE t1 CONVERT PARTITION p1 TO TABLE t2",
		"ALTER TABLE t1 CONVERT TABLE t2 TO PARTITION p2 VALUES LESS THAN (10)",
		"ALTER TABLE t1 SEQUENCE=1",
		"ALTER TABLE t1 ALGORITHM=INSTANT, ADD COLUMN c INT",
		"CREATE TABLE t1 (a INT)",
		"DROP TABLE t1",
		"RENAME TABLE t1 TO t2",
		"TRUNCATE t1",
		"ALTER TABLE",
		"ALTER TABLE t1 ADD",
		"CREATE INDEX i ON",
		"",
	}
	for _, s := range neutral {
		n, ok := ClassifyNeutral(s, "db")
		if !ok {
			t.Errorf("not neutral: %s", s)
			continue
		}
		if n.Table.Name == "" || n.Table.DB == "" || n.Kind == "" {
			t.Errorf("%s: incomplete %+v", s, n)
		}
	}
	for _, s := range notNeutral {
		if n, ok := ClassifyNeutral(s, "db"); ok {
			t.Errorf("neutral (%+v): %s", n, s)
		}
	}
	if n, _ := ClassifyNeutral("ALTER TABLE `db2`.`t 1` ADD UNIQUE (a), DROP KEY k2", "db"); n.Table != (TableID{"db2", "t 1"}) || !n.AddsUnique || !slices.Equal(n.DropsIndexes, []string{"k2"}) {
		t.Errorf("got %+v", n)
	}
}

// unparsedNeutral are column-neutral statements MariaDB accepts that the
// parser (after rewrites) cannot read: they take the neutral path.
var unparsedNeutral = []string{
	"ALTER TABLE t1 ADD UNIQUE KEY uo (a, p WITHOUT OVERLAPS)",
	"ALTER TABLE t1 RENAME INDEX IF EXISTS ie TO ie2",
}

func TestTracker_ApplyDDL_neutralUnparsed(t *testing.T) {
	var logged []string
	tr := NewTracker(TrackerConfig{OnNeutral: func(d DDL, err *DDLError) { logged = append(logged, d.SQL) }})
	mustApply(t, tr, "CREATE TABLE t1 (a INT PRIMARY KEY, b INT, s DATE, e DATE)")
	mustApply(t, tr, "CREATE TABLE nopk (a INT NOT NULL, b INT)")
	before := tr.Def("db", "t1")
	for _, s := range unparsedNeutral {
		if _, err := tr.parser.parse(s, 0, false); err == nil {
			t.Fatalf("the parser reads %q now: pick another unparseable neutral statement", s)
		}
		c, err := tr.ApplyDDL(t.Context(), DDL{DB: "db", SQL: s, Pos: "x"})
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		if c == nil || len(c.Tables) != 1 || c.Tables[0].Type != ChangeAlter || c.Tables[0].Def != before || c.DDL != s || c.DB != "db" {
			t.Fatalf("%s: recorded %+v", s, c)
		}
	}
	if !slices.Equal(logged, unparsedNeutral) {
		t.Errorf("OnNeutral calls %q", logged)
	}
	// A UNIQUE index on a table without a primary key can become
	// Debezium's key: not neutral.
	if _, err := tr.ApplyDDL(t.Context(), DDL{DB: "db", SQL: "ALTER TABLE nopk ADD UNIQUE KEY u (a, p WITHOUT OVERLAPS)", Pos: "x"}); err == nil {
		t.Error("a unique index on a table without primary key passed as neutral")
	}
}

func mustApply(t *testing.T, tr *Tracker, sql string) {
	t.Helper()
	if _, err := tr.ApplyDDL(t.Context(), DDL{DB: "db", SQL: sql, Pos: "x"}); err != nil {
		t.Fatal(err)
	}
}

// TestTracker_NeutralOnServer runs column-neutral statements of every kind
// on MariaDB and through the tracker: none stops it, and the tracked
// columns equal information_schema after each.
func TestTracker_NeutralOnServer(t *testing.T) {
	srv := testenv.MariaDB(t)
	db := srv.Database(t)
	f, err := NewFilter(FilterConfig{DatabaseIncludeList: db})
	if err != nil {
		t.Fatal(err)
	}
	l := newTestLoader(t, srv, f)
	tr := NewTracker(TrackerConfig{Filter: f, MariaDB: true})
	stmts := []string{
		"CREATE TABLE t1 (a INT PRIMARY KEY, b INT, c GEOMETRY NOT NULL, d VARCHAR(20), s DATE NOT NULL, e DATE NOT NULL, FULLTEXT KEY ft (d))",
		"alter table t1 add spatial index b1(c desc)",
		"ALTER TABLE t1 ADD INDEX ie (b)",
		"ALTER TABLE t1 ADD PERIOD FOR p(s, e)",
		"ALTER TABLE t1 ADD UNIQUE KEY uo (a, p WITHOUT OVERLAPS)",
		"ALTER TABLE t1 DROP INDEX uo",
		"ALTER TABLE t1 DROP PERIOD FOR p",
		"ALTER TABLE t1 ADD KEY kd (b DESC, d ASC)",
		"ALTER TABLE t1 ADD FULLTEXT INDEX ft2 (d)",
		"ALTER TABLE t1 RENAME INDEX kd TO kd2",
		"ALTER TABLE t1 ALTER INDEX kd2 IGNORED",
		"ALTER TABLE t1 ALTER INDEX kd2 NOT IGNORED",
		"ALTER TABLE t1 ADD INDEX ki (b) IGNORED",
		"ALTER TABLE t1 ADD CONSTRAINT ck CHECK (b > 0)",
		"ALTER TABLE t1 DROP CONSTRAINT ck",
		"ALTER TABLE t1 ENGINE=InnoDB COMMENT='x' ROW_FORMAT=DYNAMIC STATS_PERSISTENT=0",
		"ALTER TABLE t1 AUTO_INCREMENT=100, ALGORITHM=COPY, LOCK=SHARED",
		"ALTER TABLE t1 DROP INDEX b1, DROP KEY ie",
		"CREATE INDEX cx ON t1 (d DESC)",
		"DROP INDEX cx ON t1",
		"ALTER TABLE IF EXISTS t1 ADD INDEX (s)",
		"ALTER TABLE IF EXISTS nosuch ADD INDEX (s)",
		"ANALYZE TABLE t1",
		"OPTIMIZE TABLE t1",
		"CREATE TABLE t2 (a INT PRIMARY KEY, r INT, KEY (r)) PARTITION BY RANGE (a) (PARTITION p0 VALUES LESS THAN (10), PARTITION p1 VALUES LESS THAN MAXVALUE)",
		"CREATE TABLE t3 (a INT PRIMARY KEY, r INT, KEY (r))",
		"ALTER TABLE t3 ADD CONSTRAINT fk FOREIGN KEY (r) REFERENCES t1 (a)",
		"ALTER TABLE t3 DROP FOREIGN KEY fk",
		"ALTER TABLE t2 TRUNCATE PARTITION p0",
		"ALTER TABLE t2 REORGANIZE PARTITION p1 INTO (PARTITION p1 VALUES LESS THAN (20), PARTITION p2 VALUES LESS THAN MAXVALUE)",
		"ALTER TABLE t2 REMOVE PARTITIONING",
		"CREATE TABLE t4 (a INT, s DATE, e DATE)",
		"ALTER TABLE t4 ADD PERIOD FOR p(s, e)",
	}
	for i, s := range stmts {
		srv.Exec(t, db, s)
		if _, err := tr.ApplyDDL(t.Context(), DDL{DB: db, SQL: s, Pos: fmt.Sprintf("#%d", i)}); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		if d := compareWithServer(t, l, tr, db); d != "" {
			t.Fatalf("after %s (-server +tracker):\n%s", s, d)
		}
	}
}

func TestTracker_StoreOnlyCaptured(t *testing.T) {
	f, err := NewFilter(FilterConfig{DatabaseIncludeList: "db", TableIncludeList: `db\.t1`})
	if err != nil {
		t.Fatal(err)
	}
	apply := func(tr *Tracker, db, sql string) *Change {
		t.Helper()
		c, err := tr.ApplyDDL(t.Context(), DDL{DB: db, SQL: sql, Pos: "x"})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	// store.only.captured.tables.ddl=true: only changes of captured tables.
	tr := NewTracker(TrackerConfig{Filter: f, StoreOnlyCapturedTablesDDL: true})
	if c := apply(tr, "db", "CREATE TABLE t1 (a INT)"); c == nil {
		t.Error("CREATE TABLE of a captured table not recorded")
	}
	if c := apply(tr, "db", "CREATE TABLE t2 (a INT)"); c != nil {
		t.Errorf("CREATE TABLE of a table not captured recorded: %+v", c)
	}
	if tr.Def("db", "t2") == nil {
		t.Error("the model must still follow tables it does not record")
	}
	if c := apply(tr, "db", "CREATE DATABASE other"); c != nil {
		t.Errorf("CREATE DATABASE recorded: %+v", c)
	}
	// Default (false): every statement of a captured database.
	tr = NewTracker(TrackerConfig{Filter: f})
	if c := apply(tr, "db", "CREATE TABLE t2 (a INT)"); c == nil {
		t.Error("CREATE TABLE t2 of a captured database not recorded")
	}
	// store.only.captured.databases.ddl=true (default): nothing of db2.
	if c := apply(tr, "db2", "CREATE TABLE x (a INT)"); c != nil {
		t.Errorf("DDL of a database not captured recorded: %+v", c)
	}
	// store.only.captured.databases.ddl=false: db2's DDL too.
	tr = NewTracker(TrackerConfig{Filter: f, StoreOtherDatabasesDDL: true})
	if c := apply(tr, "db2", "CREATE TABLE x (a INT)"); c == nil || len(c.Tables) != 1 {
		t.Errorf("DDL of db2 not recorded with store.only.captured.databases.ddl=false: %+v", c)
	}
	if got, err := tr.Table(t.Context(), "db2", "x"); got != nil || err != nil {
		t.Errorf("db2.x is tracked but not captured: Table gives %v, %v", got, err)
	}
	if c := apply(tr, "db2", "ALTER TABLE x ADD COLUMN b INT"); c == nil || len(c.Tables[0].Def.Table.Columns) != 2 {
		t.Errorf("ALTER of db2.x: %+v", c)
	}
}
