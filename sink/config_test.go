package sink

import (
	"errors"
	"slices"
	"testing"

	"github.com/rivulet-cdc/rivulet/event"
)

func TestParseModes(t *testing.T) {
	if m, err := ParseDecimalMode("Double"); err != nil || m != DecimalDouble {
		t.Errorf("ParseDecimalMode = %v, %v", m, err)
	}
	if m, err := ParseTimePrecisionMode("adaptive_time_microseconds"); err != nil || m != TimeAdaptiveMicroseconds {
		t.Errorf("ParseTimePrecisionMode = %v, %v", m, err)
	}
	if m, err := ParseBigIntUnsignedMode("precise"); err != nil || m != BigIntUnsignedPrecise {
		t.Errorf("ParseBigIntUnsignedMode = %v, %v", m, err)
	}
	if m, err := ParseBinaryMode("base64-url-safe"); err != nil || m != BinaryBase64URLSafe {
		t.Errorf("ParseBinaryMode = %v, %v", m, err)
	}
	if _, err := ParseBinaryMode("base32"); !errors.Is(err, ErrConfig) {
		t.Errorf("ParseBinaryMode(base32) = %v, want ErrConfig", err)
	}
	for _, tc := range []struct {
		in   string
		want []event.Op
		ok   bool
	}{
		{"t", []event.Op{event.OpTruncate}, true},
		{"c, u", []event.Op{event.OpCreate, event.OpUpdate}, true},
		{"none", nil, true},
		{"", nil, true},
		{"x", nil, false},
	} {
		got, err := ParseSkippedOperations(tc.in)
		if (err == nil) != tc.ok || !slices.Equal(got, tc.want) {
			t.Errorf("ParseSkippedOperations(%q) = %v, %v", tc.in, got, err)
		}
	}
}
