package schema

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestTracker_MySQL8Syntax applies MySQL 8 forms the MariaDB test server
// cannot run; each must apply and leave the listed columns.
func TestTracker_MySQL8Syntax(t *testing.T) {
	tr := NewTracker(TrackerConfig{})
	tr.SetDatabase("app", "utf8mb4")
	steps := []struct {
		sql   string
		table string
		cols  []string
	}{
		{"CREATE TABLE m (id INT NOT NULL AUTO_INCREMENT, j JSON, name VARCHAR(64) COLLATE utf8mb4_0900_ai_ci, PRIMARY KEY (id)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_0900_ai_ci", "m", []string{"id", "j", "name"}},
		{"ALTER TABLE m ADD COLUMN g INT GENERATED ALWAYS AS (id * 2) VIRTUAL INVISIBLE", "m", []string{"id", "j", "name", "g"}},
		{"ALTER TABLE m ADD INDEX idx_expr ((CAST(j->>'$.k' AS CHAR(10)) COLLATE utf8mb4_bin))", "m", []string{"id", "j", "name", "g"}},
		{"ALTER TABLE m ADD COLUMN d DATETIME DEFAULT (CURRENT_TIMESTAMP + INTERVAL 1 DAY)", "m", []string{"id", "j", "name", "g", "d"}},
		{"ALTER TABLE m ALTER INDEX idx_expr INVISIBLE", "m", []string{"id", "j", "name", "g", "d"}},
		{"ALTER TABLE m RENAME COLUMN name TO full_name, ALGORITHM=INSTANT", "m", []string{"id", "j", "full_name", "g", "d"}},
		{"ALTER TABLE m ADD CONSTRAINT chk CHECK (id > 0) NOT ENFORCED", "m", []string{"id", "j", "full_name", "g", "d"}},
		{"ALTER TABLE m ADD COLUMN v VARCHAR(10) NOT NULL DEFAULT '' AFTER id, LOCK=NONE", "m", []string{"id", "v", "j", "full_name", "g", "d"}},
		{"CREATE TABLE IF NOT EXISTS s (a TINYINT(1), b INT ZEROFILL, c YEAR, p POINT NOT NULL SRID 4326)", "s", []string{"a", "b", "c", "p"}},
		{"/*!80016 ALTER TABLE s ADD COLUMN e ENUM('x','y') */", "s", []string{"a", "b", "c", "p", "e"}},
		{"ALTER TABLE s DROP CHECK chk_x", "s", []string{"a", "b", "c", "p", "e"}},
		{"RENAME TABLES s TO s2", "s2", []string{"a", "b", "c", "p", "e"}},
		{"CREATE TABLE l LIKE s2", "l", []string{"a", "b", "c", "p", "e"}},
		{"DROP TABLE IF EXISTS l", "", nil},
		// Documented MySQL 8 forms (CREATE TABLE / ALTER TABLE reference, 8.0-8.4).
		{"CREATE TABLE k8 (a INT NOT NULL, b VARCHAR(20), c INT CHECK (c > 0), INDEX ia (a DESC, b ASC), INDEX ie ((a + 1) DESC), UNIQUE KEY ub ((UPPER(b))), CONSTRAINT ck CHECK (a <> c) ENFORCED) AUTOEXTEND_SIZE=4M SECONDARY_ENGINE=RAPID", "k8", []string{"a", "b", "c"}},
		{"ALTER TABLE k8 ADD COLUMN d INT DEFAULT (RAND() * 10), ALGORITHM=INSTANT", "k8", []string{"a", "b", "c", "d"}},
		{"ALTER TABLE k8 ALTER COLUMN d SET INVISIBLE, ALTER COLUMN c SET VISIBLE", "k8", []string{"a", "b", "c", "d"}},
		{"ALTER TABLE k8 RENAME KEY ia TO ia2, ALTER INDEX ie INVISIBLE, ALTER CHECK ck NOT ENFORCED, LOCK=SHARED", "k8", []string{"a", "b", "c", "d"}},
		{"ALTER TABLE k8 DROP CONSTRAINT ck, ADD CONSTRAINT ck2 CHECK (a > 1) NOT ENFORCED", "k8", []string{"a", "b", "c", "d"}},
		{"ALTER TABLE k8 ADD COLUMN e INT GENERATED ALWAYS AS (a + 1) STORED NOT NULL FIRST", "k8", []string{"e", "a", "b", "c", "d"}},
		{"ALTER TABLE k8 MODIFY COLUMN b VARCHAR(30) INVISIBLE, ALGORITHM=INPLACE, LOCK=NONE", "k8", []string{"e", "a", "b", "c", "d"}},
		{"ALTER TABLE k8 ENGINE_ATTRIBUTE='{}', SECONDARY_ENGINE_ATTRIBUTE='{}', STATS_AUTO_RECALC=1", "k8", []string{"e", "a", "b", "c", "d"}},
		{"CREATE TABLE e8 (id BINARY(16) NOT NULL DEFAULT (UUID_TO_BIN(UUID())), ts TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3), PRIMARY KEY (id)) ENCRYPTION='N' ROW_FORMAT=DYNAMIC", "e8", []string{"id", "ts"}},
		{"CREATE TABLE p8 (a INT, b INT) PARTITION BY RANGE COLUMNS (a, b) (PARTITION p0 VALUES LESS THAN (10, 10), PARTITION p1 VALUES LESS THAN (MAXVALUE, MAXVALUE))", "p8", []string{"a", "b"}},
		{"ALTER TABLE p8 ADD COLUMN c JSON, ADD INDEX ((CAST(c->'$.zip' AS UNSIGNED ARRAY)))", "p8", []string{"a", "b", "c"}},
		{"ALTER TABLE p8 TRUNCATE PARTITION p0", "p8", []string{"a", "b", "c"}},
	}
	handled := 0
	for _, st := range steps {
		if _, err := tr.ApplyDDL(t.Context(), DDL{DB: "app", SQL: st.sql, Pos: "t"}); err != nil {
			t.Errorf("%s: %v", st.sql, err)
			continue
		}
		if st.table == "" {
			handled++
			continue
		}
		tb, err := tr.Table(t.Context(), "app", st.table)
		if err != nil {
			t.Errorf("%s: %v", st.sql, err)
			continue
		}
		if diff := cmp.Diff(st.cols, columnNames(tb)); diff != "" {
			t.Errorf("%s: columns (-want +got):\n%s", st.sql, diff)
			continue
		}
		handled++
	}
	t.Logf("MySQL 8 forms: %d of %d handled", handled, len(steps))
	if tb, _ := tr.Table(t.Context(), "app", "s2"); tb != nil {
		if c := tb.Columns[0]; c.Length != 1 || c.Type != TypeTinyInt {
			t.Errorf("TINYINT(1) on MySQL = %+v, want Length 1", c)
		}
		if c := tb.Columns[3]; c.Type != TypeGeometry || c.TypeName != "POINT" {
			t.Errorf("POINT = %+v", c)
		}
	}
}

func FuzzUnmarshalRecord(f *testing.F) {
	tr := NewTracker(TrackerConfig{MariaDB: true})
	tr.SetDatabase("app", "utf8mb4")
	for _, s := range historyStmts {
		c, err := tr.ApplyDDL(f.Context(), DDL{DB: "app", SQL: s})
		if err != nil || c == nil {
			continue
		}
		b, _ := MarshalRecord(HistoryRecord{Server: "s", Change: c})
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := UnmarshalRecord(data)
		if err != nil {
			if !errors.Is(err, ErrHistory) {
				t.Fatalf("error %v does not wrap ErrHistory", err)
			}
			return
		}
		// Whatever decodes applies without panicking and encodes again.
		NewTracker(TrackerConfig{}).ApplyChange(r.Change)
		if _, err := MarshalRecord(r); err != nil {
			t.Fatal(err)
		}
	})
}
