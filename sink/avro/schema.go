package avro

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/rivulet-cdc/rivulet/sink"
)

// The Avro schemas below are what Confluent's AvroData.fromConnectSchema
// (schema-registry avro-data, io.confluent.connect.avro.AvroData, with the
// AvroConverter defaults connect.meta.data=true, scrub.invalid.names=false,
// enhanced.avro.schema.support=false) makes of Debezium's Connect schemas:
//
//   - a struct is a record named after the Connect schema (namespace = the
//     part before the last '.'), a repeated struct a reference by full name;
//   - INT8/INT16 are "int" with "connect.type":"int8"/"int16"; INT32 "int",
//     INT64 "long", FLOAT32 "float", FLOAT64 "double", BYTES "bytes";
//   - schema metadata becomes properties in this order: connect.doc,
//     connect.version, connect.parameters, connect.default, connect.name,
//     connect.type, then logicalType (Decimal: "scale" and "precision" come
//     first, as the BYTES case adds them before the metadata; Connect
//     Date/Time/Timestamp: date, time-millis, timestamp-millis);
//   - an optional schema is the union ["null", T] with field default null,
//     or [T, "null"] when the Connect schema has a default (then the field
//     default is that value).
//
// Avro's own serialisation writes a record as type, name, namespace,
// fields, properties; a field as name, type, default. Rivulet writes the
// same order and always the explicit namespace, so the registry (which
// compares parsed schemas) sees the schema Kafka Connect would register.

// avroSchemaWriter builds one top-level schema; named records already
// written are referenced by full name.
type avroSchemaWriter struct {
	dst  []byte
	seen map[string]bool
	err  error
}

func (w *avroSchemaWriter) raw(s string) { w.dst = append(w.dst, s...) }
func (w *avroSchemaWriter) str(s string) { w.dst = sink.AppendJSONString(w.dst, s) }
func (w *avroSchemaWriter) key(k string) {
	w.dst = append(sink.AppendJSONString(append(w.dst, ','), k), ':')
}
func (w *avroSchemaWriter) keyStr(k, v string) { w.key(k); w.str(v) }

// beginRecord writes `{"type":"record","name":…,"namespace":…,"fields":[`
// and returns false (after writing the reference) when the record was
// written before.
func (w *avroSchemaWriter) beginRecord(fullName string) bool {
	if w.seen[fullName] {
		w.str(fullName)
		return false
	}
	if w.err == nil {
		w.err = checkAvroFullName(fullName, "schema name")
	}
	w.seen[fullName] = true
	ns, name := splitFullName(fullName)
	w.raw(`{"type":"record","name":`)
	w.str(name)
	if ns != "" {
		w.keyStr("namespace", ns)
	}
	w.raw(`,"fields":[`)
	return true
}

// endRecord closes the fields and writes the record's properties; params
// are the Connect schema's parameters (a geometry struct carries those of
// column.propagate.source.type, as AvroData writes them).
func (w *avroSchemaWriter) endRecord(doc string, version int, params [][2]string, connectName string) {
	w.raw("]")
	if doc != "" {
		w.keyStr("connect.doc", doc)
	}
	if version != 0 {
		w.key("connect.version")
		w.dst = strconv.AppendInt(w.dst, int64(version), 10)
	}
	w.params(params)
	w.keyStr("connect.name", connectName)
	w.raw("}")
}

// params writes a Connect schema's parameters as connect.parameters (none: nothing).
func (w *avroSchemaWriter) params(params [][2]string) {
	if len(params) == 0 {
		return
	}
	w.raw(`,"connect.parameters":{`)
	for i, p := range params {
		if i > 0 {
			w.raw(",")
		}
		w.str(p[0])
		w.raw(":")
		w.str(p[1])
	}
	w.raw("}")
}

// field writes one record field: `{"name":…,"type":` + typ() + default.
// optional wraps the type in ["null", T] with default null.
func (w *avroSchemaWriter) field(i int, name string, optional bool, typ func()) {
	w.fieldDefault(i, name, optional, nil, typ)
}

