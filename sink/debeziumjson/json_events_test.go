package debeziumjson

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/schema"
	"github.com/rivulet-cdc/rivulet/sink"
)

// eventsMix are events whose source blocks repeat, change in one part or
// the other, or do not fit AppendEvents' cache.
func eventsMix() []event.ChangeEvent {
	var evs []event.ChangeEvent
	evs = append(evs, kafkaEvents()...)
	evs = append(evs, benchEvents()...)
	snap := snapshotEvents(6)
	for i, mark := range []string{"first", "true", "true", "last_in_data_collection", "first_in_data_collection", "last"} {
		snap[i].Source.Snapshot = mark
	}
	evs = append(evs, snap...)
	long := &schema.Table{DB: strings.Repeat("d", 200), Name: strings.Repeat("t", 200), PrimaryKey: []int{0},
		Columns: []schema.Column{{Name: "id", Type: schema.TypeBigInt, TypeName: "BIGINT"}}}
	c := customers()
	row := func(id int64) []event.Value {
		return []event.Value{event.Int(id), str("ann"), str("ann@example.org")}
	}
	src := streamSource
	for i := range 12 {
		s := src
		switch i % 6 {
		case 1:
			s.Row = int32(i)
		case 2:
			s.Pos += uint64(i)
		case 3:
			s.GTID = "3e11fa47-71ca-11e1-9e33-c80aa9429562:23"
		case 4:
			s.Query = strings.Repeat("INSERT INTO customers VALUES (1, 'ann') ", i) // past the cache at i=10
		case 5:
			s.TsUs += int64(i) * 1_000_000
			s.Thread = -1
		}
		ev := event.ChangeEvent{Op: event.OpCreate, Table: c, After: row(int64(i)), Source: s}
		if i%4 == 3 {
			ev.Tx = event.Tx{ID: "3e11fa47-71ca-11e1-9e33-c80aa9429562:23", TotalOrder: int64(i), DataCollectionOrder: int64(i)}
		}
		evs = append(evs, ev)
		if i%5 == 0 {
			evs = append(evs, event.ChangeEvent{Op: event.OpCreate, Table: long, After: []event.Value{event.Int(int64(i))}, Source: s})
		}
	}
	evs = append(evs, event.ChangeEvent{Op: event.OpDelete, Table: c, Before: row(3), Source: src},
		event.ChangeEvent{Op: event.OpUpdate, Table: c, Before: row(3), After: row(4), Source: src})
	return evs
}

// TestJSON_AppendEvents: AppendEvents writes the records AppendRecords
// writes event by event (one clock), in every configuration path.
func TestJSON_AppendEvents(t *testing.T) {
	evs := eventsMix()
	for _, tc := range []struct {
		name string
		enc  *JSON
	}{
		{"payload", benchEncoder(t, false)},
		{"schemas", benchEncoder(t, true)},
		{"transforms", transformEncoder(t, true)},
	} {
		var want []sink.Record
		var wbuf []byte
		for i := range evs {
			var err error
			if want, wbuf, err = tc.enc.AppendRecords(want, wbuf, &evs[i]); err != nil {
				t.Fatalf("%s: AppendRecords %d: %v", tc.name, i, err)
			}
		}
		// Twice: the second call starts from the first one's cache.
		for round := range 2 {
			got, _, err := tc.enc.AppendEvents(nil, []byte("prefix"), evs)
			if err != nil {
				t.Fatalf("%s: AppendEvents: %v", tc.name, err)
			}
			if len(got) != len(want) {
				t.Fatalf("%s/%d: %d records, want %d", tc.name, round, len(got), len(want))
			}
			for i := range got {
				g, w := got[i], want[i]
				if g.Topic != w.Topic || !bytes.Equal(g.Key, w.Key) || !bytes.Equal(g.Value, w.Value) || len(g.Headers) != len(w.Headers) {
					t.Errorf("%s/%d: record %d:\n got %s %s %s\nwant %s %s %s", tc.name, round, i, g.Topic, g.Key, g.Value, w.Topic, w.Key, w.Value)
				}
			}
		}
	}
}

