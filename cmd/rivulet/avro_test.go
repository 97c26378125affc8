package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/rivulet-cdc/rivulet/internal/srtest"
)

// avroRecord is a record decoded from Confluent's wire format.
type avroRecord struct {
	keyID, valueID int
	key, value     map[string]any // value nil for a tombstone
}

// consumeAvro reads topic from the start until want records arrived and
// decodes keys and values with the schemas their ids name in the registry.
func consumeAvro(t *testing.T, brokers []string, reg *srtest.Registry, want int, topic string) []avroRecord {
	t.Helper()
	return consumeAvroFunc(t, brokers, reg, topic, func(recs []avroRecord) bool { return len(recs) >= want })
}

// consumeAvroFunc reads and decodes topic from the start until done reports true.
func consumeAvroFunc(t *testing.T, brokers []string, reg *srtest.Registry, topic string, done func([]avroRecord) bool) []avroRecord {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.AllowAutoTopicCreation(),
		kgo.FetchMaxWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	src, err := sr.NewClient(sr.URLs(reg.URL()))
	if err != nil {
		t.Fatal(err)
	}
	codecs := map[int]*goavro.Codec{}
	decode := func(b []byte) (int, map[string]any) {
		if len(b) < 5 || b[0] != 0 {
			t.Fatalf("not Confluent wire format: % x", b)
		}
		id := int(binary.BigEndian.Uint32(b[1:5]))
		codec := codecs[id]
		if codec == nil {
			s, err := src.SchemaByID(t.Context(), id)
			if err != nil {
				t.Fatalf("schema id %d: %v", id, err)
			}
			if codec, err = goavro.NewCodec(s.Schema); err != nil {
				t.Fatalf("goavro refuses schema %d: %v\n%s", id, err, s.Schema)
			}
			codecs[id] = codec
		}
		native, rest, err := codec.NativeFromBinary(b[5:])
		if err != nil || len(rest) != 0 {
			t.Fatalf("decode with schema %d: %v (%d bytes left)", id, err, len(rest))
		}
		return id, native.(map[string]any)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	var out []avroRecord
	for !done(out) && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			var rec avroRecord
			rec.keyID, rec.key = decode(r.Key)
			if r.Value != nil {
				rec.valueID, rec.value = decode(r.Value)
			}
			out = append(out, rec)
		})
	}
	if !done(out) {
		t.Fatalf("consumed %d Avro records from %s, not what the test waits for", len(out), topic)
	}
	return out
}

// consumeAvroUntil reads topic until found reports true for a record.
func consumeAvroUntil(t *testing.T, brokers []string, reg *srtest.Registry, topic string, found func(avroRecord) bool) {
	t.Helper()
	seen, ok := 0, false
	consumeAvroFunc(t, brokers, reg, topic, func(recs []avroRecord) bool {
		for ; !ok && seen < len(recs); seen++ {
			ok = found(recs[seen])
		}
		return ok
	})
}

// union unwraps goavro's {"type": value} of an optional field.
func union(v any) any {
	if m, ok := v.(map[string]any); ok && len(m) == 1 {
		for _, x := range m {
			return x
		}
	}
	return v
}

