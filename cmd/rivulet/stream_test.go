package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/rivulet-cdc/rivulet/offsets"
)

// TestRun_StreamsChanges covers what a user sees: per-table topics with
// Debezium envelopes for inserts, updates and deletes across the common
// types, tombstones, a transaction touching two tables, a primary-key change,
// a table without a key, and a graceful stop that writes the offset.
func TestRun_StreamsChanges(t *testing.T) {
	e := newE2E(t)
	e.srv.Exec(t, e.db,
		`CREATE TABLE customers (
			id INT PRIMARY KEY, name VARCHAR(64) NOT NULL, latin VARCHAR(20) CHARACTER SET latin1,
			balance DECIMAL(10,2), born DATE, seen DATETIME(3), changed TIMESTAMP(6) NULL,
			active BIT(1), flags BIT(12), tags SET('a','b','c'), kind ENUM('x','y'), doc JSON,
			raw VARBINARY(16), big BIGINT UNSIGNED, f FLOAT, d DOUBLE, y YEAR, t TIME(2), tiny TINYINT UNSIGNED)`,
		`CREATE TABLE orders (id INT PRIMARY KEY, customer_id INT, total DECIMAL(8,2))`,
		`CREATE TABLE nokey (a INT, b VARCHAR(10))`,
	)
	cfg := e.config(t, map[string]string{"key.converter.schemas.enable": "false", "value.converter.schemas.enable": "false"})
	in := e.start(t, cfg)

	e.srv.Exec(t, e.db,
		`SET time_zone = '+00:00'`,
		`INSERT INTO customers VALUES (1, 'Anne', 'Gödel', 1234.50, '2020-02-29', '2026-11-21 10:11:12.345',
			'2026-11-21 10:11:12.123456', b'1', b'101000000001', 'a,c', 'y', '{"k": [1, 2, {"x": null}]}',
			X'00FF10', 18446744073709551615, 1.5, 2.25, 2024, '-838:59:59.00', 255)`,
		`UPDATE customers SET name = 'Anne K', balance = -0.05 WHERE id = 1`,
		`BEGIN`,
		`INSERT INTO customers (id, name) VALUES (2, 'Bob')`,
		`INSERT INTO orders VALUES (10, 2, 99.99)`,
		`COMMIT`,
		`UPDATE customers SET id = 3 WHERE id = 2`,
		`DELETE FROM customers WHERE id = 1`,
		`INSERT INTO nokey VALUES (1, 'x')`,
		`DELETE FROM nokey`,
	)
	topic := func(tbl string) string { return e.prefix + "." + e.db + "." + tbl }
	// customers: c, u, c, d(2)+tombstone+c(3), d(1)+tombstone = 8
	recs := consume(t, e.brokers, 8, topic("customers"))
	ops := []string{}
	for _, r := range recs {
		if r.Value == nil {
			ops = append(ops, "tombstone")
			continue
		}
		ops = append(ops, r.Value["op"].(string))
	}
	if got, want := strings.Join(ops, ","), "c,u,c,d,tombstone,c,d,tombstone"; got != want {
		t.Fatalf("customers ops = %s, want %s", got, want)
	}
	first := recs[0].Value
	after := first["after"].(map[string]any)
	wantAfter := map[string]any{
		"id": 1.0, "name": "Anne", "latin": "Gödel", "balance": "AeI6", "born": 18321.0,
		"seen": 1795255872345.0, "changed": "2026-11-21T10:11:12.123456Z", "active": true,
		"flags": "AQo=", "tags": "a,c", "kind": "y", "doc": `{"k": [1, 2, {"x": null}]}`, "raw": "AP8Q",
		"big": -1.0, "f": 1.5, "d": 2.25, "y": 2024.0, "t": -3020399000000.0, "tiny": 255.0,
	}
	for k, want := range wantAfter {
		if got := after[k]; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("after.%s = %v (%T), want %v", k, got, got, want)
		}
	}
	src := first["source"].(map[string]any)
	for k, want := range map[string]any{"connector": "mariadb", "name": e.prefix, "db": e.db, "table": "customers", "snapshot": "false", "server_id": 1.0, "row": 0.0} {
		if fmt.Sprint(src[k]) != fmt.Sprint(want) {
			t.Errorf("source.%s = %v, want %v", k, src[k], want)
		}
	}
	if f, _ := src["file"].(string); !strings.HasPrefix(f, "mysql-bin.") {
		t.Errorf("source.file = %v, want a binlog file name", src["file"])
	}
	if g, _ := src["gtid"].(string); strings.Count(g, "-") != 2 {
		t.Errorf("source.gtid = %v, want a MariaDB GTID domain-server-seq", src["gtid"])
	}
	upd := recs[1].Value
	if b := upd["before"].(map[string]any); b["name"] != "Anne" || b["balance"] != "AeI6" {
		t.Errorf("update before = %v", b)
	}
	if a := upd["after"].(map[string]any); a["name"] != "Anne K" || a["balance"] != "+w==" {
		t.Errorf("update after = %v", a)
	}
	// Primary key change: delete with the new key in a header, tombstone, create with the old key.
	if recs[3].Headers["__debezium.newkey"] != `{"id":3}` || fmt.Sprint(recs[3].Key) != "map[id:2]" {
		t.Errorf("pk-change delete: key %s headers %v", recs[3].RawKey, recs[3].Headers)
	}
	if recs[5].Headers["__debezium.oldkey"] != `{"id":2}` || fmt.Sprint(recs[5].Key) != "map[id:3]" {
		t.Errorf("pk-change create: key %s headers %v", recs[5].RawKey, recs[5].Headers)
	}
	// Debezium 3.2+'s extended headers (extended.headers.enabled defaults to true).
	for _, r := range recs {
		if r.Headers["__debezium.context.connectorLogicalName"] != e.prefix || r.Headers["__debezium.context.taskId"] != "0" ||
			r.Headers["__debezium.context.connectorName"] != "mariadb" { // the e2e config names MariaDbConnector
			t.Errorf("record %s: context headers %v", r.RawKey, r.Headers)
		}
	}
	// One transaction over two tables: same gtid on both events.
	ord := consume(t, e.brokers, 1, topic("orders"))
	if g1, g2 := ord[0].Value["source"].(map[string]any)["gtid"], recs[2].Value["source"].(map[string]any)["gtid"]; g1 != g2 {
		t.Errorf("transaction gtids differ: orders %v, customers %v", g1, g2)
	}
	// A table without a primary key: null keys, no tombstone key.
	nk := consume(t, e.brokers, 2, topic("nokey"))
	for _, r := range nk {
		if r.RawKey != nil {
			t.Errorf("nokey record has key %s, want null", r.RawKey)
		}
	}

	// kcat, an independent librdkafka client, reads the same bytes.
	if kcat, err := exec.LookPath("kcat"); err == nil {
		out, err := exec.Command(kcat, "-b", e.brokers[0], "-C", "-t", topic("orders"), "-o", "beginning", "-e", "-q", "-f", "%k\t%s\n").Output()
		if err != nil {
			t.Fatalf("kcat: %v", err)
		}
		want := string(ord[0].RawKey) + "\t" + string(ord[0].RawVal) + "\n"
		if string(out) != want {
			t.Errorf("kcat read\n%s\nwant\n%s", out, want)
		}
	} else {
		t.Errorf("kcat not installed: apt-get install -y kcat")
	}

	in.stop()
	st := offsets.NewFileStore(e.dir+"/offsets.json", e.connector(), e.prefix)
	p, ok, err := st.Load(t.Context())
	if err != nil || !ok || p.GTIDSet == "" {
		t.Fatalf("stored offset = %+v, %v, %v; want a GTID position", p, ok, err)
	}
	raw, _ := os.ReadFile(e.dir + "/offsets.json")
	if !bytes.Contains(raw, []byte(strings.ReplaceAll(e.offsetsKey(), `"`, `\"`))) {
		t.Errorf("offsets file lacks the Connect key: %s", raw)
	}
}

