package sink

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode/utf16"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/schema"
)

// Schema-change events (include.schema.changes=true) go to the topic named
// topic.prefix, keyed by database (DEBEZIUM-REFERENCE.md §2.1, §4.1):
// key io.debezium.connector.<mysql|mariadb>.SchemaChangeKey {databaseName},
// value io.debezium.connector.<mysql|mariadb>.SchemaChangeValue {source,
// ts_ms, databaseName, schemaName, ddl, tableChanges}.

// scColumn, scTable and scChange are the payload of tableChanges (field
// order as in the schemas of sink/debeziumjson's json_schemachange.go and
// sink/avro).
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
// encoding (one source of truth for the Debezium column fields), with the
// table definitions as Debezium's schema change topic shows them.
func tableChangesJSON(c *schema.Change) ([]byte, error) {
	rec, err := schema.MarshalTopicRecord(schema.HistoryRecord{Change: c})
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

// SchemaChangePayloads returns the schema-change events of one statement
// as Debezium writes them (splitChange), one record each: Topic is
// topic.prefix, Key and Value are the Connect payloads (SchemaChangeKey,
// SchemaChangeValue) as JsonConverter renders them without schemas. src is
// the statement's source block (file, start position, GTID, row, server id,
// time; db is c.DB), and source.table names the statement's tables
// (sourceTables). Every format renders its schema-change records from
// these: Debezium JSON wraps them in its schema envelopes, sink/avro
// converts them. DDL is rare: this allocates.
func (p *Planner) SchemaChangePayloads(c *schema.Change, src event.Source) ([]Record, error) {
	table := sourceTables(c)
	parts := splitChange(c)
	recs := make([]Record, 0, len(parts))
	for _, part := range parts {
		r, err := p.schemaChangePayload(part, src, table)
		if err != nil {
			return nil, err
		}
		recs = append(recs, r)
	}
	return recs, nil
}

// SchemaChangePayload is SchemaChangePayloads for c as one schema-change
// event (not split).
func (p *Planner) SchemaChangePayload(c *schema.Change, src event.Source) (Record, error) {
	return p.schemaChangePayload(c, src, sourceTables(c))
}

func (p *Planner) schemaChangePayload(c *schema.Change, src event.Source, table string) (Record, error) {
	changes, err := tableChangesJSON(c)
	if err != nil {
		return Record{}, fmt.Errorf("encode schema change %.80q: %w", c.DDL, err)
	}
	var key []byte
	key = append(key, `{"databaseName":`...)
	key = appendJSONStr(key, c.DB)
	key = append(key, '}')

	var v []byte
	ms := src.TsUs / 1000
	v = append(v, `{"source":`...)
	v = append(v, p.sourcePre...)
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
	v = append(v, `,"table":`...)
	if table == "" {
		v = append(v, "null"...)
	} else {
		v = appendJSONStr(v, table)
	}
	v = append(v, `,"server_id":`...)
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
	v = append(v, `,"row":`...)
	v = strconv.AppendInt(v, int64(src.Row), 10)
	v = append(v, `,"thread":null,"query":null},"ts_ms":`...)
	v = strconv.AppendInt(v, p.now().UnixMilli(), 10)
	v = append(v, `,"databaseName":`...)
	v = appendJSONStr(v, c.DB)
	v = append(v, `,"schemaName":null,"ddl":`...)
	v = appendJSONStr(v, c.DDL)
	v = append(v, `,"tableChanges":`...)
	v = append(v, changes...)
	v = append(v, '}')
	return Record{Topic: p.cfg.TopicPrefix, Key: key, Value: v}, nil
}

// SendSchemaChanges encodes schema-change events and produces them to the
// topic topic.prefix (created like the data topics), in order. done is
// called once, after every record was acknowledged or once one failed.
func (k *Kafka) SendSchemaChanges(ctx context.Context, changes []*schema.Change, srcs []event.Source, done func(error)) error {
	if err := k.state(); err != nil {
		done(err)
		return err
	}
	if len(srcs) != len(changes) {
		err := fmt.Errorf("send schema changes: %d changes, %d source blocks", len(changes), len(srcs))
		done(err)
		return err
	}
	recs := make([]Record, 0, len(changes))
	for i, c := range changes {
		rs, err := k.format.SchemaChangeRecords(ctx, c, srcs[i])
		if err != nil {
			done(err)
			return err
		}
		recs = append(recs, rs...)
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

// splitChange returns the schema-change events Debezium writes for c
// (BinlogDatabaseSchema.parseDdl emits one per event its DDL parser
// signals, seen by the differential suite): a RENAME TABLE of several
// tables is one event per pair, "RENAME TABLE <pair as written>", with the
// new name's definition as it stands after the whole statement (none when
// a later pair renamed it away); a DROP TABLE is one event per table,
// rewritten as "DROP TABLE [IF EXISTS] `db`.`table`", its table change
// without a definition. Other statements are one event, c itself.
func splitChange(c *schema.Change) []*schema.Change {
	verb, rest := firstWords(c.DDL)
	switch {
	case verb == "RENAME TABLE" && len(c.Tables) > 1:
		pairs := splitTopLevel(rest)
		if len(pairs) != len(c.Tables) {
			return []*schema.Change{c}
		}
		out := make([]*schema.Change, len(pairs))
		for i, tc := range c.Tables {
			p := &schema.Change{DB: c.DB, DDL: "RENAME TABLE " + pairs[i]}
			if def, ok := finalDef(c.Tables, i); ok {
				p.Tables = []schema.TableChange{{Type: tc.Type, ID: tc.ID, PreviousID: tc.PreviousID, Def: def}}
			}
			out[i] = p
		}
		return out
	case verb == "DROP TABLE" && len(c.Tables) > 0:
		prefix := "DROP TABLE "
		if w := strings.Fields(rest); len(w) >= 2 && strings.EqualFold(w[0], "IF") && strings.EqualFold(w[1], "EXISTS") {
			prefix += "IF EXISTS "
		}
		out := make([]*schema.Change, 0, len(c.Tables))
		for _, tc := range c.Tables {
			out = append(out, &schema.Change{DB: c.DB, DDL: prefix + quoteName(tc.ID.DB) + "." + quoteName(tc.ID.Name),
				Tables: []schema.TableChange{{Type: tc.Type, ID: tc.ID}}})
		}
		return out
	}
	return []*schema.Change{c}
}

// finalDef is the definition table change i's table has once the whole
// statement ran: its own, unless a later change renamed it away (false)
// or redefined it.
func finalDef(tcs []schema.TableChange, i int) (*schema.TableDef, bool) {
	id, def := tcs[i].ID, tcs[i].Def
	for _, later := range tcs[i+1:] {
		switch {
		case sameTable(later.PreviousID, id):
			return nil, false
		case sameTable(later.ID, id):
			def = later.Def
		}
	}
	return def, def != nil
}

func sameTable(a, b schema.TableID) bool {
	return strings.EqualFold(a.DB, b.DB) && a.Name == b.Name
}

// firstWords returns the statement's first two keywords, upper case and
// joined by a space ("DROP TABLE"; "DROP TEMPORARY" is not split), and the
// text after them.
func firstWords(ddl string) (string, string) {
	rest := strings.TrimLeft(ddl, " \t\r\n")
	var words []string
	for len(words) < 2 {
		i := strings.IndexAny(rest, " \t\r\n")
		if i < 0 {
			words = append(words, strings.ToUpper(rest))
			rest = ""
			break
		}
		words = append(words, strings.ToUpper(rest[:i]))
		rest = strings.TrimLeft(rest[i:], " \t\r\n")
	}
	if len(words) == 2 && words[1] == "TABLES" {
		words[1] = "TABLE"
	}
	return strings.Join(words, " "), rest
}

// splitTopLevel splits s at the commas outside quotes and back-quotes,
// trimming each part.
func splitTopLevel(s string) []string {
	var parts []string
	var quote byte
	start := 0
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; {
		case quote != 0:
			if ch == quote {
				quote = 0
			}
		case ch == '`' || ch == '\'' || ch == '"':
			quote = ch
		case ch == ',':
			parts = append(parts, strings.TrimSpace(s[start:i]))
			start = i + 1
		}
	}
	return append(parts, strings.TrimSpace(s[start:]))
}

// quoteName back-quotes an identifier as Debezium's DDL rewrite does.
func quoteName(s string) string {
	return "`" + strings.ReplaceAll(s, "`", "``") + "`"
}

// sourceTables is source.table of c's schema-change events: the names of
// the tables the statement changed in its database, in the iteration order
// of the java.util.HashSet Debezium collects them in
// (BinlogSourceInfo.tableEvent), comma-separated; "" (null) for none.
func sourceTables(c *schema.Change) string {
	var ids []schema.TableID
	for _, tc := range c.Tables {
		if !strings.EqualFold(tc.ID.DB, c.DB) || slices.Contains(ids, tc.ID) {
			continue
		}
		ids = append(ids, tc.ID)
	}
	if len(ids) == 0 {
		return ""
	}
	// HashSet(Collection): capacity the next power of two of
	// max(n/.75+1, 16); iteration by bucket (hash ^ hash>>>16 masked),
	// insertion order within a bucket. TableId.hashCode is that of its
	// "db.table" text.
	capacity := 16
	for float64(capacity)*0.75 < float64(len(ids)) {
		capacity *= 2
	}
	bucket := func(id schema.TableID) uint32 {
		h := javaHash(id.DB + "." + id.Name)
		return (h ^ h>>16) & uint32(capacity-1)
	}
	slices.SortStableFunc(ids, func(a, b schema.TableID) int { return cmp.Compare(bucket(a), bucket(b)) })
	names := make([]string, len(ids))
	for i, id := range ids {
		names[i] = id.Name
	}
	return strings.Join(names, ",")
}

// javaHash is java.lang.String.hashCode: over UTF-16 code units.
func javaHash(s string) uint32 {
	var h uint32
	for _, u := range utf16.Encode([]rune(s)) {
		h = 31*h + uint32(u)
	}
	return h
}
