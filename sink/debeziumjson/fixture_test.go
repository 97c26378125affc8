package debeziumjson

import (
	"time"

	"github.com/rivulet-cdc/rivulet/sink"
	"github.com/rivulet-cdc/rivulet/sink/internal/fixture"
)

// The tables, rows and golden-file helpers the sink's tests share with its
// formats' tests (sink/internal/fixture).
var (
	update        = fixture.Update
	compareJSON   = fixture.CompareJSON
	typesTable    = fixture.TypesTable
	typesRow      = fixture.TypesRow
	temporalTable = fixture.TemporalTable
	temporalRow   = fixture.TemporalRow
	noPK          = fixture.NoPK
	twoKeys       = fixture.TwoKeys
	customers     = fixture.Customers
	str           = fixture.Str
	benchEvents   = fixture.BenchEvents
	streamSource  = fixture.StreamSource
	kafkaEvents   = fixture.KafkaEvents
)

// testEncoding is the transports' test setting (sink's kafka_test.go).
func testEncoding() sink.JSONConfig {
	cfg := sink.DefaultJSONConfig("dbserver1")
	cfg.Version = "3.2.0.Final"
	cfg.Now = func() time.Time { return time.Unix(1718000003, 123456789) }
	return cfg
}