// fieldDefault is field for a Connect schema with a default (def, the
// Avro JSON of the value, or nil): optional then is [T, "null"] and the
// field's default is def (AvroData.maybeMakeOptional, addAvroRecordField).
func (w *avroSchemaWriter) fieldDefault(i int, name string, optional bool, def []byte, typ func()) {
	if i > 0 {
		w.raw(",")
	}
	if w.err == nil {
		if err := checkAvroName(name); err != nil {
			w.err = fmt.Errorf("%w: field %q is not a valid Avro name (%v)", sink.ErrEncode, name, err)
		}
	}
	w.raw(`{"name":`)
	w.str(name)
	w.raw(`,"type":`)
	switch {
	case optional && def == nil:
		w.raw(`["null",`)
		typ()
		w.raw(`],"default":null}`)
		return
	case optional:
		w.raw("[")
		typ()
		w.raw(`,"null"]`)
	default:
		typ()
	}
	if def != nil {
		w.raw(`,"default":`)
		w.dst = append(w.dst, def...)
	}
	w.raw("}")
}

// prim writes a primitive type without properties.
func (w *avroSchemaWriter) prim(t string) func() { return func() { w.str(t) } }

// column writes the Avro type of a column's Connect schema.
func (w *avroSchemaWriter) column(c sink.Column) {
	switch c.Kind() {
	case sink.KindGeometry, sink.KindPoint:
		w.geometry(c.Kind() == sink.KindPoint, c)
		return
	}
	var avroType, connectType string
	typ, name, doc, version, params := c.ConnectType(), c.ConnectName(), c.ConnectDoc(), c.ConnectVersion(), c.ConnectParams()
	switch typ {
	case "int8", "int16":
		avroType, connectType = "int", typ
	case "int32":
		avroType = "int"
	case "int64":
		avroType = "long"
	case "float", "double", "boolean", "string", "bytes":
		avroType = typ
	default:
		if w.err == nil {
			w.err = fmt.Errorf("%w: column %s: Connect type %q has no Avro mapping", sink.ErrEncode, c.Name(), typ)
		}
		avroType = "null"
	}
	decimal := name == "org.apache.kafka.connect.data.Decimal"
	def := avroDefault(c)
	if name == "" && doc == "" && version == 0 && len(params) == 0 && connectType == "" && def == nil {
		w.str(avroType)
		return
	}
	w.raw(`{"type":`)
	w.str(avroType)
	var scale, precision string
	if decimal {
		precision = "64" // CONNECT_AVRO_DECIMAL_PRECISION_DEFAULT
		scale = "0"
		for _, p := range params {
			switch p[0] {
			case "scale":
				scale = p[1]
			case "connect.decimal.precision":
				precision = p[1]
			}
		}
		w.key("scale")
		w.raw(scale)
		w.key("precision")
		w.raw(precision)
	}
	if doc != "" {
		w.keyStr("connect.doc", doc)
	}
	if version != 0 {
		w.key("connect.version")
		w.dst = strconv.AppendInt(w.dst, int64(version), 10)
	}
	w.params(params)
	if def != nil {
		w.raw(`,"connect.default":`)
		w.dst = append(w.dst, def...)
	}
	if name != "" {
		w.keyStr("connect.name", name)
	}
	if connectType != "" {
		w.keyStr("connect.type", connectType)
	}
	switch name {
	case "org.apache.kafka.connect.data.Decimal":
		w.keyStr("logicalType", "decimal")
	case "org.apache.kafka.connect.data.Date":
		w.keyStr("logicalType", "date")
	case "org.apache.kafka.connect.data.Time":
		w.keyStr("logicalType", "time-millis")
	case "org.apache.kafka.connect.data.Timestamp":
		w.keyStr("logicalType", "timestamp-millis")
	}
	w.raw("}")
}

// geometry writes io.debezium.data.geometry.Geometry / Point
// (Debezium's Geometry.builder / Point.builder).
func (w *avroSchemaWriter) geometry(point bool, c sink.Column) {
	if !w.beginRecord(c.ConnectName()) {
		return
	}
	i := 0
	if point {
		w.field(0, "x", false, w.prim("double"))
		w.field(1, "y", false, w.prim("double"))
		w.field(2, "wkb", true, w.prim("bytes"))
		i = 3
	} else {
		w.field(0, "wkb", false, w.prim("bytes"))
		i = 1
	}
	w.field(i, "srid", true, w.prim("int"))
	w.endRecord(c.ConnectDoc(), c.ConnectVersion(), c.ConnectParams(), c.ConnectName())
}

// row writes the record of a key or a row image.
func (w *avroSchemaWriter) row(cols []avroCol, fullName string) {
	if !w.beginRecord(fullName) {
		return
	}
	for i := range cols {
		c := cols[i].c
		w.fieldDefault(i, cols[i].name, c.Nullable(), avroDefault(c), func() { w.column(c) })
	}
	w.endRecord("", 0, nil, fullName)
}

