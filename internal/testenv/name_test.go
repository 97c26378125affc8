package testenv

import (
	"strings"
	"testing"
)

func TestSanitizeName(t *testing.T) {
	long := "Test" + strings.Repeat("X", 100)
	tests := []struct {
		in, want string
	}{
		{"TestFoo", "testfoo"},
		{"TestFoo/Sub_case", "testfoo_sub_case"},
		{"TestA/b#01/ü é", "testa_b_01"},
		{"Test__x--y", "test_x_y"},
		{"///", "db"},
		{long, strings.ToLower(long[:64])},
	}
	for _, tt := range tests {
		if got := sanitizeName(tt.in); got != tt.want {
			t.Errorf("sanitizeName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestUniqueName(t *testing.T) {
	base := strings.Repeat("u", 64)
	a, b, c := uniqueName(base), uniqueName(base), uniqueName(base)
	if a != base {
		t.Errorf("first = %q, want the base", a)
	}
	if b != base[:62]+"_2" || c != base[:62]+"_3" {
		t.Errorf("repeats = %q, %q, want _2 and _3 suffixes within 64 bytes", b, c)
	}
}

// A cluster id never starts with '-', which kafka-storage format would
// read as a missing --cluster-id value.
func TestNewClusterID(t *testing.T) {
	for range 2000 {
		id := newClusterID()
		if len(id) != 22 || id[0] == '-' {
			t.Fatalf("newClusterID() = %q: want 22 characters, not starting with '-'", id)
		}
	}
}
