package sink

import (
	"testing"

	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/schema"
)

// TestTypeMappers_EnumAllowed: the "allowed" parameter of ENUM and SET
// columns escapes a ',' inside a member as "\,", as Debezium 3.6.1's DDL
// parsers do (escapeOption); the differential suite found "x,y,z" where
// Debezium wrote "x,y\,z" for ENUM('x','y,z').
func TestTypeMappers_EnumAllowed(t *testing.T) {
	tests := []struct {
		name   string
		values []string
		want   string
	}{
		{"plain", []string{"a", "b", "c d"}, "a,b,c d"},
		{"comma", []string{"x", "y,z"}, `x,y\,z`},
		{"commas only", []string{",", "c,,d"}, `\,,c\,\,d`},
		{"empty member", []string{"", "a"}, ",a"},
	}
	for _, typ := range []schema.Type{schema.TypeEnum, schema.TypeSet} {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				c := &schema.Column{Name: "e", Type: typ, Values: tt.values}
				var e colEnc
				typeMappers[typ](&JSONConfig{}, c, &e)
				if len(e.schema.params) != 1 || e.schema.params[0][0] != "allowed" {
					t.Fatalf("params = %q, want one allowed", e.schema.params)
				}
				if got := e.schema.params[0][1]; got != tt.want {
					t.Errorf("allowed of %q = %q, want %q", tt.values, got, tt.want)
				}
			})
		}
	}
}

// TestColEnc_ZeroTimestamp: the zero TIMESTAMP (stored as 0) is null in a
// nullable column and the column's default in a NOT NULL one, as Debezium
// 3.6.1 wrote it (differential suite, conformance table temporals); a NOT
// NULL column without a default keeps the epoch.
func TestColEnc_ZeroTimestamp(t *testing.T) {
	def := "2000-01-01 00:00:00"
	tests := []struct {
		name string
		col  schema.Column
		v    event.Value
		want string
	}{
		{"nullable", schema.Column{Name: "ts", Type: schema.TypeTimestamp, TypeName: "TIMESTAMP", Nullable: true, HasDefault: true},
			event.Value{Kind: event.KindTimestamp}, "null"},
		{"not null with default", schema.Column{Name: "ts", Type: schema.TypeTimestamp, TypeName: "TIMESTAMP", HasDefault: true, Default: &def},
			event.Value{Kind: event.KindTimestamp}, `"2000-01-01T00:00:00Z"`},
		{"not null without default", schema.Column{Name: "ts", Type: schema.TypeTimestamp, TypeName: "TIMESTAMP"},
			event.Value{Kind: event.KindTimestamp}, `"1970-01-01T00:00:00Z"`},
		{"not zero", schema.Column{Name: "ts", Type: schema.TypeTimestamp, TypeName: "TIMESTAMP", HasDefault: true, Default: &def},
			event.Value{Kind: event.KindTimestamp, I: 1_000_000}, `"1970-01-01T00:00:01Z"`},
	}
	cfg := DefaultJSONConfig("p")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := newColEnc(&cfg, 0, &tt.col)
			if err != nil {
				t.Fatal(err)
			}
			got, err := e.appendValue(nil, &tt.v)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}
