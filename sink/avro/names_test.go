package avro

import (
	"errors"
	"testing"

	"github.com/rivulet-cdc/rivulet/sink"
)

// TestNameAdjustment follows Debezium's SchemaNameAdjusterTest cases and
// UnicodeReplacementFunction (avro_unicode escapes '_' too, and pads hex
// codes of at most two digits to four).
func TestNameAdjustment(t *testing.T) {
	for _, tc := range []struct {
		mode     NameAdjustment
		in, want string
	}{
		{NameAdjustNone, "test-server.connector_test.products.Key", "test-server.connector_test.products.Key"},
		{NameAdjustAvro, "test_server.connector_test.products.Key", "test_server.connector_test.products.Key"},
		{NameAdjustAvro, "t1234.connector_test.products.Key", "t1234.connector_test.products.Key"},
		{NameAdjustAvro, "test-server.connector_test.products.Key", "test_server.connector_test.products.Key"},
		{NameAdjustAvro, "1abc.d-e.f g.Value", "_abc.d_e.f_g.Value"},
		{NameAdjustAvro, "srv.db.tä😀.Key", "srv.db.t___.Key"},
		{NameAdjustAvroUnicode, "test-server.connector_test.products.Key", "test_u002dserver.connector_u005ftest.products.Key"},
		{NameAdjustAvroUnicode, "_a.b", "_u005fa.b"},
		{NameAdjustAvroUnicode, "srv.tä", "srv.t_u00e4"},
		{NameAdjustAvroUnicode, "srv.Āb", "srv._u100b"},
	} {
		if got := tc.mode.adjust(tc.in); got != tc.want {
			t.Errorf("%s.adjust(%q) = %q, want %q", tc.mode, tc.in, got, tc.want)
		}
	}
	for _, s := range []string{"none", "avro", "AVRO_UNICODE"} {
		if _, err := ParseNameAdjustment(s); err != nil {
			t.Errorf("ParseNameAdjustment(%q): %v", s, err)
		}
	}
	if _, err := ParseNameAdjustment("elastic"); !errors.Is(err, sink.ErrConfig) {
		t.Errorf("ParseNameAdjustment(elastic) = %v, want ErrConfig", err)
	}
}
