package binlog

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/rivulet-cdc/rivulet/schema"
)

// TestTracker_MySQL8Binlogs replays the DDL of binlogs written by real
// MySQL 8.0 and 9.0 servers (testdata/mysql8: invisible columns,
// JSON with generated columns, ENUM/SET, BIT, VECTOR, SERIAL, compressed
// transaction payloads) through the tracker, as the stream would: no
// statement may stop it, and every TABLE_MAP that carries full row
// metadata (binlog_row_metadata=FULL) must name the columns, in order and
// with the types, the tracker holds for that table.
func TestTracker_MySQL8Binlogs(t *testing.T) {
	files, err := filepath.Glob("testdata/mysql8/*")
	if err != nil {
		t.Fatal(err)
	}
	stmts, maps, compared := 0, 0, 0
	for _, f := range files {
		if strings.HasSuffix(f, ".md") {
			continue
		}
		tr := schema.NewTracker(schema.TrackerConfig{})
		var onEvent func(e *replication.BinlogEvent) error
		onEvent = func(e *replication.BinlogEvent) error {
			switch ev := e.Event.(type) {
			case *replication.TransactionPayloadEvent:
				for _, in := range ev.Events {
					if err := onEvent(in); err != nil {
						return err
					}
				}
			case *replication.QueryEvent:
				q := string(ev.Query)
				if q == "BEGIN" || q == "COMMIT" {
					return nil
				}
				stmts++
				if _, err := tr.ApplyDDL(t.Context(), schema.DDL{DB: userDB(ev.Schema), SQL: q, Pos: f}); err != nil {
					t.Errorf("%s: %.200s: would stop Rivulet: %v", f, q, err)
				}
			case *replication.TableMapEvent:
				maps++
				fromMap, err := TableFromMap(ev, false)
				if err != nil {
					return nil // MINIMAL metadata: nothing to compare with
				}
				got, err := tr.Table(t.Context(), userDB(ev.Schema), string(ev.Table))
				if err != nil || got == nil {
					t.Errorf("%s: table map of %s.%s: the tracker does not hold it: %v", f, ev.Schema, ev.Table, err)
					return nil
				}
				compared++
				want := fromMap.Table
				if len(got.Columns) != len(want.Columns) {
					t.Errorf("%s: %s.%s: tracker columns %v, table map %v", f, ev.Schema, ev.Table, names(got), names(want))
					return nil
				}
				for i := range want.Columns {
					g, w := got.Columns[i], want.Columns[i]
					if g.Name != w.Name || g.Type != w.Type || g.Unsigned != w.Unsigned || g.Values != nil && w.Values != nil && strings.Join(g.Values, ",") != strings.Join(w.Values, ",") {
						t.Errorf("%s: %s.%s column %d: tracker %+v, table map %+v", f, ev.Schema, ev.Table, i, g, w)
					}
				}
			}
			return nil
		}
		if err := replication.NewBinlogParser().ParseFile(f, 4, onEvent); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	t.Logf("MySQL 8/9 binlogs: %d statements, %d table maps, %d compared with their full row metadata", stmts, maps, compared)
	if compared == 0 {
		t.Fatal("no table map with full row metadata was compared")
	}
}

// userDB moves the test tables these files create in database mysql (a
// system database, never captured) to a user database.
func userDB(db []byte) string {
	if string(db) == "mysql" {
		return "app8"
	}
	return string(db)
}

func names(t *schema.Table) []string {
	var n []string
	for _, c := range t.Columns {
		n = append(n, c.Name)
	}
	return n
}
