package schema

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSplitRegexList(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{in: "", want: nil},
		{in: " , ,", want: nil},
		{in: "a", want: []string{"a"}},
		{in: "a,b", want: []string{"a", "b"}},
		{in: " a , b ", want: []string{"a", "b"}},
		{in: `a\,b,c`, want: []string{"a,b", "c"}},
		{in: `db\.t1,db\.t2`, want: []string{`db\.t1`, `db\.t2`}},
		{in: `x{1\,3},y`, want: []string{"x{1,3}", "y"}},
		{in: `a\\,b`, want: []string{`a\\`, "b"}},
		{in: `a\`, wantErr: true},
	}
	for _, tt := range tests {
		got, err := splitRegexList(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("splitRegexList(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("splitRegexList(%q) mismatch (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestFilter(t *testing.T) {
	type check struct {
		db, table, column string // column "" checks Table, table "" checks Database
		want              bool
	}
	tests := []struct {
		name   string
		config FilterConfig
		checks []check
	}{
		{
			name: "empty captures all but system databases",
			checks: []check{
				{db: "inventory", want: true},
				{db: "inventory", table: "orders", want: true},
				{db: "inventory", table: "orders", column: "id", want: true},
				{db: "mysql", want: false},
				{db: "MySQL", table: "user", want: false},
				{db: "sys", want: false},
				{db: "performance_schema", want: false},
				{db: "INFORMATION_SCHEMA", table: "COLUMNS", want: false},
				{db: "mysql2", want: true},
			},
		},
		{
			name:   "database include is anchored and case-insensitive",
			config: FilterConfig{DatabaseIncludeList: "inventory,shop_.*"},
			checks: []check{
				{db: "inventory", want: true},
				{db: "INVENTORY", want: true},
				{db: "inventory2", want: false},
				{db: "my_inventory", want: false},
				{db: "shop_eu", want: true},
				{db: "shop_eu", table: "orders", want: true},
				{db: "other", table: "orders", want: false},
			},
		},
		{
			name:   "database include cannot bring back system databases",
			config: FilterConfig{DatabaseIncludeList: "mysql,.*"},
			checks: []check{
				{db: "mysql", want: false},
				{db: "mysql", table: "user", want: false},
				{db: "app", want: true},
			},
		},
		{
			name:   "database exclude",
			config: FilterConfig{DatabaseExcludeList: "tmp.*"},
			checks: []check{
				{db: "tmp", want: false},
				{db: "TMP_1", table: "x", want: false},
				{db: "app", table: "x", want: true},
			},
		},
		{
			name:   "table include matches db.table",
			config: FilterConfig{TableIncludeList: `inventory\.orders,inventory\.customers_.*`},
			checks: []check{
				{db: "inventory", want: true}, // the database filter is independent of table lists
				{db: "inventory", table: "orders", want: true},
				{db: "Inventory", table: "ORDERS", want: true},
				{db: "inventory", table: "orders_old", want: false},
				{db: "inventory", table: "customers_eu", want: true},
				{db: "inventory", table: "products", want: false},
				{db: "other", table: "orders", want: false},
			},
		},
		{
			name:   "unescaped dot matches any character",
			config: FilterConfig{TableIncludeList: "inventory.orders"},
			checks: []check{
				{db: "inventory", table: "orders", want: true},
				{db: "inventoryx", table: "rders", want: false}, // "inventoryxrders" has no separator left
			},
		},
		{
			name:   "table exclude",
			config: FilterConfig{TableExcludeList: `.*\.audit_.*, app\.tmp`},
			checks: []check{
				{db: "app", table: "audit_log", want: false},
				{db: "app", table: "tmp", want: false},
				{db: "app", table: "tmp2", want: true},
				{db: "app", table: "orders", want: true},
			},
		},
		{
			name: "database and table lists combine with and",
			config: FilterConfig{
				DatabaseIncludeList: "app",
				TableExcludeList:    `app\.secret`,
			},
			checks: []check{
				{db: "app", table: "orders", want: true},
				{db: "app", table: "secret", want: false},
				{db: "other", table: "orders", want: false},
			},
		},
		{
			name:   "include wins over exclude at one level",
			config: FilterConfig{TableIncludeList: `app\.a`, TableExcludeList: `app\.a`},
			checks: []check{
				{db: "app", table: "a", want: true},
				{db: "app", table: "b", want: false},
			},
		},
		{
			name:   "column exclude matches db.table.column",
			config: FilterConfig{ColumnExcludeList: `app\.users\.password,.*\.ssn`},
			checks: []check{
				{db: "app", table: "users", column: "password", want: false},
				{db: "app", table: "users", column: "PASSWORD", want: false},
				{db: "app", table: "users", column: "password_hint", want: true},
				{db: "app", table: "people", column: "password", want: true},
				{db: "hr", table: "people", column: "ssn", want: false},
				{db: "hr", table: "people", column: "name", want: true},
			},
		},
		{
			name:   "column include",
			config: FilterConfig{ColumnIncludeList: `app\.users\.(id|name)`},
			checks: []check{
				{db: "app", table: "users", column: "id", want: true},
				{db: "app", table: "users", column: "name", want: true},
				{db: "app", table: "users", column: "email", want: false},
				{db: "app", table: "orders", column: "id", want: false},
			},
		},
		{
			name:   "escaped comma inside a quantifier",
			config: FilterConfig{DatabaseIncludeList: `db[0-9]{1\,2}`},
			checks: []check{
				{db: "db1", want: true},
				{db: "db12", want: true},
				{db: "db123", want: false},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := NewFilter(tt.config)
			if err != nil {
				t.Fatalf("NewFilter: %v", err)
			}
			for _, c := range tt.checks {
				var got bool
				var what string
				switch {
				case c.table == "":
					got, what = f.Database(c.db), "Database("+c.db+")"
				case c.column == "":
					got, what = f.Table(c.db, c.table), "Table("+c.db+", "+c.table+")"
				default:
					got, what = f.Column(c.db, c.table, c.column), "Column("+c.db+", "+c.table+", "+c.column+")"
				}
				if got != c.want {
					t.Errorf("%s = %v, want %v", what, got, c.want)
				}
			}
		})
	}
}

func TestFilter_Nil(t *testing.T) {
	var f *Filter
	if !f.Database("app") || !f.Table("app", "t") || !f.Column("app", "t", "c") {
		t.Error("nil filter must capture user tables")
	}
	if f.Database("mysql") || f.Table("sys", "t") {
		t.Error("nil filter must not capture system databases")
	}
}

func TestNewFilter_BadPattern(t *testing.T) {
	tests := []struct {
		config   FilterConfig
		wantList string
		wantPat  string
	}{
		{FilterConfig{DatabaseIncludeList: "ok,bad["}, "database.include.list", "bad["},
		{FilterConfig{DatabaseExcludeList: "(x"}, "database.exclude.list", "(x"},
		{FilterConfig{TableIncludeList: `a\.b, c\.(?=d)`}, "table.include.list", `c\.(?=d)`},
		{FilterConfig{TableExcludeList: "*"}, "table.exclude.list", "*"},
		{FilterConfig{ColumnIncludeList: `a{2\,1}`}, "column.include.list", "a{2,1}"},
		{FilterConfig{ColumnExcludeList: `x\`}, "column.exclude.list", `x\`},
	}
	for _, tt := range tests {
		_, err := NewFilter(tt.config)
		if err == nil {
			t.Errorf("NewFilter(%+v) = nil error", tt.config)
			continue
		}
		if !errors.Is(err, ErrInvalidFilter) {
			t.Errorf("NewFilter(%+v) error %v does not wrap ErrInvalidFilter", tt.config, err)
		}
		if msg := err.Error(); !strings.Contains(msg, tt.wantList) || !strings.Contains(msg, tt.wantPat) {
			t.Errorf("NewFilter(%+v) error %q does not name %s and %q", tt.config, msg, tt.wantList, tt.wantPat)
		}
	}
}

func BenchmarkFilter_Table(b *testing.B) {
	f, err := NewFilter(FilterConfig{TableIncludeList: `inventory\.orders,inventory\.customers_.*,shop\..*`})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if !f.Table("shop", "line_items") {
			b.Fatal("not captured")
		}
	}
}
