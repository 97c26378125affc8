package sink_test

import (
	"testing"

	"github.com/rivulet-cdc/rivulet/sink"
	"github.com/rivulet-cdc/rivulet/sink/debeziumjson"
	"github.com/rivulet-cdc/rivulet/sink/internal/fixture"
)

// The tables and events of the transports' tests (package sink_test: their
// format, Debezium JSON, imports sink).
var (
	customers    = fixture.Customers
	twoKeys      = fixture.TwoKeys
	str          = fixture.Str
	streamSource = fixture.StreamSource
	kafkaEvents  = fixture.KafkaEvents
)

// testFormat is Debezium JSON with testEncoding.
func testFormat(t testing.TB) sink.Format {
	t.Helper()
	j, err := debeziumjson.NewJSON(testEncoding())
	if err != nil {
		t.Fatal(err)
	}
	return j.Format()
}
