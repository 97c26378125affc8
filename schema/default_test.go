package schema

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// ignoreDefaults leaves column defaults out of a table comparison.
var ignoreDefaults = cmpopts.IgnoreFields(Column{}, "HasDefault", "Default")

// TestTracker_DebeziumDefaults checks Column.Default against what Debezium's
// DefaultValueParserListener records for each kind of DEFAULT.
func TestTracker_DebeziumDefaults(t *testing.T) {
	tr := newTestTracker(t, "CREATE TABLE d (id int PRIMARY KEY,"+
		" a int DEFAULT '5', b varchar(9) DEFAULT 'it''s\\n', c bit(4) DEFAULT b'101', d timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),"+
		" e int DEFAULT -3, f decimal(5,2) DEFAULT 1.50, g varchar(3) DEFAULT _utf8mb4'x', h int DEFAULT NULL, i varbinary(3) DEFAULT x'1F',"+
		" j int DEFAULT (1+2), k double DEFAULT 1e3, l datetime DEFAULT now(), m bool DEFAULT true, n date DEFAULT '0000-00-00',"+
		" o enum('x','y') NOT NULL DEFAULT 'y', p int NOT NULL)",
		"ALTER TABLE d ALTER COLUMN p SET DEFAULT 7, ALTER COLUMN a DROP DEFAULT")
	want := map[string]string{
		"b": `it''s\n`, "c": "101", "d": "1970-01-01 00:00:00", "e": "-3", "f": "1.50", "g": "x",
		"i": "1f", "k": "1000", "l": "1970-01-01 00:00:00", "m": "1", "n": "0000-00-00", "o": "y", "p": "7",
	}
	tab := tr.Def("app", "d").Table
	for _, c := range tab.Columns {
		w, ok := want[c.Name]
		switch {
		case ok && (c.Default == nil || *c.Default != w):
			t.Errorf("%s: Default = %v, want %q", c.Name, ptrStr(c.Default), w)
		case !ok && c.Default != nil:
			t.Errorf("%s: Default = %q, want none", c.Name, *c.Default)
		}
	}
	// Debezium's hasDefaultValue: a DEFAULT clause, or nullable.
	for name, has := range map[string]bool{"a": true, "h": true, "j": true, "id": false, "p": true} {
		if c := tab.Columns[tab.ColumnIndex(name)]; c.HasDefault != has {
			t.Errorf("%s: HasDefault = %v, want %v", name, c.HasDefault, has)
		}
	}

	// The history keeps them (defaultValueExpression) and gives them back.
	def := tr.Def("app", "d")
	data, err := json.Marshal(encodeTable(def, false))
	if err != nil {
		t.Fatal(err)
	}
	var tj tableJSON
	if err := json.Unmarshal(data, &tj); err != nil {
		t.Fatal(err)
	}
	back, err := decodeTable(TableID{"app", "d"}, &tj)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range back.Table.Columns {
		if d := cmp.Diff(tab.Columns[i].Default, c.Default); d != "" {
			t.Errorf("%s after the history: (-want +got)\n%s", c.Name, d)
		}
	}
}

func ptrStr(p *string) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestNormalizeDefault(t *testing.T) {
	for _, tc := range []struct {
		in   string
		keep bool
		want any
	}{
		{"'abc'", false, "abc"},
		{"_utf8mb4'a b'", false, "a b"},
		{"'it''s'", false, "it''s"},
		{"NULL", false, nil},
		{"5", false, "5"},
		{"-1.5e3", false, "-1.5e3"},
		{"current_timestamp()", false, "1970-01-01 00:00:00"},
		{"current_timestamp(6)", false, "1970-01-01 00:00:00"},
		{"CURRENT_TIMESTAMP", true, "1970-01-01 00:00:00"},
		{"b'101'", false, "101"},
		{"uuid()", false, nil},
		{"(1 + 2)", false, nil},
		{"plain text", true, "plain text"},
		{"now", true, "now"},
	} {
		if got := ptrStr(normalizeDefault(tc.in, tc.keep)); got != tc.want {
			t.Errorf("normalizeDefault(%q, %v) = %v, want %v", tc.in, tc.keep, got, tc.want)
		}
	}
}

func TestMySQLColumnDefault(t *testing.T) {
	for _, tc := range []struct {
		col     Column
		def     string
		isNull  bool
		extra   string
		wantHas bool
		wantDef any
	}{
		{Column{Type: TypeVarchar, Nullable: true}, "", true, "", true, nil},
		{Column{Type: TypeInt}, "", true, "", false, nil},
		{Column{Type: TypeVarchar}, "it's", false, "", true, "it''s"},
		{Column{Type: TypeTimestamp}, "CURRENT_TIMESTAMP(3)", false, "DEFAULT_GENERATED", true, "1970-01-01 00:00:00"},
		{Column{Type: TypeInt}, "(1 + 2)", false, "DEFAULT_GENERATED", true, nil},
		{Column{Type: TypeBit}, "b'11'", false, "", true, "11"},
	} {
		c := tc.col
		mysqlColumnDefault(&c, tc.def, tc.isNull, tc.extra)
		if c.HasDefault != tc.wantHas || ptrStr(c.Default) != tc.wantDef {
			t.Errorf("%q: HasDefault=%v Default=%v, want %v %v", tc.def, c.HasDefault, ptrStr(c.Default), tc.wantHas, tc.wantDef)
		}
	}
}

// A BIT default with no digits (b”) is the value 0, which the server
// stores and information_schema shows as b'0' (main/type_bit).
func TestTracker_BitEmptyDefault(t *testing.T) {
	tr := newTestTracker(t, "create table t1 (f1 bit(2) NOT NULL default b'', f2 bit(3) default b'10')",
		"alter table t1 add f3 bit(1) not null default b''")
	want := map[string]string{"f1": "0", "f2": "10", "f3": "0"}
	for _, c := range tr.Def("app", "t1").Table.Columns {
		if c.Default == nil || *c.Default != want[c.Name] {
			t.Errorf("%s: Default = %v, want %q", c.Name, ptrStr(c.Default), want[c.Name])
		}
	}
}

// A BINARY(n) text DEFAULT shorter than n is padded with zero bytes, as
// the server stores it (main/ctype_many: CHAR(1) BYTE NOT NULL DEFAULT ”).
func TestTracker_BinaryDefaultPadded(t *testing.T) {
	tr := newTestTracker(t, "CREATE TABLE t1 (a BINARY(1) NOT NULL DEFAULT '', b BINARY(3) DEFAULT 'x', c BINARY(2) DEFAULT x'41', d VARBINARY(3) DEFAULT '', e CHAR(2) DEFAULT '')",
		"ALTER TABLE t1 ADD f CHAR(1) BYTE NOT NULL default ''")
	want := map[string]string{"a": `\0`, "b": `x\0\0`, "c": "41", "d": "", "e": "", "f": `\0`}
	for _, c := range tr.Def("app", "t1").Table.Columns {
		if c.Default == nil || *c.Default != want[c.Name] {
			t.Errorf("%s: Default = %v, want %q", c.Name, ptrStr(c.Default), want[c.Name])
		}
	}
}
