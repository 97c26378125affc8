package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestRun_Transforms runs the real binary with the transforms users add to
// every connector: ExtractNewRecordState (rewrite mode, add.fields,
// add.headers) then RegexRouter, a masked and a hashed column, and
// skip.messages.without.change; snapshot and streamed rows alike.
func TestRun_Transforms(t *testing.T) {
	e := newE2E(t)
	e.srv.Exec(t, e.db,
		`CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(64) NOT NULL, ssn CHAR(11),
			email VARCHAR(100), touched INT)`,
		`INSERT INTO customers VALUES (1, 'Anne', '123-45-6789', 'anne@example.com', 0)`,
	)
	cfg := e.config(t, map[string]string{
		"snapshot.mode":                                    "initial",
		"key.converter.schemas.enable":                     "false",
		"value.converter.schemas.enable":                   "false",
		"column.exclude.list":                              e.db + `\.customers\.touched`,
		"skip.messages.without.change":                     "true",
		"column.mask.with.4.chars":                         e.db + `\.customers\.ssn`,
		"column.mask.hash.v2.SHA-256.with.salt.pepper":     e.db + `\.CUSTOMERS\.email`,
		"transforms":                                       "unwrap,route",
		"transforms.unwrap.type":                           "io.debezium.transforms.ExtractNewRecordState",
		"transforms.unwrap.delete.tombstone.handling.mode": "rewrite",
		"transforms.unwrap.add.fields":                     "op,table",
		"transforms.unwrap.add.headers":                    "op",
		"transforms.route.type":                            "org.apache.kafka.connect.transforms.RegexRouter",
		"transforms.route.regex":                           regexp.QuoteMeta(e.prefix) + `\.[^.]+\.(.*)`,
		"transforms.route.replacement":                     e.prefix + "_cdc.$1",
	})
	in := e.start(t, cfg)
	// The snapshot row first: a change to a row while its chunk is read
	// would supersede it (DBLog merge), and the test wants both kinds.
	consume(t, e.brokers, 1, e.prefix+"_cdc.customers")
	e.srv.Exec(t, e.db,
		`INSERT INTO customers VALUES (2, 'Bob', NULL, 'bob@example.com', 0)`,
		`UPDATE customers SET name = 'Bobby' WHERE id = 2`,
		`UPDATE customers SET touched = 1 WHERE id = 2`, // only an excluded column: skipped
		`DELETE FROM customers WHERE id = 1`,
	)
	recs := consume(t, e.brokers, 4, e.prefix+"_cdc.customers")
	hash := func(s string) string { h := sha256.Sum256([]byte("pepper" + s)); return hex.EncodeToString(h[:]) }
	want := []map[string]any{
		{"id": 1.0, "name": "Anne", "ssn": "****", "email": hash("anne@example.com"), "__deleted": "false", "__op": "r", "__table": "customers"},
		{"id": 2.0, "name": "Bob", "ssn": "****", "email": hash("bob@example.com"), "__deleted": "false", "__op": "c", "__table": "customers"},
		{"id": 2.0, "name": "Bobby", "ssn": "****", "email": hash("bob@example.com"), "__deleted": "false", "__op": "u", "__table": "customers"},
		{"id": 1.0, "name": "Anne", "ssn": "****", "email": hash("anne@example.com"), "__deleted": "true", "__op": "d", "__table": "customers"},
	}
	for i, w := range want {
		r := recs[i]
		if fmt.Sprint(r.Value) != fmt.Sprint(w) {
			t.Errorf("record %d value = %s\nwant %v", i, r.RawVal, w)
		}
		if r.Headers["__op"] != w["__op"] {
			t.Errorf("record %d headers = %v, want __op %v", i, r.Headers, w["__op"])
		}
		if fmt.Sprint(r.Key) != fmt.Sprintf("map[id:%v]", w["id"]) {
			t.Errorf("record %d key = %s", i, r.RawKey)
		}
	}
	if len(recs) > 4 {
		t.Errorf("%d records, want 4 (the unchanged update skipped, the tombstone dropped): %s", len(recs), recs[4].RawVal)
	}
	// Debezium's NumberOfUnchangedEventsSkipped counts the dropped update.
	if got := labelledValue(t, in.metrics, `debezium_metrics_NumberOfUnchangedEventsSkipped{context="streaming"`); got != 1 {
		t.Errorf("NumberOfUnchangedEventsSkipped = %v, want 1", got)
	}
	in.stop()

	// Nothing went to the unrouted topic (other tests' topics share the broker).
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	topics, err := kadm.NewClient(cl).ListTopics(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range topics.Names() {
		if strings.HasPrefix(name, e.prefix+".") && strings.HasSuffix(name, ".customers") {
			t.Errorf("records went to %s too", name)
		}
	}
}

// TestRun_TransformsUnknownClass: an SMT Rivulet does not implement stops
// the start with the key and the fix (exit status 2), never passes through.
func TestRun_TransformsUnknownClass(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.properties")
	props := "database.hostname=127.0.0.1\ndatabase.user=u\ndatabase.server.id=1\ntopic.prefix=it\n" +
		"schema.history.internal.kafka.topic=h\noffset.storage.file.filename=" + filepath.Join(dir, "o.json") + "\n" +
		"transforms=f\ntransforms.f.type=io.debezium.transforms.Filter\n"
	if err := os.WriteFile(path, []byte(props), 0o600); err != nil {
		t.Fatal(err)
	}
	out, code := runBinary(t, "run", "--config", path)
	if code != 2 || !strings.Contains(out, `transforms.f.type: "io.debezium.transforms.Filter" is not a transform Rivulet implements`) {
		t.Errorf("exit %d, output:\n%s", code, out)
	}
}

// labelledValue scrapes the first series of /metrics whose line starts with prefix.
func labelledValue(t *testing.T, addr, prefix string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, prefix) {
			f := strings.Fields(line)
			v, _ := strconv.ParseFloat(f[len(f)-1], 64)
			return v
		}
	}
	t.Fatalf("no series %s in /metrics", prefix)
	return 0
}
