package differential

import (
	"os"
	"testing"

	"github.com/rivulet-cdc/rivulet/internal/testenv"
)

func TestDifferential_Basic(t *testing.T) {
	srv := testenv.MariaDB(t)
	res := run(t, srv, scenario{
		setup: []string{
			"CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(20), n BIGINT)",
			"INSERT INTO t VALUES (1, 'one', 10), (2, 'two', 20)",
		},
		stream: [][]string{
			{"INSERT INTO t VALUES (3, 'three', 30)"},
			{"UPDATE t SET name = 'uno' WHERE id = 1"},
			{"UPDATE t SET id = 4 WHERE id = 2"},
			{"DELETE FROM t WHERE id = 3"},
			{"BEGIN", "INSERT INTO t VALUES (5, 'five', 50)", "UPDATE t SET n = n + 1", "COMMIT"},
		},
	})
	reportDiffs(t, "records", compareRecords(prefix, res.debezium, res.rivulet))
}

// full reports whether the whole suite runs (make differential sets
// RIVULET_DIFFERENTIAL=full); make test runs a subset.
func full() bool { return os.Getenv("RIVULET_DIFFERENTIAL") == "full" }
