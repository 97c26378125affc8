package sink

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rivulet-cdc/rivulet/event"
)

// txGoldenCases are the records of transactions with
// provide.transaction.metadata: BEGIN, the change events with their
// transaction blocks, END (testdata/README.md).
func txGoldenCases() []goldenCase {
	orders := twoKeys()
	log := noPK()
	orderRow := func(region string, amount string, id int64) []event.Value {
		return []event.Value{str(region), event.Bytes(event.KindDecimal, []byte(amount)), event.Int(id)}
	}
	gtid := "3e11fa47-71ca-11e1-9e33-c80aa9429562:23"
	src := streamSource
	src.GTID = gtid
	tx := func(total, dc int64) event.Tx { return event.Tx{ID: gtid, TotalOrder: total, DataCollectionOrder: dc} }
	noSchemas := func(c *JSONConfig) { c.KeySchemas, c.ValueSchemas = false, false }
	fileTx := event.Tx{ID: "file=mysql-bin.000004,pos=4567", TotalOrder: 1, DataCollectionOrder: 1}
	return []goldenCase{
		{name: "tx_metadata", events: []event.ChangeEvent{
			{Op: event.OpCreate, Table: orders, After: orderRow("eu", "1.00000000", 1), Source: src, Tx: tx(1, 1)},
			// A key change is two data records: d (2, 2) and c (3, 3).
			{Op: event.OpUpdate, Table: orders, Before: orderRow("eu", "1.00000000", 1), After: orderRow("eu", "1.00000000", 2), Source: src, Tx: tx(2, 2)},
			{Op: event.OpCreate, Table: log, After: []event.Value{str("hello"), event.Int(1)}, Source: src, Tx: tx(4, 1)},
		}},
		{name: "tx_metadata_noschema", cfg: noSchemas, events: []event.ChangeEvent{
			{Op: event.OpDelete, Table: log, Before: []event.Value{str("bye"), event.Int(2)}, Source: streamSource, Tx: fileTx},
		}},
	}
}

// txRecords encodes a transaction: BEGIN, the events, END with the counts
// the events' blocks imply.
func txRecords(t *testing.T, enc *JSON, evs []event.ChangeEvent) []Record {
	t.Helper()
	topic := TransactionTopic("dbserver1", "")
	id := evs[0].Tx.ID
	recs, buf := enc.AppendTransaction(nil, nil, topic, &event.Transaction{Status: event.TxBegin, ID: id, TsMs: 1718000000000})
	end := event.Transaction{Status: event.TxEnd, ID: id, TsMs: 1718000000999}
	var err error
	for i := range evs {
		ev := &evs[i]
		if recs, buf, err = enc.AppendRecords(recs, buf, ev); err != nil {
			t.Fatal(err)
		}
		n := int64(enc.DataRecords(ev))
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
	recs, _ = enc.AppendTransaction(recs, buf, topic, &end)
	return recs
}

// TestJSON_TxGolden compares BEGIN/END records and transaction blocks with
// testdata/golden/tx_*.{key,value}.json (-update rewrites them).
func TestJSON_TxGolden(t *testing.T) {
	for _, tc := range txGoldenCases() {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultJSONConfig("dbserver1")
			cfg.Version = "3.2.0.Final"
			cfg.Now = func() time.Time { return time.Unix(1718000003, 123456789) }
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			enc, err := NewJSON(cfg)
			if err != nil {
				t.Fatal(err)
			}
			recs := txRecords(t, enc, tc.events)
			var keys, values, topics bytes.Buffer
			for _, r := range recs {
				for _, x := range []struct {
					w *bytes.Buffer
					b []byte
				}{{&keys, r.Key}, {&values, r.Value}, {&topics, []byte(r.Topic)}} {
					if x.b == nil {
						x.w.WriteString("null")
					} else {
						x.w.Write(x.b)
					}
					x.w.WriteByte('\n')
				}
			}
			for ext, got := range map[string][]byte{"key": keys.Bytes(), "value": values.Bytes(), "topic": topics.Bytes()} {
				path := filepath.Join("testdata", "golden", tc.name+"."+ext+".json")
				if ext == "topic" {
					path = filepath.Join("testdata", "golden", tc.name+".topics.txt")
				}
				if *update {
					if err := os.WriteFile(path, got, 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test ./sink -run TestJSON_TxGolden -update)", err)
				}
				gl, wl := bytes.Split(got, []byte("\n")), bytes.Split(want, []byte("\n"))
				if len(gl) != len(wl) {
					t.Errorf("%s: %d lines, want %d", path, len(gl), len(wl))
					continue
				}
				for i := range gl {
					if ext == "topic" {
						if !bytes.Equal(gl[i], wl[i]) {
							t.Errorf("%s line %d: %s, want %s", path, i+1, gl[i], wl[i])
						}
						continue
					}
					compareJSON(t, path, gl[i], wl[i])
				}
			}
		})
	}
}

