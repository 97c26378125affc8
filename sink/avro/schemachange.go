package avro

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/schema"
	"github.com/rivulet-cdc/rivulet/sink"
)

// avroSchemaChangeColumn etc. are AvroData of the schema-change Connect
// schemas in sink/schemachange.go (SchemaFactory: SchemaChangeKey,
// SchemaChangeValue, io.debezium.connector.schema.Change/Table/Column).
const avroSchemaChangeColumn = `{"type":"record","name":"Column","namespace":"io.debezium.connector.schema","fields":[` +
	`{"name":"name","type":"string"},` +
	`{"name":"jdbcType","type":"int"},` +
	`{"name":"nativeType","type":["null","int"],"default":null},` +
	`{"name":"typeName","type":"string"},` +
	`{"name":"typeExpression","type":["null","string"],"default":null},` +
	`{"name":"charsetName","type":["null","string"],"default":null},` +
	`{"name":"length","type":["null","int"],"default":null},` +
	`{"name":"scale","type":["null","int"],"default":null},` +
	`{"name":"position","type":"int"},` +
	`{"name":"optional","type":["null","boolean"],"default":null},` +
	`{"name":"autoIncremented","type":["null","boolean"],"default":null},` +
	`{"name":"generated","type":["null","boolean"],"default":null},` +
	`{"name":"comment","type":["null","string"],"default":null},` +
	`{"name":"defaultValueExpression","type":["null","string"],"default":null},` +
	`{"name":"enumValues","type":["null",{"type":"array","items":"string"}],"default":null}],` +
	`"connect.version":1,"connect.name":"io.debezium.connector.schema.Column"}`

const avroSchemaChangeTableChanges = `{"name":"tableChanges","type":{"type":"array","items":` +
	`{"type":"record","name":"Change","namespace":"io.debezium.connector.schema","fields":[` +
	`{"name":"type","type":"string"},` +
	`{"name":"id","type":"string"},` +
	`{"name":"table","type":["null",{"type":"record","name":"Table","namespace":"io.debezium.connector.schema","fields":[` +
	`{"name":"defaultCharsetName","type":["null","string"],"default":null},` +
	`{"name":"primaryKeyColumnNames","type":["null",{"type":"array","items":"string"}],"default":null},` +
	`{"name":"columns","type":{"type":"array","items":` + avroSchemaChangeColumn + `}},` +
	`{"name":"comment","type":["null","string"],"default":null}],` +
	`"connect.version":1,"connect.name":"io.debezium.connector.schema.Table"}],"default":null}],` +
	`"connect.version":1,"connect.name":"io.debezium.connector.schema.Change"}}}`

func avroSchemaChangeKey(connector string) string {
	return `{"type":"record","name":"SchemaChangeKey","namespace":"io.debezium.connector.` + connector + `","fields":[` +
		`{"name":"databaseName","type":"string"}],` +
		`"connect.version":1,"connect.name":"io.debezium.connector.` + connector + `.SchemaChangeKey"}`
}

func avroSchemaChangeValue(connector string) string {
	return `{"type":"record","name":"SchemaChangeValue","namespace":"io.debezium.connector.` + connector + `","fields":[` +
		`{"name":"source","type":{"type":"record","name":"Source","namespace":"io.debezium.connector.` + connector + `","fields":[` +
		sourceAvroFields +
		`],"connect.version":1,"connect.name":"io.debezium.connector.` + connector + `.Source"}},` +
		`{"name":"ts_ms","type":"long"},` +
		`{"name":"databaseName","type":["null","string"],"default":null},` +
		`{"name":"schemaName","type":["null","string"],"default":null},` +
		`{"name":"ddl","type":["null","string"],"default":null},` +
		avroSchemaChangeTableChanges +
		`],"connect.version":1,"connect.name":"io.debezium.connector.` + connector + `.SchemaChangeValue"}`
}

// SchemaChangeRecord is JSON.SchemaChangeRecord in Avro: the planner's
// payload (sink.Planner.SchemaChangePayload) converted to Avro with
// the schemas above, registered under <topic.prefix>-key and -value. DDL is
// rare: this path may allocate.
func (a *Encoder) SchemaChangeRecord(ctx context.Context, c *schema.Change, src event.Source) (sink.Record, error) {
	r, err := a.p.SchemaChangePayload(c, src)
	if err != nil {
		return sink.Record{}, err
	}
	return a.schemaChangeFromJSON(ctx, r)
}

