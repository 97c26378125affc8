package differential

import (
	"testing"

	"github.com/rivulet-cdc/rivulet/internal/testenv"
)

// operations is a workload of every kind of row change.
var operations = scenario{
	setup: []string{
		"CREATE TABLE a (id INT PRIMARY KEY, name VARCHAR(20), n BIGINT)",
		"CREATE TABLE b (k1 INT, k2 VARCHAR(8), v TEXT, PRIMARY KEY (k2, k1))",
		"CREATE TABLE nokey (x INT, y VARCHAR(10))",
		"INSERT INTO a VALUES (1, 'one', 10), (2, 'two', 20), (3, 'three', 30)",
		"INSERT INTO b VALUES (1, 'x', 'bx1'), (2, 'y', 'by2')",
		"INSERT INTO nokey VALUES (1, 'p'), (1, 'p')",
	},
	stream: [][]string{
		{"INSERT INTO a VALUES (4, 'four', 40)"},
		{"UPDATE a SET name = 'uno', n = NULL WHERE id = 1"},
		{"UPDATE a SET id = 10 WHERE id = 2"},
		{"UPDATE b SET k2 = 'z' WHERE k1 = 1"},
		{"DELETE FROM a WHERE id = 3"},
		{"BEGIN", "INSERT INTO a VALUES (5, 'five', 50)", "UPDATE a SET n = n + 1", "DELETE FROM b", "INSERT INTO b VALUES (3, 'w', NULL)", "COMMIT"},
		{"UPDATE nokey SET y = 'q'", "DELETE FROM nokey WHERE x = 1", "INSERT INTO nokey VALUES (2, NULL)"},
	},
}

// TestDifferential_Operations: inserts, updates, deletes with their
// tombstones, primary-key changes (delete, tombstone, create and the
// __debezium.oldkey/newkey headers), multi-statement transactions, with
// and without transaction metadata, and with schemas off.
func TestDifferential_Operations(t *testing.T) {
	srv := testenv.MariaDB(t)
	modes := []struct {
		name string
		cfg  map[string]string
	}{
		{"default", nil},
		{"tx_metadata", map[string]string{"provide.transaction.metadata": "true"}},
		{"schemas_off", map[string]string{"key.converter.schemas.enable": "false", "value.converter.schemas.enable": "false"}},
		{"no_tombstones", map[string]string{"tombstones.on.delete": "false"}},
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			if !full() && m.name != "default" && m.name != "tx_metadata" {
				t.Skip("fast subset: RIVULET_DIFFERENTIAL=full runs every mode (make differential)")
			}
			sc := operations
			sc.cfg = m.cfg
			res := run(t, srv, sc)
			reportDiffs(t, "records", compareRecords(prefix, res.debezium, res.rivulet))
		})
	}
}

// TestDifferential_DDL: the DDL sequences of the schema tests (ADD, DROP,
// MODIFY, CHANGE and RENAME COLUMN, RENAME TABLE swaps, TRUNCATE) with rows
// written between them, and the schema change topic.
func TestDifferential_DDL(t *testing.T) {
	srv := testenv.MariaDB(t)
	res := run(t, srv, ddlScenario())
	reportDiffs(t, "records", compareRecords(prefix, res.debezium, res.rivulet))
}

// ddlScenario is the DDL workload of TestDifferential_DDL.
func ddlScenario() scenario {
	return scenario{
		setup: []string{
			"CREATE TABLE t (id INT PRIMARY KEY, a VARCHAR(10), b INT)",
			"CREATE TABLE u (id INT PRIMARY KEY, c DATE)",
			"INSERT INTO t VALUES (1, 'x', 1)",
			"INSERT INTO u VALUES (1, '2024-01-02')",
		},
		stream: [][]string{
			{"ALTER TABLE t ADD COLUMN c DECIMAL(8,2) DEFAULT 1.50 AFTER a"},
			{"INSERT INTO t VALUES (2, 'y', 2.25, 2)"},
			{"ALTER TABLE t DROP COLUMN b"},
			{"INSERT INTO t VALUES (3, 'z', 3.00)"},
			{"ALTER TABLE t MODIFY COLUMN a VARCHAR(40) NOT NULL DEFAULT 'd'"},
			{"ALTER TABLE t CHANGE COLUMN c cc DECIMAL(10,3)"},
			{"ALTER TABLE t RENAME COLUMN cc TO c2"},
			{"UPDATE t SET a = 'w', c2 = 9.125 WHERE id = 1"},
			{"ALTER TABLE t ADD COLUMN e ENUM('p','q') NOT NULL DEFAULT 'q' FIRST"},
			{"INSERT INTO t (id, a) VALUES (4, 'v')"},
			{"RENAME TABLE t TO tmp, u TO t, tmp TO u"},
			{"INSERT INTO t VALUES (2, '2024-03-04')"},
			{"INSERT INTO u (id, a) VALUES (5, 'after swap')"},
			{"TRUNCATE TABLE u"},
			{"INSERT INTO u (id, a) VALUES (6, 'after truncate')"},
			{"CREATE TABLE n (id BIGINT UNSIGNED PRIMARY KEY AUTO_INCREMENT, s SET('a','b') DEFAULT 'a,b')"},
			{"INSERT INTO n VALUES (NULL, DEFAULT), (NULL, 'a')"},
			{"DROP TABLE n"},
		},
	}
}

