package avro_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/schema"
	"github.com/rivulet-cdc/rivulet/sink"
	"github.com/rivulet-cdc/rivulet/sink/avro"
	"github.com/rivulet-cdc/rivulet/sink/debeziumjson"
	"github.com/rivulet-cdc/rivulet/sink/internal/fixture"
	"github.com/rivulet-cdc/rivulet/sink/internal/sinktest"
)

// The tables and rows the sink's tests share (sink/internal/fixture).
var (
	typesTable   = fixture.TypesTable
	typesRow     = fixture.TypesRow
	twoKeys      = fixture.TwoKeys
	customers    = fixture.Customers
	str          = fixture.Str
	benchEvents  = fixture.BenchEvents
	streamSource = fixture.StreamSource
)

// memRegistrar is an in-memory SchemaRegistrar: one id per distinct schema,
// versions per subject.
type memRegistrar struct {
	mu       sync.Mutex
	ids      map[string]int
	schemas  map[int]string
	subjects map[string][]string
	calls    int
}

func newMemRegistrar() *memRegistrar {
	return &memRegistrar{ids: map[string]int{}, schemas: map[int]string{}, subjects: map[string][]string{}}
}

func (m *memRegistrar) Register(_ context.Context, subject, schema string) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	id, ok := m.ids[schema]
	if !ok {
		id = len(m.ids) + 1
		m.ids[schema] = id
		m.schemas[id] = schema
	}
	vs := m.subjects[subject]
	if len(vs) == 0 || vs[len(vs)-1] != schema {
		m.subjects[subject] = append(vs, schema)
	}
	return id, nil
}

func (m *memRegistrar) schema(id int) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.schemas[id]
}

// avroCmp compares a goavro-decoded datum with the JSON payload of the same
// event, walking the Avro schema. Intended differences between the two
// encodings, all resolved here:
//   - bytes are raw in Avro and base64 text in JSON;
//   - Decimal (logicalType decimal) decodes to a big.Rat; JSON has the
//     base64 of the unscaled two's-complement integer;
//   - float is a float32 in Avro; JSON has Java's Float.toString of it;
//   - Connect Date/Time/Timestamp (logicalType date, time-millis,
//     timestamp-millis) decode to time values; JSON has the integers;
//   - optional values are unions (decoded as {"branch": value}).
type avroCmp struct {
	named map[string]any
}

// collect registers every named record of a schema, so that references
// can be resolved before the definition is walked with a value.
func (c *avroCmp) collect(sch any) {
	switch s := sch.(type) {
	case []any:
		for _, b := range s {
			c.collect(b)
		}
	case map[string]any:
		if s["type"] == "array" {
			c.collect(s["items"])
			return
		}
		if s["type"] != "record" {
			return
		}
		full := s["name"].(string)
		if ns, ok := s["namespace"].(string); ok && ns != "" {
			full = ns + "." + full
		}
		c.named[full] = s
		for _, f := range s["fields"].([]any) {
			c.collect(f.(map[string]any)["type"])
		}
	}
}

