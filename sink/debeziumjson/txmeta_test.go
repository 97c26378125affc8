package debeziumjson

import (
	"bytes"
	"context"
	"testing"

	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/sink"
)

func TestDataRecords(t *testing.T) {
	orders := twoKeys()
	row := func(id int64) []event.Value {
		return []event.Value{str("eu"), event.Bytes(event.KindDecimal, []byte("1.00000000")), event.Int(id)}
	}
	cfg := sink.DefaultJSONConfig("p")
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
	cfg := sink.DefaultJSONConfig("p")
	cfg.KeySchemas, cfg.ValueSchemas = false, false
	enc, err := NewJSON(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	s := sink.NewStdout(&out, enc.Format())
	var got error = errSentinel
	if err := s.SendTransaction(context.Background(), sink.TransactionTopic("p", "tx"), &event.Transaction{Status: event.TxBegin, ID: "0-1-2", TsMs: 5}, func(err error) { got = err }); err != nil || got != nil {
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
	cfg := sink.DefaultJSONConfig("dbserver1")
	enc, err := NewJSON(cfg)
	if err != nil {
		b.Fatal(err)
	}
	orders := twoKeys()
	ev := event.ChangeEvent{Op: event.OpCreate, Table: orders, Source: streamSource,
		After: []event.Value{str("eu"), event.Bytes(event.KindDecimal, []byte("1.00000000")), event.Int(1)},
		Tx:    event.Tx{ID: "3e11fa47-71ca-11e1-9e33-c80aa9429562:23", TotalOrder: 1, DataCollectionOrder: 1}}
	var recs []sink.Record
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		recs, buf, _ = enc.AppendRecords(recs[:0], buf[:0], &ev)
		_ = enc.DataRecords(&ev)
	}
}
