package ddlcorpus

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rivulet-cdc/rivulet/schema"
)

// TestColumnEqDefaults: the comparison takes the server's stored default
// and Debezium's spelling of the literal (the tracked model) as the same
// value where they are, and tells different values apart (defaults the
// previous corpus runs counted as wrong tables: funcs_1 myisam_trig_03,
// main/func_time, type_timestamp, type_datetime, type_newdecimal,
// funcs_1 innodb_views).
func TestColumnEqDefaults(t *testing.T) {
	col := func(typ schema.Type, scale int, def string) schema.Column {
		return schema.Column{Name: "c", Type: typ, Scale: scale, HasDefault: true, Default: &def}
	}
	tests := []struct {
		typ            schema.Type
		scale          int
		server, traced string
		same           bool
	}{
		{schema.TypeChar, 0, "\x05", "101", true},                                     // CHAR(1) DEFAULT b'101'
		{schema.TypeChar, 0, "A", "41", true},                                         // x'41'
		{schema.TypeBinary, 0, "\x00A", "0041", true},                                 // BINARY(2) DEFAULT x'0041'
		{schema.TypeChar, 0, "\x06", "101", false},                                    // another value
		{schema.TypeVarchar, 0, "101", "101", true},                                   // a text literal '101'
		{schema.TypeTimestamp, 0, "2005-05-05 01:01:01", "2005-05-05 07:01:01", true}, // written at +06:00
		{schema.TypeTimestamp, 0, "2003-01-01 00:00:00", "2002-12-31 21:00:00", true},
		{schema.TypeTimestamp, 0, "2003-01-01 00:00:00", "2003-01-01 00:00:01", false},
		{schema.TypeTimestamp, 0, "2003-01-02 00:00:00", "2003-01-01 00:00:00", false}, // a day apart
		{schema.TypeDate, 0, "1962-03-03", "1962-03-03 23:33:34", true},
		{schema.TypeDate, 0, "1962-03-04", "1962-03-03 23:33:34", false},
		{schema.TypeTime, 0, "00:00:00", "0", true},
		{schema.TypeTime, 0, "10:10:10", "101010", true},
		{schema.TypeTime, 0, "00:00:00.00000", "00:00:00", true}, // suite/vcol vcol_keys_innodb
		{schema.TypeTime, 0, "00:00:00.10000", "00:00:00", false},
		{schema.TypeDecimal, 0, "17", "17.49", true},
		{schema.TypeDecimal, 0, "18", "17.68", true},
		{schema.TypeDecimal, 1, "0.0", "1e-10000", true},
		{schema.TypeDecimal, 1, "0.1", "0.10001 ", true},
		{schema.TypeDecimal, 1, "-0.2", "-0.15", true},
		{schema.TypeDecimal, 1, "0.2", "0.14", false},
		{schema.TypeDouble, 0, "7.7", "00000000000000000007.7", true},
		{schema.TypeDouble, 0, "7.7", "7.8", false},
	}
	for _, tt := range tests {
		a, b := col(tt.typ, tt.scale, tt.server), col(tt.typ, tt.scale, tt.traced)
		if got := cmp.Equal(a, b, columnEq); got != tt.same {
			t.Errorf("type %d scale %d: server %q, tracked %q: same=%v, want %v", tt.typ, tt.scale, tt.server, tt.traced, got, tt.same)
		}
		if got := cmp.Equal(b, a, columnEq); got != tt.same {
			t.Errorf("type %d scale %d: tracked %q, server %q (swapped): same=%v, want %v", tt.typ, tt.scale, tt.traced, tt.server, got, tt.same)
		}
	}
}

// TestColumnEqWideEnum: a binary ENUM/SET member the server took in a
// UTF-16 or UTF-32 connection collation (main/ctype_utf16_uca,
// ctype_utf32_uca) equals the statement's text, which the model keeps.
func TestColumnEqWideEnum(t *testing.T) {
	for _, tt := range []struct {
		server, tracked string
		same            bool
	}{
		{"\x00a\x00a\x00a", "aaa", true},
		{"\x00\x00\x00a", "a", true},
		{"\x00a\x00b", "ab", true},
		{"\x00a\x00b", "ba", false},
		{"ab", "ab", true},
	} {
		a := schema.Column{Name: "c", Type: schema.TypeEnum, Charset: "binary", Values: []string{tt.server}}
		b := schema.Column{Name: "c", Type: schema.TypeEnum, Charset: "binary", Values: []string{tt.tracked}}
		if got := cmp.Equal(a, b, columnEq); got != tt.same {
			t.Errorf("server %q, tracked %q: same=%v, want %v", tt.server, tt.tracked, got, tt.same)
		}
	}
}
