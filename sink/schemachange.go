package sink

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/schema"
)

// Schema-change events (include.schema.changes=true) go to the topic named
// topic.prefix, keyed by database (DEBEZIUM-REFERENCE.md §2.1, §4.1):
// key io.debezium.connector.<mysql|mariadb>.SchemaChangeKey {databaseName},
// value io.debezium.connector.<mysql|mariadb>.SchemaChangeValue {source,
// ts_ms, databaseName, schemaName, ddl, tableChanges}.

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

// scColumn, scTable and scChange are the payload of tableChanges (field
// order as in the schemas above).
type scColumn struct {
	Name                   string   `json:"name"`
	JdbcType               int      `json:"jdbcType"`
	NativeType             *int     `json:"nativeType"`
	TypeName               string   `json:"typeName"`
	TypeExpression         string   `json:"typeExpression"`
	CharsetName            *string  `json:"charsetName"`
	Length                 *int     `json:"length"`
	Scale                  *int     `json:"scale"`
	Position               int      `json:"position"`
	Optional               bool     `json:"optional"`
	AutoIncremented        bool     `json:"autoIncremented"`
	Generated              bool     `json:"generated"`
	Comment                *string  `json:"comment"`
	DefaultValueExpression *string  `json:"defaultValueExpression"`
	EnumValues             []string `json:"enumValues"`
}

type scTable struct {
	DefaultCharsetName    *string    `json:"defaultCharsetName"`
	PrimaryKeyColumnNames []string   `json:"primaryKeyColumnNames"`
	Columns               []scColumn `json:"columns"`
	Comment               *string    `json:"comment"`
}

type scChange struct {
	Type  string   `json:"type"`
	ID    string   `json:"id"`
	Table *scTable `json:"table"`
}

// tableChangesJSON renders c's table changes by way of the history record
// encoding (one source of truth for the Debezium column fields).
func tableChangesJSON(c *schema.Change) ([]byte, error) {
	rec, err := schema.MarshalRecord(schema.HistoryRecord{Change: c})
	if err != nil {
		return nil, err
	}
	var doc struct {
		TableChanges []struct {
			Type  string `json:"type"`
			ID    string `json:"id"`
			Table *struct {
				DefaultCharsetName    string     `json:"defaultCharsetName"`
				PrimaryKeyColumnNames []string   `json:"primaryKeyColumnNames"`
				Columns               []scColumn `json:"columns"`
				Comment               *string    `json:"comment"`
			} `json:"table"`
		} `json:"tableChanges"`
	}
	if err := json.Unmarshal(rec, &doc); err != nil {
		return nil, err
	}
	out := make([]scChange, 0, len(doc.TableChanges))
	for _, tc := range doc.TableChanges {
		ch := scChange{Type: tc.Type, ID: tc.ID}
		if tc.Table != nil {
			cs := tc.Table.DefaultCharsetName
			ch.Table = &scTable{DefaultCharsetName: &cs, PrimaryKeyColumnNames: tc.Table.PrimaryKeyColumnNames,
				Columns: tc.Table.Columns, Comment: tc.Table.Comment}
		}
		out = append(out, ch)
	}
	return json.Marshal(out)
}

