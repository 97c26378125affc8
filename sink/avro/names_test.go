package avro

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/rivulet-cdc/rivulet/event"
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
	if _, err := ParseNameAdjustment("elastic"); !errors.Is(err, ErrConfig) {
		t.Errorf("ParseNameAdjustment(elastic) = %v, want ErrConfig", err)
	}
}

// TestAvro_SchemaNameAdjustment: a topic prefix that is not a valid Avro
// name fails with the fix under the default mode (as Confluent's converter
// refuses it); with schema.name.adjustment.mode=avro the record names are
// adjusted while topics and subjects keep the prefix.
func TestAvro_SchemaNameAdjustment(t *testing.T) {
	ev := event.ChangeEvent{Op: event.OpCreate, Table: customersV(), After: []event.Value{event.Int(1), str("a")}, Source: streamSource}
	reg := newMemRegistrar()
	enc, err := NewAvro(DefaultJSONConfig("my-server"), AvroConfig{Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = enc.AppendRecords(context.Background(), nil, nil, &ev)
	if !errors.Is(err, ErrEncode) || !strings.Contains(err.Error(), "schema.name.adjustment.mode=avro") {
		t.Fatalf("err = %v, want an encode error naming schema.name.adjustment.mode=avro", err)
	}
	enc, err = NewAvro(DefaultJSONConfig("my-server"), AvroConfig{Registry: reg, SchemaNames: NameAdjustAvro})
	if err != nil {
		t.Fatal(err)
	}
	recs, _, err := enc.AppendRecords(context.Background(), nil, nil, &ev)
	if err != nil {
		t.Fatal(err)
	}
	if recs[0].Topic != "my-server.inventory.customers" {
		t.Errorf("topic %s", recs[0].Topic)
	}
	if _, ok := reg.subjects["my-server.inventory.customers-value"]; !ok {
		t.Errorf("subjects %v", reg.subjects)
	}
	key, value, err := enc.Schemas(ev.Table)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"name":"Key","namespace":"my_server.inventory.customers"`, `"connect.name":"my_server.inventory.customers.Key"`} {
		if !strings.Contains(key, want) {
			t.Errorf("key schema lacks %s: %s", want, key)
		}
	}
	for _, want := range []string{`"name":"Envelope","namespace":"my_server.inventory.customers"`, `"connect.name":"my_server.inventory.customers.Value"`} {
		if !strings.Contains(value, want) {
			t.Errorf("value schema lacks %s: %s", want, value)
		}
	}
}
