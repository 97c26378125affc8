package sink

import (
	"errors"
	"fmt"
	"testing"

	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/schema"
)

// TestPlanRecords: the record sequence of each op, written once for every
// format: which records, which images, key and headers, tombstones. A key
// is Table.Key(), so message.key.columns decides what a key change is.
func TestPlanRecords(t *testing.T) {
	orders := twoKeys() // key (order_id, region)
	byAmount := twoKeys()
	byAmount.MessageKey = []int{1}
	log := noPK()
	row := func(region, amount string, id int64) []event.Value {
		return []event.Value{str(region), event.Bytes(event.KindDecimal, []byte(amount)), event.Int(id)}
	}
	a, b := row("eu", "1.00000000", 1), row("eu", "2.00000000", 1)
	moved := row("us", "1.00000000", 1)
	logRow := []event.Value{str("x"), event.Int(1)}
	cases := []struct {
		name       string
		ev         event.ChangeEvent
		tombstones bool
		want       string // one step a line: op tombstone key before after hdr
	}{
		{"create", event.ChangeEvent{Op: event.OpCreate, Table: orders, After: a}, true, "c - key=after after hdr=0"},
		{"read", event.ChangeEvent{Op: event.OpRead, Table: orders, After: a}, true, "r - key=after after hdr=0"},
		{"update", event.ChangeEvent{Op: event.OpUpdate, Table: orders, Before: a, After: b}, true, "u - key=after before after hdr=0"},
		{"update without before", event.ChangeEvent{Op: event.OpUpdate, Table: orders, After: b}, true, "u - key=after before after hdr=0"},
		{"delete", event.ChangeEvent{Op: event.OpDelete, Table: orders, Before: a}, true, "d - key=before before hdr=0|d tomb key=none hdr=0"},
		{"delete without tombstone", event.ChangeEvent{Op: event.OpDelete, Table: orders, Before: a}, false, "d - key=before before hdr=0"},
		{"key change", event.ChangeEvent{Op: event.OpUpdate, Table: orders, Before: a, After: moved}, true,
			"d - key=before before hdr=1|d tomb key=none hdr=1|c - key=after after hdr=2"},
		{"key change without tombstone", event.ChangeEvent{Op: event.OpUpdate, Table: orders, Before: a, After: moved}, false,
			"d - key=before before hdr=1|c - key=after after hdr=2"},
		{"message.key.columns change", event.ChangeEvent{Op: event.OpUpdate, Table: byAmount, Before: a, After: b}, false,
			"d - key=before before hdr=1|c - key=after after hdr=2"},
		{"message.key.columns unchanged", event.ChangeEvent{Op: event.OpUpdate, Table: byAmount, Before: a, After: moved}, false,
			"u - key=after before after hdr=0"},
		{"no key", event.ChangeEvent{Op: event.OpDelete, Table: log, Before: logRow}, true, "d - key=none before hdr=0|d tomb key=none hdr=0"},
		{"truncate", event.ChangeEvent{Op: event.OpTruncate, Table: orders}, true, "t - key=none hdr=0"},
	}
	pl, err := NewPlanner(DefaultJSONConfig("dbserver1"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		te, err := pl.table(tc.ev.Table)
		if err != nil {
			t.Fatal(err)
		}
		var s sequence
		if err := te.planRecords(&s, &tc.ev, tc.tombstones); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := planString(&s); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
		if s.keyChange != (s.steps[0].hdr == hdrNewKey) || s.keyChange != tc.ev.KeyChanged() {
			t.Errorf("%s: keyChange %v, first header %d, KeyChanged %v", tc.name, s.keyChange, s.steps[0].hdr, tc.ev.KeyChanged())
		}
	}
}

func planString(s *sequence) string {
	imgs := [...]string{"none", "before", "after"}
	out := ""
	for i := range s.n {
		st := &s.steps[i]
		if i > 0 {
			out += "|"
		}
		tomb := "-"
		if st.tombstone {
			tomb = "tomb"
		}
		out += fmt.Sprintf("%c %s key=%s", st.op, tomb, imgs[st.key])
		if st.before != imgNone {
			out += " " + imgs[st.before]
		}
		if st.after != imgNone {
			out += " " + imgs[st.after]
		}
		out += fmt.Sprintf(" hdr=%d", st.hdr)
	}
	return out
}

// TestPlanRecords_Refuses: an unknown op and a row image that does not fit
// the table are errors naming the problem, and plan nothing.
func TestPlanRecords_Refuses(t *testing.T) {
	tbl := &schema.Table{DB: "d", Name: "t", Columns: []schema.Column{{Name: "id", Type: schema.TypeBigInt, TypeName: "BIGINT"}}, PrimaryKey: []int{0}}
	pl, err := NewPlanner(DefaultJSONConfig("dbserver1"))
	if err != nil {
		t.Fatal(err)
	}
	te, err := pl.table(tbl)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range []event.ChangeEvent{
		{Op: event.Op('x'), Table: tbl},
		{Op: event.OpCreate, Table: tbl},
		{Op: event.OpDelete, Table: tbl},
		{Op: event.OpUpdate, Table: tbl, Before: []event.Value{event.Int(1), event.Int(2)}, After: []event.Value{event.Int(1)}},
	} {
		var s sequence
		if err := te.planRecords(&s, &ev, true); !errors.Is(err, ErrEncode) || s.n != 0 {
			t.Errorf("op %c: err %v, %d steps; want ErrEncode and none", ev.Op, err, s.n)
		}
	}
}
