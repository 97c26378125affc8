package mysql8

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/offsets"
	"github.com/rivulet-cdc/rivulet/schema"
	"github.com/rivulet-cdc/rivulet/sink"
	"github.com/rivulet-cdc/rivulet/sink/debeziumjson"
)

// envelopes encodes events and returns each value's payload.
func envelopes(t *testing.T, evs []event.ChangeEvent) []map[string]any {
	t.Helper()
	cfg := sink.DefaultJSONConfig("mysql8")
	cfg.Now = func() time.Time { return time.Unix(1_700_000_000, 0) }
	enc, err := debeziumjson.NewJSON(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for i := range evs {
		recs, _, err := enc.AppendRecords(nil, nil, &evs[i])
		if err != nil {
			t.Fatal(err)
		}
		var env struct {
			Payload map[string]any `json:"payload"`
		}
		d := json.NewDecoder(strings.NewReader(string(recs[0].Value)))
		d.UseNumber()
		if err := d.Decode(&env); err != nil {
			t.Fatal(err)
		}
		out = append(out, env.Payload)
	}
	return out
}

func field(p map[string]any, image, col string) string {
	m, _ := p[image].(map[string]any)
	b, _ := json.Marshal(m[col])
	return string(b)
}

// TestVectors_Specifics checks, in the Debezium envelopes, the values each
// file was written to exercise. Expected values are read from the files'
// bytes by hand (the arithmetic is in the comments) and agree with
// go-mysql's decoding, which TestVectors_EndToEnd compares row by row.
func TestVectors_Specifics(t *testing.T) {
	read := func(t *testing.T, file string, ddl ...string) runResult {
		res := readArchive(t, archiveOf(t, file), newTracker(t, ddl), offsets.Position{})
		if res.err != nil {
			t.Fatal(res.err)
		}
		return res
	}
	t.Run("TIME2 near its limit", func(t *testing.T) {
		res := read(t, "time_issue.000001", "CREATE DATABASE noria", "CREATE TABLE noria.t (t TIME)")
		// -507:48:27 = -(507*3600 + 48*60 + 27) s = -1828107 s, as
		// io.debezium.time.MicroTime µs.
		if got := field(envelopes(t, res.events)[0], "after", "t"); got != "-1828107000000" {
			t.Errorf("TIME %s, want -1828107000000", got)
		}
	})
	t.Run("tagged GTID (GTID_TAGGED_LOG_EVENT, 9.6.0)", func(t *testing.T) {
		res := read(t, "binlog_transaction_with_GTID_TAG.000001", "CREATE DATABASE test",
			"CREATE TABLE test.orders (id INT NOT NULL PRIMARY KEY, customer_id INT, amount DECIMAL(10,2))")
		p := envelopes(t, res.events)[0]
		src := p["source"].(map[string]any)
		if src["gtid"] != "55778904-0299-11f1-b1b8-4ef0c4956feb:mytag:3" {
			t.Errorf("source.gtid %v", src["gtid"])
		}
		// PREVIOUS_GTIDS 55778904-…:1-13:mytag:1-2 plus this transaction;
		// the file ends with a ROTATE to binlog.000005.
		want := offsets.Position{File: "binlog.000005", Pos: 4, GTIDSet: "55778904-0299-11f1-b1b8-4ef0c4956feb:1-13:mytag:1-3"}
		if res.end.File != want.File || res.end.Pos != want.Pos || res.end.GTIDSet != want.GTIDSet {
			t.Errorf("end %+v, want %+v", res.end, want)
		}
		// DECIMAL(10,2) 250.00: Connect Decimal bytes of unscaled 25000 (0x61A8).
		if got := field(p, "after", "amount"); got != `"Yag="` {
			t.Errorf("amount %s, want \"Yag=\" (unscaled 25000)", got)
		}
	})
	t.Run("PREVIOUS_GTIDS and ROTATE only", func(t *testing.T) {
		res := read(t, "binlog_transaction_previous_GTID_no_tag.000001")
		want := offsets.Position{File: "binlog.000008", Pos: 4, GTIDSet: "b9b88c66-0755-11f1-9899-4a9da94c4d71:1-2"}
		if len(res.events) != 0 || res.end.File != want.File || res.end.Pos != want.Pos || res.end.GTIDSet != want.GTIDSet {
			t.Errorf("%d events, end %+v, want none and %+v", len(res.events), res.end, want)
		}
	})
	t.Run("TRANSACTION_PAYLOAD positions", func(t *testing.T) {
		for _, f := range []struct {
			file string
			ddl  []string
		}{
			{"transaction_compression.000001", []string{"CREATE DATABASE test", "CREATE TABLE test.tb1 (id INT)"}},
			{"osheroff-mysql-bin.compressed", vectors[9].ddl},
		} {
			res := read(t, f.file, f.ddl...)
			// The payload event's start and end, from go-mysql's headers.
			var start, end uint64
			for _, ev := range rawEvents(t, f.file) {
				if ev.Header.EventType == replication.TRANSACTION_PAYLOAD_EVENT {
					start, end = uint64(ev.Header.LogPos-ev.Header.EventSize), uint64(ev.Header.LogPos)
				}
			}
			if len(res.events) == 0 {
				t.Fatalf("%s: no events", f.file)
			}
			for _, ev := range res.events {
				if ev.Source.Pos != start {
					t.Errorf("%s: source.pos %d, want the payload event's start %d (a restart replays the payload)", f.file, ev.Source.Pos, start)
				}
			}
			// The transaction's commit is inside the payload: the batch
			// holding its rows ends after the payload event.
			for _, b := range res.batches {
				if len(b.Events) > 0 && (b.End.File != f.file || b.End.Pos != end) {
					t.Errorf("%s: batch ends at %s:%d, want %d", f.file, b.End.File, b.End.Pos, end)
				}
			}
		}
	})
	t.Run("ENUM and SET members from FULL metadata", func(t *testing.T) {
		res := read(t, "mysql-enum-string-set.000001")
		p := envelopes(t, res.events)[0]
		// Index 1 of ('var1','variant2','foo'); bitmask 5 = members 1 and 3.
		if got := field(p, "after", "f3") + " " + field(p, "after", "f4"); got != `"var1" "one,three"` {
			t.Errorf("ENUM, SET = %s", got)
		}
	})
	t.Run("BIT", func(t *testing.T) {
		res := read(t, "mysql_type_bit.000001")
		p := envelopes(t, res.events)[0]
		// BIT(3) b'100' and BIT(8) 0x20: io.debezium.data.Bits, little-endian bytes.
		if got := field(p, "after", "a") + " " + field(p, "after", "c"); got != `"BA==" "IA=="` {
			t.Errorf("BIT = %s, want \"BA==\" \"IA==\"", got)
		}
	})
	t.Run("invisible columns are emitted", func(t *testing.T) {
		res := read(t, "binlog-invisible-columns.000001")
		p := envelopes(t, res.events)[0]
		// f1, f2 and f6 are INVISIBLE; the row image carries them.
		if got := field(p, "after", "f1") + " " + field(p, "after", "f2") + " " + field(p, "after", "f6"); got != "1 2 6000000000" {
			t.Errorf("invisible f1 f2 f6 = %s", got)
		}
	})
	t.Run("VECTOR", func(t *testing.T) {
		res := read(t, "vector.binlog")
		p := envelopes(t, res.events)[0]
		// cdcc8c3f cdcc0c40 33335340: the floats 1.1, 2.2, 3.3 (Float.toString).
		if got := field(p, "after", "vector_column"); got != "[1.1,2.2,3.3]" {
			t.Errorf("VECTOR = %s", got)
		}
		// The DELETE of bar's id 2 carries the vectors in its before image.
		var del map[string]any
		for i, ev := range res.events {
			if ev.Op == event.OpDelete {
				del = envelopes(t, res.events[i:i+1])[0]
			}
		}
		if del == nil || field(del, "before", "vector_column2") != "[42.0,43.0,44.0,45.0]" {
			t.Errorf("deleted vector_column2 = %v", del)
		}
	})
}

func rawEvents(t *testing.T, file string) []*replication.BinlogEvent {
	t.Helper()
	p := replication.NewBinlogParser()
	p.SetVerifyChecksum(false)
	var evs []*replication.BinlogEvent
	if err := p.ParseFile(filepath.Join(vectorDir, file), 0, func(e *replication.BinlogEvent) error {
		evs = append(evs, e)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return evs
}

// afterDDL returns the end of the last DDL statement before the file's
// first table map: a stored position from which the history, had it been
// lost, no longer holds the tables.
func afterDDL(t *testing.T, file string) uint64 {
	t.Helper()
	var pos uint64
	for _, ev := range rawEvents(t, file) {
		switch e := ev.Event.(type) {
		case *replication.TableMapEvent:
			return pos
		case *replication.QueryEvent:
			if !strings.EqualFold(strings.TrimSpace(string(e.Query)), "BEGIN") {
				pos = uint64(ev.Header.LogPos)
			}
		}
	}
	return pos
}

// TestVectors_TableWithoutDDL reads the files written with FULL row
// metadata from after their DDL, with a schema history that holds none of
// their tables:
//   - the schema tracker's first fallback builds the tables from the table maps,
//     recorded as CREATE changes (Batch.Schema) and every row decodes to the
//     values the run with the logged DDL gives;
//   - without FULL metadata (minimal_row_metadata.000001) and no server to
//     reload the table from, the stream stops naming binlog_row_metadata=FULL.
func TestVectors_TableWithoutDDL(t *testing.T) {
	for _, file := range []string{"mysql-enum-string-set.000001", "mysql_type_bit.000001", "binlog-invisible-columns.000001", "json-opaque.binlog", "vector.binlog"} {
		t.Run(file, func(t *testing.T) {
			dir := archiveOf(t, file)
			start := offsets.Position{File: file, Pos: afterDDL(t, file)}
			full := readArchive(t, dir, newTracker(t, nil), offsets.Position{})
			if full.err != nil {
				t.Fatal(full.err)
			}
			tr := newTracker(t, nil)
			res := readArchive(t, dir, tr, start)
			if file == "vector.binlog" && res.err != nil {
				// The file drops and recreates its database after the first
				// rows; DROP DATABASE of a database the history never saw
				// created must not stop the stream.
				t.Fatalf("vector.binlog: %v", res.err)
			}
			if res.err != nil {
				t.Fatal(res.err)
			}
			var creates int
			for _, b := range res.batches {
				for _, c := range b.Schema {
					if strings.Contains(c.DDL, "rebuilt at the table map") {
						creates++
					}
				}
			}
			if creates == 0 {
				t.Error("no CREATE change recorded for the built tables")
			}
			if len(res.events) != len(full.events) {
				t.Fatalf("%d events, %d with the DDL", len(res.events), len(full.events))
			}
			for i := range res.events {
				a, b := res.events[i], full.events[i]
				for c := range a.After {
					ga, gb := canonRivulet(&a.Table.Columns[c], a.After[c]), canonRivulet(&b.Table.Columns[c], b.After[c])
					if ga != gb {
						t.Errorf("event %d column %s: %q from the table map, %q from the DDL", i, a.Table.Columns[c].Name, ga, gb)
					}
				}
			}
			checkEnvelopes(t, res.events)
		})
	}
	t.Run("minimal metadata", func(t *testing.T) {
		res := readArchive(t, archiveOf(t, "minimal_row_metadata.000001"), newTracker(t, []string{"CREATE DATABASE noria"}), offsets.Position{})
		if !errors.Is(res.err, schema.ErrTableNotFound) || !strings.Contains(res.err.Error(), "binlog_row_metadata=FULL") {
			t.Fatalf("err = %v, want ErrTableNotFound naming binlog_row_metadata=FULL", res.err)
		}
	})
}
