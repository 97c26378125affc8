package schema

import "testing"

func TestTracker_CreateOrReplaceDatabase(t *testing.T) {
	tr := newTestTracker(t, "CREATE DATABASE d2", "CREATE TABLE d2.t (a INT)")
	if _, err := tr.ApplyDDL(t.Context(), DDL{DB: "app", SQL: "CREATE OR REPLACE DATABASE d2", Pos: "p"}); err != nil {
		t.Fatal(err)
	}
	if tr.Def("d2", "t") != nil {
		t.Error("d2.t survived CREATE OR REPLACE DATABASE d2")
	}
	if _, err := tr.ApplyDDL(t.Context(), DDL{DB: "d2", SQL: "CREATE TABLE t (b INT)", Pos: "p"}); err != nil {
		t.Fatal(err)
	}
}