// avroKeySchema is the key schema <topic>.Key (adjusted).
func avroKeySchema(cols []avroCol, name string) (string, error) {
	w := &avroSchemaWriter{seen: map[string]bool{}}
	w.row(cols, name)
	return string(w.dst), w.err
}

// sourceAvroFields: io.debezium.connector.<connector>.Source v1
// (DEBEZIUM-REFERENCE §2.4); snapshot is an io.debezium.data.Enum with
// default "false", so its union puts string first.
const sourceAvroFields = `{"name":"version","type":"string"},` +
	`{"name":"connector","type":"string"},` +
	`{"name":"name","type":"string"},` +
	`{"name":"ts_ms","type":"long"},` +
	`{"name":"snapshot","type":[{"type":"string","connect.version":1,"connect.parameters":{"allowed":"true,first,first_in_data_collection,last_in_data_collection,last,false,incremental"},"connect.default":"false","connect.name":"io.debezium.data.Enum"},"null"],"default":"false"},` +
	`{"name":"db","type":"string"},` +
	`{"name":"sequence","type":["null","string"],"default":null},` +
	`{"name":"ts_us","type":["null","long"],"default":null},` +
	`{"name":"ts_ns","type":["null","long"],"default":null},` +
	`{"name":"table","type":["null","string"],"default":null},` +
	`{"name":"server_id","type":"long"},` +
	`{"name":"gtid","type":["null","string"],"default":null},` +
	`{"name":"file","type":"string"},` +
	`{"name":"pos","type":"long"},` +
	`{"name":"row","type":"int"},` +
	`{"name":"thread","type":["null","long"],"default":null},` +
	`{"name":"query","type":["null","string"],"default":null}`

// envelopeAvroTail: transaction (event.block v1), op and the envelope
// timestamps (SchemaFactory.datatypeEnvelopeSchema).
const envelopeAvroTail = `{"name":"transaction","type":["null",{"type":"record","name":"block","namespace":"event","fields":[` +
	`{"name":"id","type":"string"},` +
	`{"name":"total_order","type":"long"},` +
	`{"name":"data_collection_order","type":"long"}],` +
	`"connect.version":1,"connect.name":"event.block"}],"default":null},` +
	`{"name":"op","type":"string"},` +
	`{"name":"ts_ms","type":["null","long"],"default":null},` +
	`{"name":"ts_us","type":["null","long"],"default":null},` +
	`{"name":"ts_ns","type":["null","long"],"default":null}`

// avroValueSchema is the envelope schema <topic>.Envelope v2 with the row
// record <topic>.Value (names adjusted by the caller).
func avroValueSchema(cols []avroCol, valueName, envelopeName, connector string) (string, error) {
	w := &avroSchemaWriter{seen: map[string]bool{}}
	if !w.beginRecord(envelopeName) {
		return "", fmt.Errorf("%w: envelope name %q repeats", sink.ErrEncode, envelopeName)
	}
	w.field(0, "before", true, func() { w.row(cols, valueName) })
	w.field(1, "after", true, func() { w.row(cols, valueName) })
	w.raw(`,{"name":"source","type":{"type":"record","name":"Source","namespace":"io.debezium.connector.`)
	w.raw(connector)
	w.raw(`","fields":[`)
	w.raw(sourceAvroFields)
	w.raw(`],"connect.version":1,"connect.name":"io.debezium.connector.`)
	w.raw(connector)
	w.raw(`.Source"}},`)
	w.raw(envelopeAvroTail)
	w.endRecord("", 2, nil, envelopeName)
	return string(w.dst), w.err
}

// avroDefault converts the column's Connect default (JsonConverter's JSON
// of it) to the Avro JSON AvroData.defaultValueFromConnect writes: numbers,
// booleans and strings as they are; bytes (BYTES, Decimal, Bits) as the
// string of the bytes read as ISO-8859-1 (JsonConverter has base64). A
// geometry default is not carried (MySQL has none but expressions).
func avroDefault(c sink.Column) []byte {
	def := c.Default()
	if def == nil || c.Kind() == sink.KindGeometry || c.Kind() == sink.KindPoint {
		return nil
	}
	if c.ConnectType() != "bytes" {
		return def
	}
	var b64 string
	if err := json.Unmarshal(def, &b64); err != nil {
		return nil
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil
	}
	latin1 := make([]rune, len(raw))
	for i, b := range raw {
		latin1[i] = rune(b)
	}
	return sink.AppendJSONString(nil, string(latin1))
}