func TestDataRecords(t *testing.T) {
	orders := twoKeys()
	row := func(id int64) []event.Value {
		return []event.Value{str("eu"), event.Bytes(event.KindDecimal, []byte("1.00000000")), event.Int(id)}
	}
	cfg := DefaultJSONConfig("p")
	cfg.SkippedOperations = []event.Op{event.OpDelete, event.OpTruncate}
	enc, err := NewJSON(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		ev   event.ChangeEvent
		want int
	}{
		{"create", event.ChangeEvent{Op: event.OpCreate, Table: orders, After: row(1)}, 1},
		{"update", event.ChangeEvent{Op: event.OpUpdate, Table: orders, Before: row(1), After: row(1)}, 1},
		{"key change", event.ChangeEvent{Op: event.OpUpdate, Table: orders, Before: row(1), After: row(2)}, 2},
		{"skipped delete", event.ChangeEvent{Op: event.OpDelete, Table: orders, Before: row(1)}, 0},
		{"skipped truncate", event.ChangeEvent{Op: event.OpTruncate, Table: orders}, 0},
	} {
		if got := enc.DataRecords(&tc.ev); got != tc.want {
			t.Errorf("%s: DataRecords = %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestStdout_SendTransaction(t *testing.T) {
	cfg := DefaultJSONConfig("p")
	cfg.KeySchemas, cfg.ValueSchemas = false, false
	enc, err := NewJSON(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	s := NewStdout(&out, enc)
	var got error = errSentinel
	if err := s.SendTransaction(context.Background(), TransactionTopic("p", "tx"), &event.Transaction{Status: event.TxBegin, ID: "0-1-2", TsMs: 5}, func(err error) { got = err }); err != nil || got != nil {
		t.Fatalf("SendTransaction: %v, done %v", err, got)
	}
	want := `{"topic":"p.tx","key":{"id":"0-1-2"},"value":{"status":"BEGIN","id":"0-1-2","event_count":null,"data_collections":null,"ts_ms":5}}` + "\n"
	if out.String() != want {
		t.Errorf("got %s\nwant %s", out.String(), want)
	}
}

type sentinel struct{}

func (sentinel) Error() string { return "not called" }

var errSentinel error = sentinel{}

func BenchmarkAppendRecords_TxBlock(b *testing.B) {
	cfg := DefaultJSONConfig("dbserver1")
	enc, err := NewJSON(cfg)
	if err != nil {
		b.Fatal(err)
	}
	orders := twoKeys()
	ev := event.ChangeEvent{Op: event.OpCreate, Table: orders, Source: streamSource,
		After: []event.Value{str("eu"), event.Bytes(event.KindDecimal, []byte("1.00000000")), event.Int(1)},
		Tx:    event.Tx{ID: "3e11fa47-71ca-11e1-9e33-c80aa9429562:23", TotalOrder: 1, DataCollectionOrder: 1}}
	var recs []Record
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		recs, buf, _ = enc.AppendRecords(recs[:0], buf[:0], &ev)
		_ = enc.DataRecords(&ev)
	}
}
