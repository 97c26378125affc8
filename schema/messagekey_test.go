package schema

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFilter_MessageKey(t *testing.T) {
	cols := func(names ...string) []Column {
		out := make([]Column, len(names))
		for i, n := range names {
			out[i] = Column{Name: n, Type: TypeInt}
		}
		return out
	}
	customers := &Table{DB: "inventory", Name: "customers", Columns: cols("id", "email", "name"), PrimaryKey: []int{0}}
	orders := &Table{DB: "shop", Name: "orders", Columns: cols("line", "ref", "qty")}
	other := &Table{DB: "inventory", Name: "products", Columns: cols("id"), PrimaryKey: []int{0}}

	f, err := NewFilter(FilterConfig{MessageKeyColumns: "inventory.customers:email; (.*).orders:ref,LINE"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		t    *Table
		want []int
	}{
		{customers, []int{1}},
		// Pattern order first (ref, then line), as CustomKeyMapper adds candidates per predicate.
		{orders, []int{1, 0}},
		{other, nil},
	}
	for _, tt := range tests {
		got := f.MessageKey(tt.t)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("MessageKey(%s) mismatch (-want +got):\n%s", tt.t.ID(), diff)
		}
		tt.t.MessageKey = got
	}
	if diff := cmp.Diff([]int{1}, customers.Key()); diff != "" {
		t.Errorf("Key() = %v", customers.Key())
	}
	if diff := cmp.Diff([]int{0}, customers.ChunkKey()); diff != "" {
		t.Errorf("ChunkKey() with a primary key = %v, want the primary key", customers.ChunkKey())
	}
	if diff := cmp.Diff([]int{1, 0}, orders.ChunkKey()); diff != "" {
		t.Errorf("ChunkKey() without a primary key = %v, want the message key", orders.ChunkKey())
	}
	if (*Filter)(nil).MessageKey(customers) != nil {
		t.Error("nil filter gave a message key")
	}

	for _, bad := range []string{"a.b", "a.b:", "a.b:c:d", "a.b:c,,d", "a.(b:c"} {
		if _, err := NewFilter(FilterConfig{MessageKeyColumns: bad}); !errors.Is(err, ErrInvalidFilter) {
			t.Errorf("NewFilter(message.key.columns=%q) err = %v, want ErrInvalidFilter", bad, err)
		}
	}
}
