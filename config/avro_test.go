package config

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func avroMap(kv ...string) map[string]string {
	return with(append([]string{
		"key.converter", AvroConverterClass, "value.converter", AvroConverterClass,
	}, kv...)...)
}

func TestFromMap_Avro(t *testing.T) {
	tests := []struct {
		name string
		kv   []string
		want Avro
	}{
		{"value registry", []string{"value.converter.schema.registry.url", "http://sr:8081/"}, Avro{RegistryURLs: []string{"http://sr:8081"}}},
		{"key registry", []string{"key.converter.schema.registry.url", "http://a:8081,http://b:8081"}, Avro{RegistryURLs: []string{"http://a:8081", "http://b:8081"}}},
		{"worker registry", []string{"schema.registry.url", "https://sr"}, Avro{RegistryURLs: []string{"https://sr"}}},
		{"same on both sides", []string{"key.converter.schema.registry.url", "http://sr", "value.converter.schema.registry.url", "http://sr"}, Avro{RegistryURLs: []string{"http://sr"}}},
		{"basic auth and names", []string{"value.converter.schema.registry.url", "http://sr",
			"value.converter.basic.auth.credentials.source", "USER_INFO", "value.converter.basic.auth.user.info", "u:p:w",
			"schema.name.adjustment.mode", "AVRO", "field.name.adjustment.mode", "avro_unicode",
			"value.converter.enhanced.avro.schema.support", "true", "value.converter.auto.register.schemas", "true"},
			Avro{RegistryURLs: []string{"http://sr"}, User: "u", Password: NewSecret("p:w"), SchemaNameAdjustmentMode: "avro", FieldNameAdjustmentMode: "avro_unicode"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, w := mustFromMap(t, avroMap(tc.kv...))
			if len(w) != 0 {
				t.Errorf("warnings: %v", w)
			}
			if !c.UsesAvro() {
				t.Error("UsesAvro is false")
			}
			if d := cmp.Diff(tc.want, c.Avro, cmp.Comparer(func(a, b Secret) bool { return a.Reveal() == b.Reveal() })); d != "" {
				t.Errorf("(-want +got)\n%s", d)
			}
		})
	}
}

func TestFromMap_AvroErrors(t *testing.T) {
	reg := []string{"value.converter.schema.registry.url", "http://sr"}
	tests := []struct {
		name string
		m    map[string]string
		want []string
	}{
		{"mixed converters", with("value.converter", AvroConverterClass, "schema.registry.url", "http://sr"),
			[]string{`key.converter: "org.apache.kafka.connect.json.JsonConverter" is not supported yet; use the same converter for keys and values (value.converter is io.confluent.connect.avro.AvroConverter)`}},
		{"two registries", avroMap("key.converter.schema.registry.url", "http://a", "value.converter.schema.registry.url", "http://b"),
			[]string{`key.converter.schema.registry.url: "http://a" is not supported yet; use the same schema registry for keys and values (value.converter.schema.registry.url is http://b)`}},
		{"not a URL", avroMap("schema.registry.url", "sr:8081"),
			[]string{`schema.registry.url: "sr:8081" holds sr:8081, which is not an http:// or https:// URL; set the registry's base URL, such as http://schema-registry:8081`}},
		{"stdout", avroMap(append(reg, "sink.type", "stdout")...),
			[]string{`sink.type: "stdout" is not supported yet; the Avro converter writes to Kafka only; use sink.type=kafka`}},
		{"subject strategy", avroMap(append(reg, "value.converter.value.subject.name.strategy", "io.confluent.kafka.serializers.subject.RecordNameStrategy")...),
			[]string{`value.converter.value.subject.name.strategy: "io.confluent.kafka.serializers.subject.RecordNameStrategy" is not supported yet; remove it or set io.confluent.kafka.serializers.subject.TopicNameStrategy`}},
		{"credentials source", avroMap(append(reg, "value.converter.basic.auth.credentials.source", "SASL_INHERIT")...),
			[]string{`basic.auth.credentials.source: "SASL_INHERIT" needs the Kafka producer to log in with SASL PLAIN or SCRAM; set basic.auth.user.info with USER_INFO instead`}},
		{"name mode", avroMap(append(reg, "schema.name.adjustment.mode", "elastic")...),
			[]string{`schema.name.adjustment.mode: "elastic" is not a known mode; use none, avro or avro_unicode`}},
		{"name mode with JSON schemas", with("schema.name.adjustment.mode", "avro"),
			[]string{`schema.name.adjustment.mode: "avro" is not supported yet; Rivulet applies name adjustment to Avro schemas only; remove it or use io.confluent.connect.avro.AvroConverter`}},
		{"field name mode with schemaless JSON", with("field.name.adjustment.mode", "avro_unicode", "key.converter.schemas.enable", "false", "value.converter.schemas.enable", "false"),
			[]string{`field.name.adjustment.mode: "avro_unicode" is not supported yet; Rivulet adjusts field names in Avro only and writes JSON fields under their column names; remove it or use io.confluent.connect.avro.AvroConverter`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := FromMap(tc.m)
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error does not match ErrInvalid: %v", err)
			}
			if d := cmp.Diff(strings.Join(tc.want, "\n"), err.Error()); d != "" {
				t.Errorf("(-want +got)\n%s", d)
			}
		})
	}
	// Name adjustment without schemas in the JSON makes no difference: accepted.
	mustFromMap(t, with("schema.name.adjustment.mode", "avro", "key.converter.schemas.enable", "false", "value.converter.schemas.enable", "false"))
}
