package schema

import (
	"encoding/json"
	"testing"
)

// TestTracker_BooleanFromDDL: BOOL and BOOLEAN declared in DDL keep the
// name BOOLEAN (Debezium's DDL parser gives JDBC BOOLEAN), while TINYINT(1)
// stays TINYINT; words inside strings and comments are not declarations.
func TestTracker_BooleanFromDDL(t *testing.T) {
	tr := newTestTracker(t,
		"CREATE TABLE b (id int PRIMARY KEY, a BOOL, `b` boolean NOT NULL DEFAULT TRUE, c TINYINT(1), "+
			"d varchar(9) DEFAULT 'x BOOL' /* e BOOLEAN */, e tinyint(1))",
		"ALTER TABLE b MODIFY COLUMN c BOOLEAN, ADD COLUMN f BOOL AFTER a, CHANGE e g tinyint(1)")
	want := map[string]string{"id": "INT", "a": "BOOLEAN", "b": "BOOLEAN", "c": "BOOLEAN", "d": "VARCHAR", "f": "BOOLEAN", "g": "TINYINT"}
	tab := tr.Def("app", "b").Table
	if len(tab.Columns) != len(want) {
		t.Fatalf("columns %v", tab.Columns)
	}
	for _, c := range tab.Columns {
		if c.TypeName != want[c.Name] {
			t.Errorf("%s: TypeName %q, want %q", c.Name, c.TypeName, want[c.Name])
		}
	}
}

// TestHistory_BooleanRoundTrip: the history records a BOOLEAN column as
// Debezium does (typeName BOOLEAN, jdbcType 16) and gives it back.
func TestHistory_BooleanRoundTrip(t *testing.T) {
	tr := newTestTracker(t, "CREATE TABLE b (id int PRIMARY KEY, a BOOLEAN, c TINYINT(1))")
	tj := encodeTable(tr.Def("app", "b"), false)
	if tj.Columns[1].TypeName != "BOOLEAN" || tj.Columns[1].JdbcType != 16 || tj.Columns[2].JdbcType != -6 {
		t.Errorf("history columns %+v", tj.Columns)
	}
	data, err := json.Marshal(tj)
	if err != nil {
		t.Fatal(err)
	}
	var back tableJSON
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	d, err := decodeTable(TableID{"app", "b"}, &back)
	if err != nil {
		t.Fatal(err)
	}
	if c := d.Table.Columns[1]; c.TypeName != "BOOLEAN" || c.Type != TypeTinyInt {
		t.Errorf("a after the history: %+v", c)
	}
	if c := d.Table.Columns[2]; c.TypeName != "TINYINT" {
		t.Errorf("c after the history: %+v", c)
	}
}
