package engine

import (
	"strings"
	"testing"

	"github.com/rivulet-cdc/rivulet/config"
	"github.com/rivulet-cdc/rivulet/internal/srtest"
)

// TestRegistryCheck_Avro: `rivulet check` reports the registry with the
// Avro converter: PASS when it answers, FAIL with the fix when it does not,
// and no line with JsonConverter.
func TestRegistryCheck_Avro(t *testing.T) {
	reg := srtest.New()
	cfg := &config.Config{
		KeyConverter:   config.Converter{Class: config.AvroConverterClass},
		ValueConverter: config.Converter{Class: config.AvroConverterClass},
		Avro:           config.Avro{RegistryURLs: []string{reg.URL()}},
	}
	r, ok := registryCheck(t.Context(), cfg)
	if !ok || !r.OK {
		t.Fatalf("registryCheck = %+v, %v; want PASS", r, ok)
	}
	reg.Close()
	r, ok = registryCheck(t.Context(), cfg)
	if !ok || r.OK || !strings.Contains(r.Fix, "schema.registry.url") {
		t.Errorf("registry down: registryCheck = %+v, %v; want FAIL with a fix", r, ok)
	}
	if _, ok := registryCheck(t.Context(), &config.Config{}); ok {
		t.Error("a line without the Avro converter")
	}
}