// TestJSON_AppendEventsError: an event that fails leaves the records of
// the events before it, and the buffer as they left it.
func TestJSON_AppendEventsError(t *testing.T) {
	enc := benchEncoder(t, false)
	evs := snapshotEvents(4)
	evs[2].After[3] = str("not a decimal")
	want, wbuf, err := enc.AppendEvents(nil, nil, evs[:2])
	if err != nil {
		t.Fatal(err)
	}
	got, buf, err := enc.AppendEvents(nil, nil, evs)
	var ee *sink.EncodeError
	if !errors.As(err, &ee) || ee.Table != "bench.t" || ee.Column != "c" {
		t.Fatalf("AppendEvents = %v, want an EncodeError of bench.t column c", err)
	}
	if len(got) != len(want) || !bytes.Equal(buf, wbuf) {
		t.Errorf("after the error: %d records, %d bytes; want %d, %d", len(got), len(buf), len(want), len(wbuf))
	}
}

// TestJSON_AppendEventsAllocs: a batch allocates nothing once the table is
// cached.
func TestJSON_AppendEventsAllocs(t *testing.T) {
	enc := benchEncoder(t, false)
	evs := append(snapshotEvents(64), benchEvents()...)
	recs := make([]sink.Record, 0, 128)
	buf := make([]byte, 0, 1<<18)
	encode := func() {
		var err error
		if recs, buf, err = enc.AppendEvents(recs[:0], buf[:0], evs); err != nil {
			t.Fatal(err)
		}
	}
	encode()
	if n := testing.AllocsPerRun(100, encode); n != 0 {
		t.Errorf("%v allocations per batch, want 0", n)
	}
}

// TestJSON_AppendEventsClock: AppendEvents reads the clock once per call,
// for the envelopes and for what the transforms add from it alike;
// AppendRecords reads it per record.
func TestJSON_AppendEventsClock(t *testing.T) {
	for _, xf := range []bool{false, true} {
		cfg := sink.DefaultJSONConfig("dbserver1")
		cfg.Version = "0.1.0"
		reads := 0
		cfg.Now = func() time.Time {
			reads++
			return time.Unix(1718000003, int64(reads)*1000)
		}
		if xf {
			cfg.Transforms = []sink.TransformConfig{unwrap("unwrap", func(t *sink.TransformConfig) {
				t.AddFields = []string{"ts_ms", "ts_ns"}
				t.AddHeaders = []string{"ts_us"}
			})}
		}
		enc, err := NewJSON(cfg)
		if err != nil {
			t.Fatal(err)
		}
		evs := snapshotEvents(5)
		recs, _, err := enc.AppendEvents(nil, nil, evs)
		if err != nil {
			t.Fatal(err)
		}
		if reads != 1 {
			t.Errorf("transforms %v: AppendEvents read the clock %d times, want 1", xf, reads)
		}
		for _, r := range recs {
			if !bytes.Contains(r.Value, []byte(`ts_ns":1718000003000001000`)) {
				t.Errorf("transforms %v: record %s without the batch's processing time", xf, r.Value)
			}
		}
		reads = 0
		for i := range evs {
			if _, _, err := enc.AppendRecords(nil, nil, &evs[i]); err != nil {
				t.Fatal(err)
			}
		}
		if want := len(evs); xf {
			if reads != 2*want { // a field and a header: one reading each
				t.Errorf("transforms: AppendRecords read the clock %d times, want %d", reads, 2*want)
			}
		} else if reads != want {
			t.Errorf("AppendRecords read the clock %d times, want %d", reads, want)
		}
	}
}

// TestJSON_AppendEventsConcurrent: calls on one encoder from several
// goroutines each keep their own cache (run with -race).
func TestJSON_AppendEventsConcurrent(t *testing.T) {
	enc := benchEncoder(t, false)
	evs := eventsMix()
	values := func(recs []sink.Record) []string {
		var out []string
		for _, r := range recs {
			out = append(out, r.Topic+string(r.Key)+string(r.Value))
		}
		slices.Sort(out)
		return out
	}
	recs, _, err := enc.AppendEvents(nil, nil, evs)
	if err != nil {
		t.Fatal(err)
	}
	want := values(recs)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			// Each goroutine starts at another event, so the caches differ.
			mine := append(slices.Clone(evs[g:]), evs[:g]...)
			for range 50 {
				recs, _, err := enc.AppendEvents(nil, nil, mine)
				if err != nil {
					t.Error(err)
					return
				}
				if !slices.Equal(values(recs), want) {
					t.Errorf("goroutine %d: records differ from one goroutine's", g)
					return
				}
			}
		})
	}
	wg.Wait()
}