func (c *avroCmp) compare(path string, sch, nat, want any) error {
	switch s := sch.(type) {
	case string:
		if def, ok := c.named[s]; ok {
			return c.compare(path, def, nat, want)
		}
		return c.prim(path, s, nil, nat, want)
	case []any:
		if nat == nil {
			if want != nil {
				return fmt.Errorf("%s: avro null, json %v", path, want)
			}
			return nil
		}
		m, ok := nat.(map[string]any)
		if !ok || len(m) != 1 {
			return fmt.Errorf("%s: union value %T", path, nat)
		}
		var branch any
		for _, b := range s {
			if b != "null" {
				branch = b
			}
		}
		for _, v := range m {
			return c.compare(path, branch, v, want)
		}
	case map[string]any:
		typ, _ := s["type"].(string)
		if typ == "array" {
			got, ok1 := nat.([]any)
			w, ok2 := want.([]any)
			if !ok1 || !ok2 || len(got) != len(w) {
				return fmt.Errorf("%s: avro %v, json %v", path, nat, want)
			}
			for i := range got {
				if err := c.compare(fmt.Sprintf("%s[%d]", path, i), s["items"], got[i], w[i]); err != nil {
					return err
				}
			}
			return nil
		}
		if typ != "record" {
			return c.prim(path, typ, s, nat, want)
		}
		full := s["name"].(string)
		if ns, ok := s["namespace"].(string); ok && ns != "" {
			full = ns + "." + full
		}
		c.named[full] = s
		got, ok := nat.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: record value %T", path, nat)
		}
		w, ok := want.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: json %T for a record", path, want)
		}
		fields := s["fields"].([]any)
		if len(fields) != len(w) {
			return fmt.Errorf("%s: %d Avro fields, %d JSON fields", path, len(fields), len(w))
		}
		for _, f := range fields {
			fm := f.(map[string]any)
			name := fm["name"].(string)
			wv, ok := w[name]
			if !ok {
				return fmt.Errorf("%s.%s: not in JSON", path, name)
			}
			if err := c.compare(path+"."+name, fm["type"], got[name], wv); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("%s: schema %T", path, sch)
}

func (c *avroCmp) prim(path, typ string, props map[string]any, nat, want any) error {
	logical, _ := props["logicalType"].(string)
	num := func() (json.Number, error) {
		n, ok := want.(json.Number)
		if !ok {
			return "", fmt.Errorf("%s: json %v (%T) for %s", path, want, want, typ)
		}
		return n, nil
	}
	var got string
	switch typ {
	case "boolean", "string":
		if nat != want {
			return fmt.Errorf("%s: avro %v, json %v", path, nat, want)
		}
		return nil
	case "int", "long":
		switch v := nat.(type) {
		case int32:
			got = strconv.FormatInt(int64(v), 10)
		case int64:
			got = strconv.FormatInt(v, 10)
		case time.Time:
			switch logical {
			case "date":
				got = strconv.FormatInt(v.Unix()/86400, 10)
			default:
				got = strconv.FormatInt(v.UnixMilli(), 10)
			}
		case time.Duration:
			got = strconv.FormatInt(v.Milliseconds(), 10)
		default:
			return fmt.Errorf("%s: avro %T for %s", path, nat, typ)
		}
		n, err := num()
		if err != nil {
			return err
		}
		if got != n.String() {
			return fmt.Errorf("%s: avro %s, json %s", path, got, n)
		}
		return nil
	case "float", "double":
		n, err := num()
		if err != nil {
			return err
		}
		f, err := strconv.ParseFloat(n.String(), 64)
		if err != nil {
			return fmt.Errorf("%s: %v", path, err)
		}
		if v, ok := nat.(float32); ok && v == float32(f) {
			return nil
		}
		if v, ok := nat.(float64); ok && v == f {
			return nil
		}
		return fmt.Errorf("%s: avro %v, json %v", path, nat, f)
	case "bytes":
		ws, ok := want.(string)
		if !ok {
			return fmt.Errorf("%s: json %T for bytes", path, want)
		}
		raw, err := base64.StdEncoding.DecodeString(ws)
		if err != nil {
			return fmt.Errorf("%s: %v", path, err)
		}
		if logical == "decimal" {
			r, ok := nat.(*big.Rat)
			if !ok {
				return fmt.Errorf("%s: decimal decoded as %T", path, nat)
			}
			scale := int64(props["scale"].(float64))
			unscaled := new(big.Int).SetBytes(raw)
			if len(raw) > 0 && raw[0]&0x80 != 0 {
				unscaled.Sub(unscaled, new(big.Int).Lsh(big.NewInt(1), uint(8*len(raw))))
			}
			wantRat := new(big.Rat).SetFrac(unscaled, new(big.Int).Exp(big.NewInt(10), big.NewInt(scale), nil))
			if r.Cmp(wantRat) != 0 {
				return fmt.Errorf("%s: avro %s, json %s", path, r.FloatString(int(scale)), wantRat.FloatString(int(scale)))
			}
			return nil
		}
		if b, ok := nat.([]byte); !ok || !bytes.Equal(b, raw) {
			return fmt.Errorf("%s: avro % x, json % x", path, nat, raw)
		}
		return nil
	}
	return fmt.Errorf("%s: unexpected Avro type %q", path, typ)
}

