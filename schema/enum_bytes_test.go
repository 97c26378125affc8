package schema_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	_ "github.com/rivulet-cdc/rivulet/binlog" // registers the server's text tables
	"github.com/rivulet-cdc/rivulet/schema"
)

// ENUM/SET members written as bytes (hex literals, or any literal of a
// binary client) are text in the column's character set, converted to
// UTF-8 with the tables the row values are read with (main/ctype_sjis:
// ENUM(0x9353,0x9373) CHARACTER SET sjis is ENUM('鉄','都'); main/ctype_big5
// under SET NAMES binary).
func TestTracker_EnumMembersAsBytes(t *testing.T) {
	tr := schema.NewTracker(schema.TrackerConfig{MariaDB: true})
	tr.SetDatabase("app", "utf8mb4")
	for _, s := range []string{
		"create table t1(c enum(0x9353,0x9373) character set sjis, d set(x'a440', 'b') character set big5, e enum(0x9353) character set binary, f enum('ü') character set latin1)",
		"CREATE TABLE t2 (a ENUM('\xa4\x40') CHARACTER SET big5)",
	} {
		if _, err := tr.ApplyDDL(t.Context(), schema.DDL{DB: "app", SQL: s, Pos: "test"}); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	got := map[string][]string{}
	for _, n := range []string{"t1", "t2"} {
		for _, c := range tr.Def("app", n).Table.Columns {
			got[n+"."+c.Name] = c.Values
		}
	}
	want := map[string][]string{
		"t1.c": {"鉄", "都"}, "t1.d": {"一", "b"}, "t1.e": {"\x93S"}, "t1.f": {"ü"},
		"t2.a": {"一"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
}
