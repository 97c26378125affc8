package debeziumjson

import (
	"os"
	"testing"
	"time"

	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/sink"
)

// TestJSON_Reference reproduces the complete example of DEBEZIUM-REFERENCE
// §2.9 byte for byte (version string and clock injected).
func TestJSON_Reference(t *testing.T) {
	cfg := sink.DefaultJSONConfig("dbserver1")
	cfg.Version = "3.2.0.Final"
	cfg.Now = func() time.Time { return time.Unix(1465491411, 815437158) }
	enc, err := NewJSON(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ev := event.ChangeEvent{
		Op:    event.OpCreate,
		Table: customers(),
		After: []event.Value{event.Int(1004), str("Anne"), str("annek@noanswer.org")},
		Source: event.Source{
			TsUs: 1465491411000000, ServerID: 223344, File: "mysql-bin.000003", Pos: 154, Row: 0, Thread: 7,
		},
	}
	recs, _, err := enc.AppendRecords(nil, nil, &ev)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 {
		t.Fatalf("got %d records, want 1", len(recs))
	}
	if recs[0].Topic != "dbserver1.inventory.customers" {
		t.Errorf("topic = %q", recs[0].Topic)
	}
	for _, c := range []struct {
		file string
		got  []byte
	}{
		{"../testdata/reference/customers_create.key.json", recs[0].Key},
		{"../testdata/reference/customers_create.value.json", recs[0].Value},
	} {
		want, err := os.ReadFile(c.file)
		if err != nil {
			t.Fatal(err)
		}
		compareJSON(t, c.file, c.got, want)
	}
}
