package schema

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestColumn_DebeziumType: the type name, length and scale Debezium 3.6.1's
// table model gives columns of a streamed CREATE TABLE and of SHOW CREATE
// TABLE (its tableChanges and column.propagate.source.type, as the
// differential suite recorded them: TestDifferential_Types, _DDL).
func TestColumn_DebeziumType(t *testing.T) {
	type dt struct {
		Name          string
		Length, Scale int
	}
	cases := []struct {
		name string
		ddl  string
		want map[string]dt
	}{
		{"streamed", "CREATE TABLE x (id INT PRIMARY KEY, bi BIGINT UNSIGNED, zf INT(5) ZEROFILL, t1 TINYINT(1), b BOOLEAN, " +
			"n NUMERIC(20,4), dd DECIMAL, d DECIMAL(8,2), f10 FLOAT(10), f30 FLOAT(30), r REAL, dms DOUBLE(10,2), " +
			"v VARCHAR(40), c CHAR, e ENUM('a','b','c d'), s SET('x','y','z'), t0 TIME(0), dt DATETIME, dt3 DATETIME(3), j JSON)",
			map[string]dt{
				"id": {"INT", -1, -1}, "bi": {"BIGINT UNSIGNED", -1, -1}, "zf": {"INT UNSIGNED ZEROFILL", 5, -1},
				"t1": {"TINYINT", 1, -1}, "b": {"BOOLEAN", -1, -1},
				"n": {"NUMERIC", 20, 4}, "dd": {"DECIMAL", 10, 0}, "d": {"DECIMAL", 8, 2},
				"f10": {"FLOAT", 10, -1}, "f30": {"FLOAT", 30, -1}, "r": {"REAL", -1, -1}, "dms": {"DOUBLE", 10, 2},
				"v": {"VARCHAR", 40, -1}, "c": {"CHAR", -1, -1}, "e": {"ENUM", 1, -1}, "s": {"SET", 5, -1},
				"t0": {"TIME", 0, -1}, "dt": {"DATETIME", -1, -1}, "dt3": {"DATETIME", 3, -1}, "j": {"JSON", -1, -1},
			}},
		{"show create table", "CREATE TABLE `x` (\n  `id` int(11) NOT NULL,\n  `y` year(4) DEFAULT NULL,\n" +
			"  `zf` int(5) unsigned zerofill DEFAULT NULL,\n  `d` decimal(10,0) DEFAULT NULL,\n  PRIMARY KEY (`id`)\n) ENGINE=InnoDB",
			map[string]dt{"id": {"INT", 11, -1}, "y": {"YEAR", 4, -1}, "zf": {"INT UNSIGNED ZEROFILL", 5, -1}, "d": {"DECIMAL", 10, 0}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTestTracker(t, tc.ddl)
			tb := tr.Def("app", "x").Table
			got := map[string]dt{}
			for i := range tb.Columns {
				var d dt
				d.Name, d.Length, d.Scale = tb.Columns[i].DebeziumType()
				got[tb.Columns[i].Name] = d
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("DebeziumType (-want +got):\n%s", diff)
			}
		})
	}
}
