package sink

import (
	"testing"

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
