package binlog

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/go-mysql-org/go-mysql/replication"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/rivulet-cdc/rivulet/schema"
)

// vectorEvents parses a real MySQL binlog file of testdata/mysql8 (see its
// README for provenance) with go-mysql's own parser, the independent reader
// the tests compare against.
func vectorEvents(t testing.TB, name string) []*replication.BinlogEvent {
	t.Helper()
	p := replication.NewBinlogParser()
	p.SetFlavor("mysql")
	var evs []*replication.BinlogEvent
	err := p.ParseFile(filepath.Join("testdata", "mysql8", name), 0, func(e *replication.BinlogEvent) error {
		evs = append(evs, e)
		return nil
	})
	if err != nil {
		t.Fatalf("go-mysql parses %s: %v", name, err)
	}
	return evs
}

// firstTableMap returns the first TABLE_MAP of db.table in evs (also inside
// TRANSACTION_PAYLOAD events).
func firstTableMap(t testing.TB, evs []*replication.BinlogEvent, db, table string) *replication.TableMapEvent {
	t.Helper()
	for _, ev := range evs {
		switch e := ev.Event.(type) {
		case *replication.TableMapEvent:
			if string(e.Schema) == db && string(e.Table) == table {
				return e
			}
		case *replication.TransactionPayloadEvent:
			if tm := firstTableMap(t, e.Events, db, table); tm != nil {
				return tm
			}
		}
	}
	return nil
}

// ddlTable applies the CREATE TABLE statements logged in the file (in
// session database "vec": the vectors' tables partly live in the system
// database mysql, which the tracker never captures) with the schema
// package's DDL parser and returns the resulting table.
func ddlTable(t *testing.T, evs []*replication.BinlogEvent, table string) *schema.Table {
	t.Helper()
	tr := schema.NewTracker(schema.TrackerConfig{})
	ctx := context.Background()
	if _, err := tr.ApplyDDL(ctx, schema.DDL{DB: "vec", SQL: "CREATE DATABASE vec CHARACTER SET utf8mb4"}); err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		q, ok := ev.Event.(*replication.QueryEvent)
		if !ok || classify(q.Query) != stmtDDL {
			continue
		}
		if _, err := tr.ApplyDDL(ctx, schema.DDL{DB: "vec", SQL: string(q.Query)}); err != nil {
			t.Logf("DDL %q: %v", q.Query, err)
		}
	}
	tbl, err := tr.Table(ctx, "vec", table)
	if err != nil {
		t.Fatal(err)
	}
	return tbl
}

// TestTableFromMap_FullMetadata builds tables from the TABLE_MAP events of
// real MySQL 8.0.26–9.0.1 binlogs written with binlog_row_metadata=FULL and
// compares them with the table the schema package's DDL parser builds from
// the CREATE TABLE statement logged in the same file (the independent
// reference). Where the binlog cannot carry an attribute the want side
// says so.
func TestTableFromMap_FullMetadata(t *testing.T) {
	tests := []struct {
		file, db, table string
		// adjust edits the DDL-built table where the TABLE_MAP knows less.
		adjust    func(*schema.Table)
		invisible []int
	}{
		{file: "mysql-enum-string-set.000001", db: "mysql", table: "t"},
		{file: "mysql_type_bit.000001", db: "mysql", table: "foo"},
		{file: "binlog-invisible-columns.000001", db: "mysql", table: "t1", invisible: []int{0, 1, 5}},
		{file: "json-opaque.binlog", db: "foo", table: "test"},
		{file: "vector.binlog", db: "dtb", table: "foo", adjust: func(t *schema.Table) {
			// SERIAL's NOT NULL UNIQUE key is what InnoDB and the binlog call
			// the primary key; VECTOR(3)'s dimension is not kept (see TableFromMap).
			t.Columns[1].Length = 0
		}},
		{file: "vector.binlog", db: "dtb", table: "bar", adjust: func(t *schema.Table) {
			t.Columns[1].Length, t.Columns[3].Length = 0, 0
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file+"/"+tt.table, func(t *testing.T) {
			evs := vectorEvents(t, tt.file)
			tm := firstTableMap(t, evs, tt.db, tt.table)
			if tm == nil {
				t.Fatalf("no table map of %s.%s", tt.db, tt.table)
			}
			def, err := TableFromMap(tm, false)
			if err != nil {
				t.Fatal(err)
			}
			want := ddlTable(t, evs, tt.table)
			want.DB = tt.db
			if tt.adjust != nil {
				tt.adjust(want)
			}
			// Declared is the DDL text's own view; a table map has none.
			if diff := cmp.Diff(want, def.Table, cmpopts.IgnoreFields(schema.Column{}, "Declared")); diff != "" {
				t.Errorf("TableFromMap differs from the logged DDL (-ddl +map):\n%s", diff)
			}
			if got := InvisibleColumns(tm); !cmp.Equal(got, tt.invisible) {
				t.Errorf("InvisibleColumns = %v, want %v", got, tt.invisible)
			}
			// The built table decodes the event: planTable accepts it.
			if _, err := planTable(tableMapFrom(tm), def.Table, "test"); err != nil {
				t.Errorf("planTable rejects the built table: %v", err)
			}
		})
	}
}

// TestTableFromMap_Minimal: without binlog_row_metadata=FULL (these files
// log MINIMAL metadata: no column names) no table can be built, and the
// error names the setting.
func TestTableFromMap_Minimal(t *testing.T) {
	evs := vectorEvents(t, "minimal_row_metadata.000001")
	tm := firstTableMap(t, evs, "noria", "t1")
	if tm == nil {
		t.Fatal("no table map")
	}
	_, err := TableFromMap(tm, false)
	if !errors.Is(err, ErrNoRowMetadata) {
		t.Fatalf("err = %v, want ErrNoRowMetadata", err)
	}
	var be *Error
	if !errors.As(err, &be) || be.Hint == "" || !contains(be.Hint, "binlog_row_metadata=FULL") {
		t.Errorf("error %v does not name binlog_row_metadata=FULL", err)
	}
}

func contains(s, sub string) bool {
	return len(sub) == 0 || len(s) >= len(sub) && (s[:len(sub)] == sub || contains(s[1:], sub))
}