// compareWithGolden decodes an Avro record and compares it with one line of
// a JSON golden file (its payload when it has schemas).
func compareWithGolden(t *testing.T, reg *memRegistrar, name string, rec, golden []byte) {
	t.Helper()
	if string(golden) == "null" {
		if rec != nil {
			t.Errorf("%s: Avro record, JSON null", name)
		}
		return
	}
	if rec == nil {
		t.Errorf("%s: Avro null, JSON %s", name, golden)
		return
	}
	dec := json.NewDecoder(bytes.NewReader(golden))
	dec.UseNumber()
	var want any
	if err := dec.Decode(&want); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if m, ok := want.(map[string]any); ok {
		if p, ok := m["payload"]; ok && len(m) == 2 {
			want = p
		}
	}
	schemaText, native := sinktest.DecodeWire(t, reg.schema, rec)
	var sch any
	if err := json.Unmarshal([]byte(schemaText), &sch); err != nil {
		t.Fatal(err)
	}
	c := &avroCmp{named: map[string]any{}}
	c.collect(sch)
	if err := c.compare(name, sch, native, want); err != nil {
		t.Error(err)
	}
}

// TestAvro_MatchesJSONGolden encodes every JSON golden case in Avro, decodes
// the records with goavro and compares them field by field with the JSON
// golden values (testdata/golden), so that both encoders agree on every
// type mapping, record and header.
func TestAvro_MatchesJSONGolden(t *testing.T) {
	txCases := map[string]bool{}
	for _, tc := range sinktest.TxGoldenCases() {
		txCases[tc.Name] = true
	}
	cases := append(append(sinktest.GoldenCases(), sinktest.ModeCases()...), sinktest.TxGoldenCases()...)
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			cfg := sink.DefaultJSONConfig("dbserver1")
			cfg.Version = "3.2.0.Final"
			cfg.Now = func() time.Time { return time.Unix(1718000003, 123456789) }
			if tc.Cfg != nil {
				tc.Cfg(&cfg)
			}
			reg := newMemRegistrar()
			enc, err := avro.New(cfg, avro.Config{Registry: reg})
			if err != nil {
				t.Fatal(err)
			}
			var recs []sink.Record
			if txCases[tc.Name] {
				recs = avroTxRecords(t, enc, tc.Events)
			} else {
				var buf []byte
				for i := range tc.Events {
					if recs, buf, err = enc.AppendRecords(context.Background(), recs, buf, &tc.Events[i]); err != nil {
						t.Fatal(err)
					}
				}
			}
			read := func(ext string) [][]byte {
				b, err := os.ReadFile(filepath.Join("..", "testdata", "golden", tc.Name+"."+ext+".json"))
				if err != nil {
					if ext == "headers" {
						return nil
					}
					t.Fatal(err)
				}
				return bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))
			}
			keys, values, headers := read("key"), read("value"), read("headers")
			if len(keys) != len(recs) || len(values) != len(recs) {
				t.Fatalf("%d records, golden has %d keys and %d values", len(recs), len(keys), len(values))
			}
			for i, r := range recs {
				if !strings.HasPrefix(r.Topic, "dbserver1.") {
					t.Errorf("record %d: topic %s", i, r.Topic)
				}
				compareWithGolden(t, reg, fmt.Sprintf("record %d key", i), r.Key, keys[i])
				compareWithGolden(t, reg, fmt.Sprintf("record %d value", i), r.Value, values[i])
				if headers != nil {
					h := map[string]string{}
					for _, x := range r.Headers {
						h[x.Key] = string(x.Value)
					}
					got, _ := json.Marshal(h)
					if !bytes.Equal(got, headers[i]) {
						t.Errorf("record %d headers %s, golden %s", i, got, headers[i])
					}
				}
			}
			// Subjects follow TopicNameStrategy.
			for s := range reg.subjects {
				if !strings.HasPrefix(s, "dbserver1.") || (!strings.HasSuffix(s, "-key") && !strings.HasSuffix(s, "-value")) {
					t.Errorf("subject %q", s)
				}
			}
		})
	}
}

