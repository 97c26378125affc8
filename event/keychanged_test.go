package event

import (
	"testing"

	"github.com/rivulet-cdc/rivulet/schema"
)

// TestKeyChanged: the key is Table.Key(), message.key.columns when set, so
// an update of the primary key alone is no key change when the record key
// is another column, and the reverse.
func TestKeyChanged(t *testing.T) {
	pk := &schema.Table{PrimaryKey: []int{0}}
	msgKey := &schema.Table{PrimaryKey: []int{0}, MessageKey: []int{1}}
	row := func(id, code int64) []Value { return []Value{Int(id), Int(code)} }
	for _, tc := range []struct {
		name          string
		table         *schema.Table
		op            Op
		before, after []Value
		want          bool
	}{
		{"pk changed", pk, OpUpdate, row(1, 7), row(2, 7), true},
		{"other column", pk, OpUpdate, row(1, 7), row(1, 8), false},
		{"message key unchanged while pk changes", msgKey, OpUpdate, row(1, 7), row(2, 7), false},
		{"message key changed", msgKey, OpUpdate, row(1, 7), row(1, 8), true},
		{"null to value", pk, OpUpdate, []Value{Null, Int(7)}, row(0, 7), true},
		{"create", pk, OpCreate, nil, row(1, 7), false},
	} {
		e := &ChangeEvent{Op: tc.op, Table: tc.table, Before: tc.before, After: tc.after}
		if got := e.KeyChanged(); got != tc.want {
			t.Errorf("%s: KeyChanged = %v, want %v", tc.name, got, tc.want)
		}
	}
}