// SchemaChangeRecords is JSON.SchemaChangeRecords in Avro.
func (a *Encoder) SchemaChangeRecords(ctx context.Context, c *schema.Change, src event.Source) ([]sink.Record, error) {
	rs, err := a.p.SchemaChangePayloads(c, src)
	if err != nil {
		return nil, err
	}
	for i, r := range rs {
		if rs[i], err = a.schemaChangeFromJSON(ctx, r); err != nil {
			return nil, err
		}
	}
	return rs, nil
}

func (a *Encoder) schemaChangeFromJSON(ctx context.Context, r sink.Record) (sink.Record, error) {
	connector := a.jcfg.Connector.String()
	key, err := a.fromJSON(ctx, r.Topic+"-key", avroSchemaChangeKey(connector), r.Key)
	if err != nil {
		return sink.Record{}, err
	}
	value, err := a.fromJSON(ctx, r.Topic+"-value", avroSchemaChangeValue(connector), r.Value)
	if err != nil {
		return sink.Record{}, err
	}
	return sink.Record{Topic: r.Topic, Key: key, Value: value}, nil
}

// fromJSON registers schema under subject and encodes the JSON datum with it.
func (a *Encoder) fromJSON(ctx context.Context, subject, schemaText string, datum []byte) ([]byte, error) {
	id, err := a.cfg.Registry.Register(ctx, subject, schemaText)
	if err != nil {
		return nil, fmt.Errorf("register schema of %s: %w", subject, err)
	}
	var sch, v any
	if err := json.Unmarshal([]byte(schemaText), &sch); err != nil {
		return nil, fmt.Errorf("%w: schema of %s: %w", sink.ErrEncode, subject, err)
	}
	dec := json.NewDecoder(bytes.NewReader(datum))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("%w: %s datum: %w", sink.ErrEncode, subject, err)
	}
	h := wireHeader(id)
	out, err := jsonToAvro(append([]byte(nil), h[:]...), sch, v, "")
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", sink.ErrEncode, subject, err)
	}
	return out, nil
}

// jsonToAvro writes the JSON value v (json.Number for numbers) as the Avro
// datum of schema sch: records, arrays, unions of null and one type, and
// the primitives the schema-change schemas use.
func jsonToAvro(dst []byte, sch, v any, path string) ([]byte, error) {
	switch s := sch.(type) {
	case []any:
		for i, b := range s {
			if (b == "null") == (v == nil) {
				dst = binary.AppendVarint(dst, int64(i))
				if v == nil {
					return dst, nil
				}
				return jsonToAvro(dst, b, v, path)
			}
		}
		return dst, fmt.Errorf("%s: no union branch for %v", path, v)
	case map[string]any:
		switch s["type"] {
		case "record":
			m, ok := v.(map[string]any)
			if !ok {
				return dst, fmt.Errorf("%s: %T for a record", path, v)
			}
			var err error
			for _, f := range s["fields"].([]any) {
				fm := f.(map[string]any)
				name := fm["name"].(string)
				if dst, err = jsonToAvro(dst, fm["type"], m[name], path+"."+name); err != nil {
					return dst, err
				}
			}
			return dst, nil
		case "array":
			items, ok := v.([]any)
			if !ok {
				return dst, fmt.Errorf("%s: %T for an array", path, v)
			}
			if len(items) > 0 {
				dst = binary.AppendVarint(dst, int64(len(items)))
				var err error
				for i, it := range items {
					if dst, err = jsonToAvro(dst, s["items"], it, path+"["+strconv.Itoa(i)+"]"); err != nil {
						return dst, err
					}
				}
			}
			return append(dst, 0), nil
		default:
			return jsonToAvro(dst, s["type"], v, path)
		}
	case string:
		switch s {
		case "string":
			str, ok := v.(string)
			if !ok {
				return dst, fmt.Errorf("%s: %T for a string", path, v)
			}
			return appendAvroString(dst, str), nil
		case "int", "long":
			n, ok := v.(json.Number)
			if !ok {
				return dst, fmt.Errorf("%s: %T for a number", path, v)
			}
			i, err := strconv.ParseInt(strings.TrimSpace(n.String()), 10, 64)
			if err != nil {
				return dst, fmt.Errorf("%s: %w", path, err)
			}
			return binary.AppendVarint(dst, i), nil
		case "boolean":
			b, ok := v.(bool)
			if !ok {
				return dst, fmt.Errorf("%s: %T for a boolean", path, v)
			}
			return append(dst, b2u8(b)), nil
		}
	}
	return dst, fmt.Errorf("%s: unsupported schema %v", path, sch)
}
