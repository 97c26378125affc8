package engine

import (
	"testing"

	"github.com/rivulet-cdc/rivulet/offsets"
)

func TestAtOrBefore(t *testing.T) {
	p := func(file string, pos uint64, gtids string) offsets.Position {
		return offsets.Position{File: file, Pos: pos, GTIDSet: gtids, ServerID: 1}
	}
	tests := []struct {
		name      string
		rec, want offsets.Position
		apply     bool
	}{
		{"earlier pos", p("b.000001", 100, ""), p("b.000001", 200, ""), true},
		{"same pos", p("b.000001", 200, ""), p("b.000001", 200, ""), true},
		{"later pos", p("b.000001", 300, ""), p("b.000001", 200, ""), false},
		{"earlier file", p("b.000001", 900, ""), p("b.000002", 4, ""), true},
		{"later file", p("b.000003", 4, ""), p("b.000002", 900, ""), false},
		{"other base name", p("x.000009", 4, ""), p("b.000002", 900, ""), true},
		{"mariadb subset", p("", 0, "0-1-5"), p("", 0, "0-1-7"), true},
		{"mariadb later", p("", 0, "0-1-8"), p("", 0, "0-1-7"), false},
		{"mysql subset", p("", 0, "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5"), p("", 0, "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-9"), true},
		{"mysql later", p("", 0, "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-10"), p("", 0, "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-9"), false},
		{"record without gtids", p("b.000001", 9, ""), p("b.000001", 4, "0-1-1"), true},
		{"offset without gtids", p("b.000001", 4, "0-1-1"), p("b.000001", 9, ""), false},
		{"snapshot offset, streaming record, same gtids", p("", 0, "0-1-1"), offsets.Position{GTIDSet: "0-1-1", Snapshot: "INITIAL"}, false},
		{"snapshot record, streaming offset, same gtids", offsets.Position{GTIDSet: "0-1-1", Snapshot: "INITIAL"}, p("", 0, "0-1-1"), true},
		{"other server: by time", offsets.Position{File: "b.000009", ServerID: 2, TsSec: 10}, offsets.Position{File: "b.000001", ServerID: 1, TsSec: 20}, true},
	}
	for _, tt := range tests {
		if got := atOrBefore(tt.rec, tt.want); got != tt.apply {
			t.Errorf("%s: atOrBefore = %v, want %v", tt.name, got, tt.apply)
		}
	}
}