// SchemaChangeRecord encodes one schema-change event. src is the position
// of the DDL (file, pos, server id, time; db is c.DB and table is null).
func (j *JSON) SchemaChangeRecord(c *schema.Change, src event.Source) (Record, error) {
	changes, err := tableChangesJSON(c)
	if err != nil {
		return Record{}, fmt.Errorf("encode schema change %.80q: %w", c.DDL, err)
	}
	connector := j.cfg.Connector.String()
	var key []byte
	if j.cfg.KeySchemas {
		key = append(key, `{"schema":{"type":"struct","fields":[{"type":"string","optional":false,"field":"databaseName"}],"optional":false,"name":"io.debezium.connector.`+connector+`.SchemaChangeKey","version":1},"payload":`...)
	}
	key = append(key, `{"databaseName":`...)
	key = appendJSONStr(key, c.DB)
	key = append(key, '}')
	if j.cfg.KeySchemas {
		key = append(key, '}')
	}

	var v []byte
	if j.cfg.ValueSchemas {
		v = append(v, `{"schema":{"type":"struct","fields":[`...)
		v = append(v, sourceFields...)
		v = appendJSONStr(v, "io.debezium.connector."+connector+".Source")
		v = append(v, `,"version":1,"field":"source"},`...)
		v = append(v, `{"type":"int64","optional":false,"field":"ts_ms"},`+
			`{"type":"string","optional":true,"field":"databaseName"},`+
			`{"type":"string","optional":true,"field":"schemaName"},`+
			`{"type":"string","optional":true,"field":"ddl"},`...)
		v = append(v, schemaChangeTableChangesSchema...)
		v = append(v, `],"optional":false,"name":"io.debezium.connector.`+connector+`.SchemaChangeValue","version":1},"payload":`...)
	}
	ms := src.TsUs / 1000
	v = append(v, `{"source":`...)
	v = append(v, j.sourcePre...)
	v = strconv.AppendInt(v, ms, 10)
	v = append(v, `,"snapshot":`...)
	if src.Snapshot == "" {
		v = append(v, `"false"`...)
	} else {
		v = appendJSONStr(v, src.Snapshot)
	}
	v = append(v, `,"db":`...)
	v = appendJSONStr(v, c.DB)
	v = append(v, `,"sequence":null,"ts_us":`...)
	v = strconv.AppendInt(v, src.TsUs, 10)
	v = append(v, `,"ts_ns":`...)
	v = strconv.AppendInt(v, src.TsUs*1000, 10)
	v = append(v, `,"table":null,"server_id":`...)
	v = strconv.AppendUint(v, uint64(src.ServerID), 10)
	v = append(v, `,"gtid":`...)
	if src.GTID == "" {
		v = append(v, "null"...)
	} else {
		v = appendJSONStr(v, src.GTID)
	}
	v = append(v, `,"file":`...)
	v = appendJSONStr(v, src.File)
	v = append(v, `,"pos":`...)
	v = strconv.AppendUint(v, src.Pos, 10)
	v = append(v, `,"row":0,"thread":null,"query":null},"ts_ms":`...)
	v = strconv.AppendInt(v, j.now().UnixMilli(), 10)
	v = append(v, `,"databaseName":`...)
	v = appendJSONStr(v, c.DB)
	v = append(v, `,"schemaName":null,"ddl":`...)
	v = appendJSONStr(v, c.DDL)
	v = append(v, `,"tableChanges":`...)
	v = append(v, changes...)
	v = append(v, '}')
	if j.cfg.ValueSchemas {
		v = append(v, '}')
	}
	return Record{Topic: j.cfg.TopicPrefix, Key: key, Value: v}, nil
}

// SendSchemaChanges encodes schema-change events and produces them to the
// topic topic.prefix (created like the data topics), in order. done is
// called once, after every record was acknowledged or once one failed.
func (k *Kafka) SendSchemaChanges(ctx context.Context, changes []*schema.Change, src event.Source, done func(error)) error {
	if err := k.state(); err != nil {
		done(err)
		return err
	}
	recs := make([]Record, 0, len(changes))
	for _, c := range changes {
		r, err := k.format.SchemaChangeRecord(ctx, c, src)
		if err != nil {
			done(err)
			return err
		}
		recs = append(recs, r)
	}
	if len(recs) == 0 {
		done(nil)
		return nil
	}
	if err := k.ensureTopics(ctx, recs); err != nil {
		done(err)
		return err
	}
	krecs := make([]*kgo.Record, len(recs))
	for i, r := range recs {
		// Debezium's context headers are on schema-change records too
		// (seen by the differential suite).
		krecs[i] = &kgo.Record{Topic: r.Topic, Key: r.Key, Value: r.Value, Context: context.Background(), Headers: k.ctxHdr}
	}
	// DDL is rare: produced outside the event buffer limits; the last
	// acknowledgement reports.
	var left atomic.Int64
	var first atomic.Pointer[error]
	left.Store(int64(len(krecs)))
	topic := recs[0].Topic // topic.prefix
	promise := func(_ *kgo.Record, err error) {
		if err != nil {
			err = fmt.Errorf("send schema change to %s: %w", topic, err)
			first.CompareAndSwap(nil, &err)
		}
		if left.Add(-1) == 0 {
			if e := first.Load(); e != nil {
				done(*e)
			} else {
				done(nil)
			}
		}
	}
	for _, kr := range krecs {
		k.cl.Produce(context.Background(), kr, promise)
	}
	return nil
}