// TestAvro_NoPerRowRegistration: a table version registers its two schemas
// once, whatever the number of events.
func TestAvro_NoPerRowRegistration(t *testing.T) {
	reg := newMemRegistrar()
	enc, err := avro.New(sink.DefaultJSONConfig("dbserver1"), avro.Config{Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	types := typesTable()
	var recs []sink.Record
	var buf []byte
	for i := range 100 {
		ev := event.ChangeEvent{Op: event.OpCreate, Table: types, After: typesRow(int64(i), "x"), Source: streamSource}
		if recs, buf, err = enc.AppendRecords(context.Background(), recs[:0], buf[:0], &ev); err != nil {
			t.Fatal(err)
		}
	}
	if reg.calls != 2 {
		t.Errorf("%d registrations, want 2", reg.calls)
	}
}

// avroTxRecords is txRecords with the Avro encoder: BEGIN, the events, END.
func avroTxRecords(t *testing.T, enc *avro.Encoder, evs []event.ChangeEvent) []sink.Record {
	t.Helper()
	ctx := context.Background()
	topic := sink.TransactionTopic("dbserver1", "")
	id := evs[0].Tx.ID
	recs, buf, err := enc.AppendTransaction(ctx, nil, nil, topic, &event.Transaction{Status: event.TxBegin, ID: id, TsMs: 1718000000000})
	if err != nil {
		t.Fatal(err)
	}
	end := event.Transaction{Status: event.TxEnd, ID: id, TsMs: 1718000000999}
	for i := range evs {
		ev := &evs[i]
		if recs, buf, err = enc.AppendRecords(ctx, recs, buf, ev); err != nil {
			t.Fatal(err)
		}
		n := int64(enc.DataRecords(ev)) // as the Kafka sink counts them
		end.EventCount += n
		name := ev.Table.DB + "." + ev.Table.Name
		found := false
		for j := range end.DataCollections {
			if end.DataCollections[j].DataCollection == name {
				end.DataCollections[j].EventCount += n
				found = true
			}
		}
		if !found {
			end.DataCollections = append(end.DataCollections, event.TxCollection{DataCollection: name, EventCount: n})
		}
	}
	if recs, _, err = enc.AppendTransaction(ctx, recs, buf, topic, &end); err != nil {
		t.Fatal(err)
	}
	return recs
}

// TestAvro_SchemaChangeRecord: a schema-change event in Avro decodes (goavro)
// to the JSON encoder's payload, with and without table changes.
func TestAvro_SchemaChangeRecord(t *testing.T) {
	cfg := sink.DefaultJSONConfig("dbserver1")
	cfg.Version = "3.2.0.Final"
	cfg.Now = func() time.Time { return time.Unix(1718000003, 123456789) }
	jcfg := cfg
	jcfg.KeySchemas, jcfg.ValueSchemas = false, false
	jenc, err := debeziumjson.NewJSON(jcfg)
	if err != nil {
		t.Fatal(err)
	}
	reg := newMemRegistrar()
	enc, err := avro.New(cfg, avro.Config{Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	orders := twoKeys()
	def := &schema.TableDef{Table: orders, Charset: "utf8mb4", Comment: "the orders",
		Columns: []schema.ColumnDef{{TypeExpression: "varchar(8)"}, {TypeExpression: "decimal(18,8)", HasDefault: true, Default: "0"}, {AutoIncrement: true}},
		Indexes: []schema.Index{{Name: "PRIMARY", Primary: true, Columns: []string{"order_id", "region"}}}}
	src := streamSource
	src.GTID = "0-1-5"
	for _, c := range []*schema.Change{
		{DB: "shop", DDL: "CREATE DATABASE shop"},
		{DB: "shop", DDL: "CREATE TABLE orders (...)", Tables: []schema.TableChange{{Type: schema.ChangeCreate, ID: schema.TableID{DB: "shop", Name: "orders"}, Def: def}}},
	} {
		want, err := jenc.SchemaChangeRecord(c, src)
		if err != nil {
			t.Fatal(err)
		}
		got, err := enc.SchemaChangeRecord(context.Background(), c, src)
		if err != nil {
			t.Fatal(err)
		}
		if got.Topic != "dbserver1" {
			t.Errorf("topic %s", got.Topic)
		}
		compareWithGolden(t, reg, c.DDL+" key", got.Key, want.Key)
		compareWithGolden(t, reg, c.DDL+" value", got.Value, want.Value)
	}
}

// TestAvroHeartbeat: heartbeat records decode to {serverName} and {ts_ms}.
func TestAvroHeartbeat(t *testing.T) {
	reg := newMemRegistrar()
	key, value, err := avro.Heartbeat(context.Background(), reg, "__debezium-heartbeat.dbserver1", "dbserver1", 1718000003123)
	if err != nil {
		t.Fatal(err)
	}
	compareWithGolden(t, reg, "key", key, []byte(`{"serverName":"dbserver1"}`))
	compareWithGolden(t, reg, "value", value, []byte(`{"ts_ms":1718000003123}`))
	if _, ok := reg.subjects["__debezium-heartbeat.dbserver1-value"]; !ok {
		t.Errorf("subjects %v", reg.subjects)
	}
}

// TestAvro_SchemaNameAdjustment: a topic prefix that is not a valid Avro
// name fails with the fix under the default mode (as Confluent's converter
// refuses it); with schema.name.adjustment.mode=avro the record names are
// adjusted while topics and subjects keep the prefix.
func TestAvro_SchemaNameAdjustment(t *testing.T) {
	ev := event.ChangeEvent{Op: event.OpCreate, Table: customersV(), After: []event.Value{event.Int(1), str("a")}, Source: streamSource}
	reg := newMemRegistrar()
	enc, err := avro.New(sink.DefaultJSONConfig("my-server"), avro.Config{Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = enc.AppendRecords(context.Background(), nil, nil, &ev)
	if !errors.Is(err, sink.ErrEncode) || !strings.Contains(err.Error(), "schema.name.adjustment.mode=avro") {
		t.Fatalf("err = %v, want an encode error naming schema.name.adjustment.mode=avro", err)
	}
	enc, err = avro.New(sink.DefaultJSONConfig("my-server"), avro.Config{Registry: reg, SchemaNames: avro.NameAdjustAvro})
	if err != nil {
		t.Fatal(err)
	}
	recs, _, err := enc.AppendRecords(context.Background(), nil, nil, &ev)
	if err != nil {
		t.Fatal(err)
	}
	if recs[0].Topic != "my-server.inventory.customers" {
		t.Errorf("topic %s", recs[0].Topic)
	}
	if _, ok := reg.subjects["my-server.inventory.customers-value"]; !ok {
		t.Errorf("subjects %v", reg.subjects)
	}
	key, value, err := enc.Schemas(ev.Table)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"name":"Key","namespace":"my_server.inventory.customers"`, `"connect.name":"my_server.inventory.customers.Key"`} {
		if !strings.Contains(key, want) {
			t.Errorf("key schema lacks %s: %s", want, key)
		}
	}
	for _, want := range []string{`"name":"Envelope","namespace":"my_server.inventory.customers"`, `"connect.name":"my_server.inventory.customers.Value"`} {
		if !strings.Contains(value, want) {
			t.Errorf("value schema lacks %s: %s", want, value)
		}
	}
}
