package main

import (
	"regexp"

	"github.com/rivulet-cdc/rivulet/internal/srtest"
)

// variantFilter, when set (-variants), runs only the variants whose name it
// matches, and skips the snapshot and live-lag figures: e.g.
// -variants 'no schemas$|Avro' for the Avro/JSON ratio alone.
var variantFilter *regexp.Regexp

// avroBenchConfig starts a schema registry on loopback (srtest: franz-go's
// srfake with the BACKWARD rule) in this process and returns the keys of a
// run with key.converter/value.converter = AvroConverter, and a stop.
func avroBenchConfig() (map[string]string, func()) {
	reg := srtest.New()
	return map[string]string{
		"key.converter":                       "io.confluent.connect.avro.AvroConverter",
		"value.converter":                     "io.confluent.connect.avro.AvroConverter",
		"key.converter.schema.registry.url":   reg.URL(),
		"value.converter.schema.registry.url": reg.URL(),
		"include.schema.changes":              "false",
	}, reg.Close
}