// TestDifferential_Transforms: the operations workload through
// ExtractNewRecordState in each delete.tombstone.handling.mode with
// add.fields and add.headers, the routers, column masks and truncation,
// and message.key.columns. Debezium runs the transforms inside its engine.
func TestDifferential_Transforms(t *testing.T) {
	srv := testenv.MariaDB(t)
	unwrap := func(extra map[string]string) map[string]string {
		m := map[string]string{"transforms": "unwrap", "transforms.unwrap.type": "io.debezium.transforms.ExtractNewRecordState"}
		for k, v := range extra {
			m["transforms.unwrap."+k] = v
		}
		return m
	}
	modes := []struct {
		name string
		cfg  map[string]string
	}{
		{"unwrap", unwrap(nil)},
		{"unwrap_rewrite_fields", unwrap(map[string]string{"delete.tombstone.handling.mode": "rewrite", "add.fields": "op,table,source.ts_ms", "add.headers": "db,op"})},
		{"unwrap_tombstone", unwrap(map[string]string{"delete.tombstone.handling.mode": "tombstone"})},
		{"unwrap_rewrite_with_tombstone", unwrap(map[string]string{"delete.tombstone.handling.mode": "rewrite-with-tombstone"})},
		{"unwrap_drop_schemas_off", func() map[string]string {
			m := unwrap(map[string]string{"delete.tombstone.handling.mode": "drop"})
			m["key.converter.schemas.enable"], m["value.converter.schemas.enable"] = "false", "false"
			return m
		}()},
		{"regex_router", map[string]string{"transforms": "route", "transforms.route.type": "org.apache.kafka.connect.transforms.RegexRouter",
			"transforms.route.regex": `([^.]+)\.([^.]+)\.([^.]+)`, "transforms.route.replacement": "$1.routed.$3"}},
		{"masks", map[string]string{"column.mask.with.12.chars": `.*\.a\.name`, "column.truncate.to.3.chars": `.*\.b\.v`}},
		{"message_key_columns", map[string]string{"message.key.columns": `.*\.nokey:x;.*\.a:name`}},
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			if !full() && m.name != "unwrap_rewrite_fields" {
				t.Skip("fast subset: RIVULET_DIFFERENTIAL=full runs every mode (make differential)")
			}
			sc := operations
			sc.cfg = m.cfg
			res := run(t, srv, sc)
			reportDiffs(t, "records", compareRecords(prefix, res.debezium, res.rivulet))
		})
	}
}

// TestDifferential_SchemaFiltered: the schema change topic when
// table.include.list leaves a table of the captured database out: the
// snapshot's schema records and streamed DDL of both tables.
func TestDifferential_SchemaFiltered(t *testing.T) {
	srv := testenv.MariaDB(t)
	res := run(t, srv, scenario{
		cfg: map[string]string{"table.include.list": `.*\.(t|` + markerTable + `)`},
		setup: []string{
			"CREATE TABLE t (id INT PRIMARY KEY, a VARCHAR(10))",
			"CREATE TABLE other (id INT PRIMARY KEY, b INT)",
			"INSERT INTO t VALUES (1, 'x')",
			"INSERT INTO other VALUES (1, 1)",
		},
		stream: [][]string{
			{"ALTER TABLE other ADD COLUMN c INT"},
			{"ALTER TABLE t ADD COLUMN c INT"},
			{"CREATE TABLE other2 (id INT PRIMARY KEY)"},
			{"INSERT INTO t VALUES (2, 'y', 2)", "INSERT INTO other VALUES (2, 2, 2)"},
			{"DROP TABLE other2, other"},
		},
	})
	reportDiffs(t, "records", compareRecords(prefix, res.debezium, res.rivulet))
}
