package sinktest

import (
	"encoding/binary"
	"encoding/json"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"

	"github.com/rivulet-cdc/rivulet/internal/srtest"
	"github.com/rivulet-cdc/rivulet/sink/avro"
)

// DecodeWire decodes a Confluent wire-format record with the schema its id
// names, and checks that nothing trails the datum.
func DecodeWire(t *testing.T, lookup func(int) string, b []byte) (schema string, native any) {
	t.Helper()
	if len(b) < 5 || b[0] != 0 {
		t.Fatalf("not Confluent wire format: % x", b[:min(len(b), 8)])
	}
	schema = lookup(int(binary.BigEndian.Uint32(b[1:5])))
	if schema == "" {
		t.Fatalf("unknown schema id %d", binary.BigEndian.Uint32(b[1:5]))
	}
	codec, err := goavro.NewCodec(withoutDefaults(t, schema))
	if err != nil {
		t.Fatalf("goavro refuses the schema: %v\n%s", err, schema)
	}
	native, rest, err := codec.NativeFromBinary(b[5:])
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if len(rest) != 0 {
		t.Fatalf("%d bytes left after the datum", len(rest))
	}
	return schema, native
}

// withoutDefaults drops the fields' defaults, which a datum's decoding
// does not use: goavro checks them by decoding the JSON through float64 (a
// long default such as 9223372036854775807 fails) and wants a big.Rat for a
// decimal default where the Avro specification (and Java's Avro) take the
// ISO-8859-1 string Confluent's AvroData writes.
func withoutDefaults(t *testing.T, schema string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(schema), &v); err != nil {
		t.Fatal(err)
	}
	var strip func(any)
	strip = func(n any) {
		switch x := n.(type) {
		case []any:
			for _, e := range x {
				strip(e)
			}
		case map[string]any:
			if _, isField := x["name"]; isField {
				if _, hasType := x["type"]; hasType && x["type"] != "record" {
					delete(x, "default")
				}
			}
			for _, e := range x {
				strip(e)
			}
		}
	}
	strip(v)
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// NewTestRegistry starts an in-memory registry (srtest, BACKWARD rule) and
// a client of it with short backoffs.
func NewTestRegistry(t testing.TB) (*srtest.Registry, *avro.Registry) {
	t.Helper()
	srv := srtest.New()
	t.Cleanup(srv.Close)
	reg, err := avro.NewRegistry(avro.RegistryConfig{URLs: []string{srv.URL()}, MinBackoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return srv, reg
}
