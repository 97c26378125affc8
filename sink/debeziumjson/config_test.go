package debeziumjson

import (
	"errors"
	"slices"
	"testing"

	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/sink"
)

func TestNewJSON_Config(t *testing.T) {
	for name, mut := range map[string]func(*sink.JSONConfig){
		"no prefix":    func(c *sink.JSONConfig) { c.TopicPrefix = "" },
		"decimal mode": func(c *sink.JSONConfig) { c.DecimalMode = 9 },
		"time mode":    func(c *sink.JSONConfig) { c.TimePrecisionMode = 9 },
		"propagate re": func(c *sink.JSONConfig) { c.PropagateSourceTypeColumns = "db.t.(" },
		"binary mode":  func(c *sink.JSONConfig) { c.BinaryMode = 9 },
		"skipped op r": func(c *sink.JSONConfig) { c.SkippedOperations = []event.Op{event.OpRead} },
	} {
		cfg := sink.DefaultJSONConfig("p")
		mut(&cfg)
		if _, err := NewJSON(cfg); !errors.Is(err, sink.ErrConfig) {
			t.Errorf("%s: NewJSON = %v, want ErrConfig", name, err)
		}
	}
}

func TestJSON_SkippedOperations(t *testing.T) {
	cfg := testEncoding()
	cfg.SkippedOperations = []event.Op{event.OpUpdate, event.OpDelete}
	enc, err := NewJSON(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var n []int
	for _, ev := range kafkaEvents() {
		recs, _, err := enc.AppendRecords(nil, nil, &ev)
		if err != nil {
			t.Fatal(err)
		}
		n = append(n, len(recs))
	}
	// c, u (skipped), c, d (skipped), u with PK change (skipped: it is an
	// update), t (not skipped any more: one record, null key).
	if want := []int{1, 0, 1, 0, 0, 1}; !slices.Equal(n, want) {
		t.Errorf("records per event = %v, want %v", n, want)
	}
}

func TestJSON_EncodeErrors(t *testing.T) {
	enc, err := NewJSON(testEncoding())
	if err != nil {
		t.Fatal(err)
	}
	c := customers()
	for name, ev := range map[string]event.ChangeEvent{
		"short row":     {Op: event.OpCreate, Table: c, After: []event.Value{event.Int(1)}},
		"wrong kind":    {Op: event.OpCreate, Table: c, After: []event.Value{str("x"), str("a"), str("b")}},
		"no after":      {Op: event.OpCreate, Table: c},
		"delete no row": {Op: event.OpDelete, Table: c},
		"no table":      {Op: event.OpCreate},
		"unknown op":    {Op: 'x', Table: c, After: []event.Value{event.Int(1), str("a"), str("b")}},
	} {
		recs, buf, err := enc.AppendRecords(nil, []byte("keep"), &ev)
		if !errors.Is(err, sink.ErrEncode) {
			t.Errorf("%s: err = %v, want ErrEncode", name, err)
		}
		if len(recs) != 0 || string(buf) != "keep" {
			t.Errorf("%s: output not rolled back: %d records, buf %q", name, len(recs), buf)
		}
	}
	_, _, err = enc.AppendRecords(nil, nil, &event.ChangeEvent{Op: event.OpCreate, Table: c,
		After: []event.Value{str("x"), str("a"), str("b")}})
	var ee *sink.EncodeError
	if !errors.As(err, &ee) || ee.Table != "inventory.customers" || ee.Column != "id" {
		t.Errorf("err = %#v, want EncodeError for inventory.customers column id", err)
	}
}