// TestRun_Avro runs the binary with key.converter/value.converter =
// AvroConverter against MariaDB, Apache Kafka and a schema registry that is
// unavailable for its first requests: every change arrives in Confluent's
// wire format with Debezium's schema names, decodable with goavro; an ALTER
// TABLE ADD COLUMN registers a second value version that the registry's
// BACKWARD rule accepted; the schema change and heartbeat topics are Avro
// too.
func TestRun_Avro(t *testing.T) {
	e := newE2E(t)
	reg := srtest.New()
	t.Cleanup(reg.Close)
	reg.FailNext(3, http.StatusServiceUnavailable)
	e.srv.Exec(t, e.db, `CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(20) NOT NULL, price DECIMAL(10,2), small TINYINT)`)
	cfg := e.config(t, map[string]string{
		"key.converter":                       "io.confluent.connect.avro.AvroConverter",
		"value.converter":                     "io.confluent.connect.avro.AvroConverter",
		"key.converter.schema.registry.url":   reg.URL(),
		"value.converter.schema.registry.url": reg.URL(),
		"heartbeat.interval.ms":               "100",
	})
	in := e.start(t, cfg)
	e.srv.Exec(t, e.db,
		`INSERT INTO items VALUES (1, 'pen', 12.34, -3)`,
		`UPDATE items SET price = NULL WHERE id = 1`,
		`DELETE FROM items WHERE id = 1`,
		`ALTER TABLE items ADD COLUMN note VARCHAR(10) NULL`,
		`INSERT INTO items VALUES (2, 'ink', 0.50, 7, 'hi')`,
	)
	topic := e.prefix + "." + e.db + ".items"
	recs := consumeAvro(t, e.brokers, reg, 5, topic) // c, u, d, tombstone, c
	// include.schema.changes (default true): the ALTER on topic.prefix, keyed by database.
	var alter map[string]any
	consumeAvroUntil(t, e.brokers, reg, e.prefix, func(r avroRecord) bool {
		if strings.HasPrefix(fmt.Sprint(union(r.value["ddl"])), "ALTER TABLE items") {
			alter = r.value
			if r.key["databaseName"] != e.db {
				t.Errorf("schema change key = %v", r.key)
			}
		}
		return alter != nil
	})
	hb := consumeAvro(t, e.brokers, reg, 1, "__debezium-heartbeat."+e.prefix)
	if hb[0].key["serverName"] != e.prefix || hb[0].value["ts_ms"] == nil {
		t.Errorf("heartbeat = %v / %v", hb[0].key, hb[0].value)
	}
	changes := alter["tableChanges"].([]any)
	table := union(changes[0].(map[string]any)["table"]).(map[string]any)
	if cols := table["columns"].([]any); len(cols) != 5 || cols[4].(map[string]any)["name"] != "note" {
		t.Errorf("ALTER tableChanges columns = %v", cols)
	}
	in.stop()

	ops := ""
	for _, r := range recs {
		if r.value == nil {
			ops += "tombstone,"
			continue
		}
		ops += r.value["op"].(string) + ","
	}
	if ops != "c,u,d,tombstone,c," {
		t.Fatalf("ops %s", ops)
	}
	valueName := topic + ".Value"
	after := union(recs[0].value["after"]).(map[string]any)
	if fmt.Sprintf("%v %v %v", after["id"], after["name"], union(after["small"])) != "1 pen -3" {
		t.Errorf("first after = %v", after)
	}
	if p, ok := union(after["price"]).(*big.Rat); !ok || p.FloatString(2) != "12.34" {
		t.Errorf("price = %v, want the decimal 12.34", after["price"])
	}
	if _, ok := recs[0].value["after"].(map[string]any)[valueName]; !ok {
		t.Errorf("after is not a %s record: %v", valueName, recs[0].value["after"])
	}
	source := recs[0].value["source"].(map[string]any)
	if source["connector"] != "mariadb" || union(source["table"]) != "items" || source["db"] != e.db {
		t.Errorf("source = %v", source)
	}
	if recs[1].value["after"].(map[string]any)[valueName].(map[string]any)["price"] != nil {
		t.Errorf("updated price is not null: %v", recs[1].value["after"])
	}
	last := union(recs[4].value["after"]).(map[string]any)
	if union(last["note"]) != "hi" {
		t.Errorf("after ADD COLUMN: after = %v", last)
	}

	subject := topic + "-value"
	if v, _ := reg.Latest(subject); v != 2 {
		t.Fatalf("%s has %d versions, want 2 (one per table version)", subject, v)
	}
	if v, _ := reg.Latest(topic + "-key"); v != 1 {
		t.Errorf("key subject has %d versions, want 1", v)
	}
	v1, _ := reg.GetSchema(subject, 1)
	v2, _ := reg.GetSchema(subject, 2)
	if err := srtest.CheckBackward(v2.Schema.Schema, v1.Schema.Schema); err != nil {
		t.Errorf("version 2 is not BACKWARD compatible: %v", err)
	}
	if recs[0].valueID != v1.ID || recs[4].valueID != v2.ID {
		t.Errorf("value schema ids %d and %d, want %d then %d", recs[0].valueID, recs[4].valueID, v1.ID, v2.ID)
	}
	if reg.Requests() < 4 {
		t.Errorf("%d registry requests: the injected outage was not hit", reg.Requests())
	}
}
