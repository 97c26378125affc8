package debeziumjson

import (
	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/schema"
	"github.com/rivulet-cdc/rivulet/sink"
)

// Debezium JSON's schema-change records: the planner's payloads
// (schemachange.go) in JsonConverter's schema envelopes.

const schemaChangeColumnSchema = `{"type":"struct","fields":[` +
	`{"type":"string","optional":false,"field":"name"},` +
	`{"type":"int32","optional":false,"field":"jdbcType"},` +
	`{"type":"int32","optional":true,"field":"nativeType"},` +
	`{"type":"string","optional":false,"field":"typeName"},` +
	`{"type":"string","optional":true,"field":"typeExpression"},` +
	`{"type":"string","optional":true,"field":"charsetName"},` +
	`{"type":"int32","optional":true,"field":"length"},` +
	`{"type":"int32","optional":true,"field":"scale"},` +
	`{"type":"int32","optional":false,"field":"position"},` +
	`{"type":"boolean","optional":true,"field":"optional"},` +
	`{"type":"boolean","optional":true,"field":"autoIncremented"},` +
	`{"type":"boolean","optional":true,"field":"generated"},` +
	`{"type":"string","optional":true,"field":"comment"},` +
	`{"type":"string","optional":true,"field":"defaultValueExpression"},` +
	`{"type":"array","items":{"type":"string","optional":false},"optional":true,"field":"enumValues"}],` +
	`"optional":false,"name":"io.debezium.connector.schema.Column","version":1}`

const schemaChangeTableChangesSchema = `{"type":"array","items":{"type":"struct","fields":[` +
	`{"type":"string","optional":false,"field":"type"},` +
	`{"type":"string","optional":false,"field":"id"},` +
	`{"type":"struct","fields":[` +
	`{"type":"string","optional":true,"field":"defaultCharsetName"},` +
	`{"type":"array","items":{"type":"string","optional":false},"optional":true,"field":"primaryKeyColumnNames"},` +
	`{"type":"array","items":` + schemaChangeColumnSchema + `,"optional":false,"field":"columns"},` +
	`{"type":"string","optional":true,"field":"comment"}],` +
	`"optional":true,"name":"io.debezium.connector.schema.Table","version":1,"field":"table"}],` +
	`"optional":false,"name":"io.debezium.connector.schema.Change","version":1},"optional":false,"field":"tableChanges"}`

// SchemaChangeRecords encodes the schema-change events of one statement as
// Debezium writes them: the planner's payloads (Planner.SchemaChangePayloads)
// in the schema envelopes when KeySchemas or ValueSchemas is set.
func (j *JSON) SchemaChangeRecords(c *schema.Change, src event.Source) ([]sink.Record, error) {
	recs, err := j.p.SchemaChangePayloads(c, src)
	if err != nil {
		return nil, err
	}
	for i := range recs {
		recs[i] = j.schemaChangeEnvelope(recs[i])
	}
	return recs, nil
}

// SchemaChangeRecord encodes c as one schema-change event (not split; see
// SchemaChangeRecords).
func (j *JSON) SchemaChangeRecord(c *schema.Change, src event.Source) (sink.Record, error) {
	r, err := j.p.SchemaChangePayload(c, src)
	if err != nil {
		return sink.Record{}, err
	}
	return j.schemaChangeEnvelope(r), nil
}

// schemaChangeEnvelope puts the payloads of r in JsonConverter's schema
// envelopes, as KeySchemas and ValueSchemas say.
func (j *JSON) schemaChangeEnvelope(r sink.Record) sink.Record {
	connector := j.cfg.Connector.String()
	if j.cfg.KeySchemas {
		key := make([]byte, 0, 256+len(r.Key))
		key = append(key, `{"schema":{"type":"struct","fields":[{"type":"string","optional":false,"field":"databaseName"}],"optional":false,"name":"io.debezium.connector.`+connector+`.SchemaChangeKey","version":1},"payload":`...)
		key = append(key, r.Key...)
		r.Key = append(key, '}')
	}
	if j.cfg.ValueSchemas {
		var v []byte
		v = append(v, `{"schema":{"type":"struct","fields":[`...)
		v = append(v, sourceFields...)
		v = sink.AppendJSONString(v, "io.debezium.connector."+connector+".Source")
		v = append(v, `,"version":1,"field":"source"},`...)
		v = append(v, `{"type":"int64","optional":false,"field":"ts_ms"},`+
			`{"type":"string","optional":true,"field":"databaseName"},`+
			`{"type":"string","optional":true,"field":"schemaName"},`+
			`{"type":"string","optional":true,"field":"ddl"},`...)
		v = append(v, schemaChangeTableChangesSchema...)
		v = append(v, `],"optional":false,"name":"io.debezium.connector.`+connector+`.SchemaChangeValue","version":1},"payload":`...)
		v = append(v, r.Value...)
		r.Value = append(v, '}')
	}
	return r
}