// TestRun_WithSchemas checks the envelope with JsonConverter schemas on (the default).
func TestRun_WithSchemas(t *testing.T) {
	e := newE2E(t)
	e.srv.Exec(t, e.db, `CREATE TABLE customers (id INT PRIMARY KEY, first_name VARCHAR(255) NOT NULL)`)
	// The MySQL connector class against a MariaDB server, as many Debezium
	// users run it: the flavor is detected from the server, source.connector
	// follows the class.
	in := e.start(t, e.config(t, map[string]string{"connector.class": "io.debezium.connector.mysql.MySqlConnector"}))
	e.srv.Exec(t, e.db, `INSERT INTO customers VALUES (1004, 'Anne')`)
	recs := consume(t, e.brokers, 1, e.prefix+"."+e.db+".customers")
	var key struct {
		Schema  map[string]any `json:"schema"`
		Payload map[string]any `json:"payload"`
	}
	if err := json.Unmarshal(recs[0].RawKey, &key); err != nil {
		t.Fatal(err)
	}
	if key.Schema["name"] != e.prefix+"."+e.db+".customers.Key" || key.Payload["id"] != 1004.0 {
		t.Errorf("key = %s", recs[0].RawKey)
	}
	v := recs[0].Value
	sch := v["schema"].(map[string]any)
	if sch["name"] != e.prefix+"."+e.db+".customers.Envelope" || sch["version"] != 2.0 {
		t.Errorf("envelope schema name/version = %v/%v", sch["name"], sch["version"])
	}
	if p := payload(v); p["op"] != "c" || p["after"].(map[string]any)["first_name"] != "Anne" {
		t.Errorf("payload = %v", p)
	}
	if src := payload(v)["source"].(map[string]any); src["connector"] != "mysql" || src["gtid"] == nil {
		t.Errorf("source = %v, want connector mysql and a MariaDB gtid", src)
	}
	in.stop()
}
