package config

import (
	"strings"
)

// AvroConverterClass is Confluent's io.confluent.connect.avro.AvroConverter:
// keys and values in Confluent's Avro wire format, schemas registered in a
// schema registry.
const AvroConverterClass = "io.confluent.connect.avro.AvroConverter"

// Avro holds the settings of the Avro converters and of the schema name
// adjustment that goes with them.
type Avro struct {
	// RegistryURLs is `value.converter.schema.registry.url` (else
	// `key.converter.schema.registry.url`, else the worker-level
	// `schema.registry.url`), comma-separated. Required with the Avro
	// converter; keys and values must use the same registry.
	RegistryURLs []string
	// User and Password are HTTP basic auth: `basic.auth.user.info`
	// ("user:password", also `schema.registry.basic.auth.user.info`, each
	// bare as in a worker file or under key.converter./value.converter.)
	// with `basic.auth.credentials.source=USER_INFO` (the default); the
	// user info of the URL with URL; the Kafka producer's SASL PLAIN or
	// SCRAM login with SASL_INHERIT.
	User     string
	Password Secret
	// InheritSASL is basic.auth.credentials.source=SASL_INHERIT: User and
	// Password are the Kafka producer's SASL username and password.
	InheritSASL bool
	// Bearer is bearer.auth.*: a token sent as Authorization: Bearer.
	Bearer RegistryBearer
	// TLS is `schema.registry.ssl.*` (a private CA, a client certificate)
	// for https URLs; nil means the system roots.
	TLS *KafkaTLS

	// SchemaNameAdjustmentMode is `schema.name.adjustment.mode` and
	// FieldNameAdjustmentMode `field.name.adjustment.mode`: none (default),
	// avro or avro_unicode. Rivulet applies them to Avro schemas only.
	SchemaNameAdjustmentMode string
	FieldNameAdjustmentMode  string
}

// UsesAvro reports whether records are encoded with the Avro converter.
func (c *Config) UsesAvro() bool {
	return c.KeyConverter.Class == AvroConverterClass || c.ValueConverter.Class == AvroConverterClass
}

// avroKeys are the keys parseAvro reads (for SupportedKeys).
var avroKeys = []string{
	"schema.registry.url", "key.converter.schema.registry.url", "value.converter.schema.registry.url",
	"key.converter.basic.auth.credentials.source", "value.converter.basic.auth.credentials.source",
	"key.converter.basic.auth.user.info", "value.converter.basic.auth.user.info",
	"schema.name.adjustment.mode", "field.name.adjustment.mode",
}

// avroFixed are AvroConverter settings Rivulet implements at their default
// only (Confluent's AbstractKafkaSchemaSerDeConfig / AvroDataConfig).
var avroFixed = []struct{ key, def string }{
	{"auto.register.schemas", "true"},
	{"connect.meta.data", "true"},
	{"scrub.invalid.names", "false"},
	{"key.subject.name.strategy", "io.confluent.kafka.serializers.subject.TopicNameStrategy"},
	{"value.subject.name.strategy", "io.confluent.kafka.serializers.subject.TopicNameStrategy"},
	{"use.latest.version", "false"},
}

// avroNoEffect are AvroConverter settings that change nothing in the
// schemas Debezium's Connect schemas become.
var avroNoEffect = []string{"enhanced.avro.schema.support", "schemas.cache.config", "latest.compatibility.strict"}

func (l *loader) parseAvro(c *Config) {
	a := &c.Avro
	var urlUser string
	var urlPassword Secret
	urls := map[string]string{}
	for _, k := range []string{"schema.registry.url", "key.converter.schema.registry.url", "value.converter.schema.registry.url"} {
		if v, ok := l.take(k); ok {
			urls[k] = v
		}
	}
	k, v := "value.converter.schema.registry.url", urls["value.converter.schema.registry.url"]
	if other := urls["key.converter.schema.registry.url"]; other != "" {
		if v != "" && !sameURLs(v, other) {
			l.fail(unsupported("key.converter.schema.registry.url", other,
				"use the same schema registry for keys and values (value.converter.schema.registry.url is "+v+")"))
		}
		if v == "" {
			k, v = "key.converter.schema.registry.url", other
		}
	}
	if v == "" {
		k, v = "schema.registry.url", urls["schema.registry.url"]
	}
	for _, u := range splitURLs(v) {
		if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			l.fail(invalid(k, v, "holds "+u+", which is not an http:// or https:// URL", "set the registry's base URL, such as http://schema-registry:8081"))
			l.bad["value.converter.schema.registry.url"] = true // not "not set" as well
			continue
		}
		clean, user, pass := splitURLUser(u)
		if user != "" {
			// Credentials in the URL (basic.auth.credentials.source=URL)
			// are taken out of it, so that no message prints them.
			urlUser, urlPassword = user, NewSecret(pass)
		}
		a.RegistryURLs = append(a.RegistryURLs, strings.TrimRight(clean, "/"))
	}

	l.parseRegistryAuth(c, urlUser, urlPassword) // basic and bearer auth, TLS (registry.go)
	for _, side := range []string{"key.converter.", "value.converter."} {
		for _, f := range avroFixed {
			if v, ok := l.take(side + f.key); ok && !strings.EqualFold(v, f.def) {
				l.fail(unsupported(side+f.key, v, "remove it or set "+f.def))
			}
		}
		for _, key := range avroNoEffect {
			l.take(side + key)
		}
	}

	for key, dst := range map[string]*string{
		"schema.name.adjustment.mode": &a.SchemaNameAdjustmentMode,
		"field.name.adjustment.mode":  &a.FieldNameAdjustmentMode,
	} {
		v, ok := l.lower(key)
		if !ok {
			continue
		}
		switch v {
		case "none", "avro", "avro_unicode":
			*dst = v
		default:
			l.fail(invalid(key, v, "is not a known mode", "use none, avro or avro_unicode"))
		}
	}
}

