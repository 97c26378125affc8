package debeziumjson_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/sink"
	"github.com/rivulet-cdc/rivulet/sink/debeziumjson"
	"github.com/rivulet-cdc/rivulet/sink/internal/fixture"
	"github.com/rivulet-cdc/rivulet/sink/internal/sinktest"
)

// TestJSON_Golden compares the records of each case with
// testdata/golden/<case>.{key,value,headers}.json: one line per record, the
// record's bytes or null. Run with -update to rewrite them; testdata/README.md
// says what each case was checked against.
func TestJSON_Golden(t *testing.T) {
	runGolden(t, sinktest.GoldenCases())
}

// TestJSON_GoldenModes is TestJSON_Golden for the cases of every mode,
// defaults and source type propagation (sinktest.ModeCases).
func TestJSON_GoldenModes(t *testing.T) {
	runGolden(t, sinktest.ModeCases())
}

func runGolden(t *testing.T, cases []sinktest.Case) {
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			cfg := sink.DefaultJSONConfig("dbserver1")
			cfg.Version = "3.2.0.Final"
			cfg.Now = func() time.Time { return time.Unix(1718000003, 123456789) }
			if tc.Cfg != nil {
				tc.Cfg(&cfg)
			}
			enc, err := debeziumjson.NewJSON(cfg)
			if err != nil {
				t.Fatal(err)
			}
			var recs []sink.Record
			var buf []byte
			for i := range tc.Events {
				if recs, buf, err = enc.AppendRecords(recs, buf, &tc.Events[i]); err != nil {
					t.Fatal(err)
				}
			}
			var keys, values, headers bytes.Buffer
			hasHeaders := false
			for _, r := range recs {
				line := func(w *bytes.Buffer, b []byte) {
					if b == nil {
						w.WriteString("null")
					} else {
						w.Write(b)
					}
					w.WriteByte('\n')
				}
				line(&keys, r.Key)
				line(&values, r.Value)
				h := map[string]string{}
				for _, x := range r.Headers {
					h[x.Key] = string(x.Value)
					hasHeaders = true
				}
				b, _ := json.Marshal(h)
				line(&headers, b)
			}
			files := map[string][]byte{"key": keys.Bytes(), "value": values.Bytes()}
			if hasHeaders {
				files["headers"] = headers.Bytes()
			}
			for ext, got := range files {
				path := filepath.Join("..", "testdata", "golden", tc.Name+"."+ext+".json")
				if *fixture.Update {
					if err := os.WriteFile(path, got, 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test ./sink -run TestJSON_Golden -update)", err)
				}
				gl, wl := bytes.Split(got, []byte("\n")), bytes.Split(want, []byte("\n"))
				if len(gl) != len(wl) {
					t.Errorf("%s: %d lines, want %d", path, len(gl), len(wl))
					continue
				}
				for i := range gl {
					fixture.CompareJSON(t, path, gl[i], wl[i])
				}
			}
		})
	}
}

// txRecords encodes a transaction: BEGIN, the events, END with the counts
// the events' blocks imply.
func txRecords(t *testing.T, enc *debeziumjson.JSON, evs []event.ChangeEvent) []sink.Record {
	t.Helper()
	topic := sink.TransactionTopic("dbserver1", "")
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
	for _, tc := range sinktest.TxGoldenCases() {
		t.Run(tc.Name, func(t *testing.T) {
			cfg := sink.DefaultJSONConfig("dbserver1")
			cfg.Version = "3.2.0.Final"
			cfg.Now = func() time.Time { return time.Unix(1718000003, 123456789) }
			if tc.Cfg != nil {
				tc.Cfg(&cfg)
			}
			enc, err := debeziumjson.NewJSON(cfg)
			if err != nil {
				t.Fatal(err)
			}
			recs := txRecords(t, enc, tc.Events)
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
				path := filepath.Join("..", "testdata", "golden", tc.Name+"."+ext+".json")
				if ext == "topic" {
					path = filepath.Join("..", "testdata", "golden", tc.Name+".topics.txt")
				}
				if *fixture.Update {
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
					fixture.CompareJSON(t, path, gl[i], wl[i])
				}
			}
		})
	}
}
