package sink

import (
	"github.com/rivulet-cdc/rivulet/event"
)

// The fixtures of the encoder and Kafka tests, for the Avro format's tests
// (avro_*_test.go, package sink_test), which check sink/avro against the
// same tables, events and JSON golden files.
var (
	TypesTable   = typesTable
	TypesRow     = typesRow
	TwoKeys      = twoKeys
	Customers    = customers
	Str          = str
	BenchEvents  = benchEvents
	KafkaEvents  = kafkaEvents
	NewCluster   = newCluster
	NewKafkaSink = newKafka
	DoneCh       = doneCh
	Wait         = wait
	Consume      = consume
)

// StreamSource is the source block of the streamed fixture events.
func StreamSource() event.Source { return streamSource }

// GoldenCase is a goldenCase with exported fields.
type GoldenCase struct {
	Name   string
	Cfg    func(*JSONConfig)
	Events []event.ChangeEvent
}

func exportCases(cs []goldenCase) []GoldenCase {
	out := make([]GoldenCase, len(cs))
	for i, c := range cs {
		out[i] = GoldenCase{c.name, c.cfg, c.events}
	}
	return out
}

// GoldenCases, ModeCases and TxGoldenCases are the cases of the JSON
// golden files (testdata/golden).
func GoldenCases() []GoldenCase   { return exportCases(goldenCases()) }
func ModeCases() []GoldenCase     { return exportCases(modeCases()) }
func TxGoldenCases() []GoldenCase { return exportCases(txGoldenCases()) }