func sameURLs(a, b string) bool {
	return strings.Join(splitURLs(a), ",") == strings.Join(splitURLs(b), ",")
}

// splitURLs splits a comma-separated URL list.
func splitURLs(v string) []string {
	var out []string
	for _, u := range strings.Split(v, ",") {
		if u = strings.TrimSpace(u); u != "" {
			out = append(out, u)
		}
	}
	return out
}

// validateConverters checks the converter classes and what the Avro
// converter does not combine with yet.
func (c *Config) validateConverters() []*FieldError {
	var errs []*FieldError
	add := func(e *FieldError) { errs = append(errs, e) }
	for _, cv := range []struct {
		key string
		c   Converter
	}{{"key.converter", c.KeyConverter}, {"value.converter", c.ValueConverter}} {
		switch cv.c.Class {
		case JSONConverterClass, AvroConverterClass:
		default:
			add(unsupported(cv.key, cv.c.Class, "set "+JSONConverterClass+" or "+AvroConverterClass))
		}
	}
	if c.KeyConverter.Class != c.ValueConverter.Class && len(errs) == 0 {
		add(unsupported("key.converter", c.KeyConverter.Class,
			"use the same converter for keys and values (value.converter is "+c.ValueConverter.Class+")"))
	}
	schemaAdjusted := c.Avro.SchemaNameAdjustmentMode != "" && c.Avro.SchemaNameAdjustmentMode != "none"
	fieldAdjusted := c.Avro.FieldNameAdjustmentMode != "" && c.Avro.FieldNameAdjustmentMode != "none"
	if !c.UsesAvro() {
		// Schema names appear in JSON only with schemas enabled; field names
		// are the payload's keys either way, so Debezium's adjusted names
		// would differ from the columns Rivulet writes.
		if schemaAdjusted && (c.KeyConverter.SchemasEnable || c.ValueConverter.SchemasEnable) {
			add(unsupported("schema.name.adjustment.mode", c.Avro.SchemaNameAdjustmentMode,
				"Rivulet applies name adjustment to Avro schemas only; remove it or use "+AvroConverterClass))
		}
		if fieldAdjusted {
			add(unsupported("field.name.adjustment.mode", c.Avro.FieldNameAdjustmentMode,
				"Rivulet adjusts field names in Avro only and writes JSON fields under their column names; remove it or use "+AvroConverterClass))
		}
		return errs
	}
	if len(c.Avro.RegistryURLs) == 0 {
		add(invalid("value.converter.schema.registry.url", "", "is not set", "set the schema registry's URL, such as http://schema-registry:8081"))
	}
	if c.Sink != SinkKafka {
		add(unsupported("sink.type", string(c.Sink), "the Avro converter writes to Kafka only; use sink.type=kafka"))
	}
	switch m := c.Kafka.Client(RoleProducer).SASL.Mechanism; {
	case c.Avro.InheritSASL && m != MechanismPlain && m != MechanismSCRAM256 && m != MechanismSCRAM512:
		add(invalid("basic.auth.credentials.source", "SASL_INHERIT", "needs the Kafka producer to log in with SASL PLAIN or SCRAM", "set basic.auth.user.info with USER_INFO instead"))
	case c.Avro.Bearer.Source == "SASL_OAUTHBEARER_INHERIT" && m != MechanismOAuthBearer:
		add(invalid("bearer.auth.credentials.source", "SASL_OAUTHBEARER_INHERIT", "needs the Kafka producer to log in with OAUTHBEARER", "set OAUTHBEARER with bearer.auth.issuer.endpoint.url, or STATIC_TOKEN"))
	}
	if c.Avro.TLS != nil {
		https := false
		for _, u := range c.Avro.RegistryURLs {
			https = https || strings.HasPrefix(u, "https://")
		}
		if !https {
			add(invalid("schema.registry.ssl.truststore.location", c.Avro.TLS.TruststoreLocation, "is set but the registry URL is not https", "use the registry's https:// URL, or remove the schema.registry.ssl.* keys"))
		}
	}
	if len(c.Transforms) > 0 || len(c.ColumnMappers) > 0 || c.SkipMessagesWithoutChange {
		add(unsupported("value.converter", AvroConverterClass,
			"transforms, column.mask.*, column.truncate.* and skip.messages.without.change are not supported yet with Avro; remove them or use "+JSONConverterClass))
	}
	return errs
}
