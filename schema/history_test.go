package schema

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rivulet-cdc/rivulet/internal/testenv"
)

// recordChanges applies stmts and returns the changes.
func recordChanges(t *testing.T, tr *Tracker, stmts ...string) []*Change {
	t.Helper()
	var out []*Change
	for _, s := range stmts {
		c, err := tr.ApplyDDL(t.Context(), DDL{DB: "app", SQL: s, Pos: "test"})
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		if c != nil {
			out = append(out, c)
		}
	}
	return out
}

var historyStmts = []string{
	"CREATE DATABASE other CHARACTER SET latin1",
	"CREATE TABLE t (id INT UNSIGNED NOT NULL AUTO_INCREMENT, a VARCHAR(10) DEFAULT 'x' COMMENT 'c', e ENUM('p','q'), d DECIMAL(8,3), ts DATETIME(3), j JSON, b BLOB, PRIMARY KEY (id), UNIQUE KEY ua (a))",
	"CREATE TABLE nopk (x INT NOT NULL, UNIQUE KEY ux (x))",
	"CREATE TABLE other.o (s VARCHAR(3))",
	"ALTER TABLE t ADD COLUMN z INT FIRST",
	"RENAME TABLE nopk TO nopk2",
	"DROP TABLE other.o",
}

func TestHistoryRecord_RoundTrip(t *testing.T) {
	tr := newTestTracker(t)
	for _, c := range recordChanges(t, tr, historyStmts...) {
		data, err := MarshalRecord(HistoryRecord{Server: "srv", Position: json.RawMessage(`{"file":"b.1","pos":4}`), TsMs: 7, Change: c})
		if err != nil {
			t.Fatal(err)
		}
		r, err := UnmarshalRecord(data)
		if err != nil {
			t.Fatalf("%s: %v", data, err)
		}
		if r.Server != "srv" || string(r.Position) != `{"file":"b.1","pos":4}` || r.TsMs != 7 || r.Change.DDL != c.DDL {
			t.Errorf("record header = %+v", r)
		}
		for i, tc := range c.Tables {
			got := r.Change.Tables[i]
			if got.Type != tc.Type || got.ID != tc.ID || got.PreviousID != tc.PreviousID {
				t.Errorf("change %d = %+v, want %+v", i, got, tc)
			}
			if diff := cmp.Diff(tc.Def.Table, got.Def.Table); diff != "" {
				t.Errorf("%s: table (-want +got):\n%s", c.DDL, diff)
			}
		}
	}
}

func TestTracker_Recover(t *testing.T) {
	for _, store := range []struct {
		name string
		new  func(t *testing.T) HistoryStore
	}{
		{"file", func(t *testing.T) HistoryStore { return NewFileHistory(filepath.Join(t.TempDir(), "h", "history.dat")) }},
		{"kafka", func(t *testing.T) HistoryStore {
			h, err := NewKafkaHistory(KafkaHistoryConfig{Brokers: testenv.Kafka(t), Topic: "schema-history"})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = h.Close() })
			return h
		}},
		{"apache-kafka", func(t *testing.T) HistoryStore {
			h, err := NewKafkaHistory(KafkaHistoryConfig{Brokers: testenv.ApacheKafka(t).Brokers(), Topic: testenv.TopicPrefix(t) + ".history"})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = h.Close() })
			return h
		}},
	} {
		t.Run(store.name, func(t *testing.T) {
			h := store.new(t)
			if ok, err := h.Exists(t.Context()); ok || err != nil {
				t.Fatalf("Exists on an empty history = %v, %v", ok, err)
			}
			tr := newTestTracker(t)
			var recs [][]byte
			for i, c := range recordChanges(t, tr, historyStmts...) {
				data, err := MarshalRecord(HistoryRecord{Server: "srv", Position: json.RawMessage(`{"pos":` + string(rune('0'+i)) + `}`), Change: c})
				if err != nil {
					t.Fatal(err)
				}
				recs = append(recs, data)
			}
			// A record of another connector is ignored.
			foreign, _ := MarshalRecord(HistoryRecord{Server: "other", Change: &Change{DDL: "DROP TABLE t", Tables: []TableChange{{Type: ChangeDrop, ID: TableID{"app", "t"}}}}})
			recs = append(recs, foreign)
			if err := h.Append(t.Context(), recs[:3]); err != nil {
				t.Fatal(err)
			}
			if err := h.Append(t.Context(), recs[3:]); err != nil {
				t.Fatal(err)
			}

			// Up to position 4 (the ALTER, index 4): the rename and drop are not applied.
			got := NewTracker(TrackerConfig{MariaDB: true})
			n, err := got.Recover(t.Context(), h, "srv", func(p json.RawMessage) (bool, error) {
				var v struct{ Pos int }
				err := json.Unmarshal(p, &v)
				return v.Pos <= 4, err
			})
			if err != nil || n != 5 {
				t.Fatalf("Recover = %d, %v; want 5 records", n, err)
			}
			if got.Def("app", "nopk") == nil || got.Def("other", "o") == nil || got.Databases()["other"] != "latin1" {
				t.Errorf("model after partial recovery: tables %d, dbs %v", len(got.Tables()), got.Databases())
			}
			tw, _ := got.Table(t.Context(), "app", "t")
			if tw == nil || tw.Columns[0].Name != "z" {
				t.Errorf("t after recovery = %+v", tw)
			}
			// Everything: matches the live model.
			all := NewTracker(TrackerConfig{MariaDB: true})
			if _, err := all.Recover(t.Context(), h, "srv", func(json.RawMessage) (bool, error) { return true, nil }); err != nil {
				t.Fatal(err)
			}
			var want, have []*Table
			for _, d := range tr.Tables() {
				want = append(want, d.Table)
			}
			for _, d := range all.Tables() {
				have = append(have, d.Table)
			}
			if diff := cmp.Diff(want, have); diff != "" {
				t.Errorf("recovered model (-live +recovered):\n%s", diff)
			}
		})
	}
}

func TestUnmarshalRecord_Damaged(t *testing.T) {
	for _, in := range []string{`{`, `{"tableChanges":[{"type":"ALTER","id":"\"a\".\"b\""}]}`, `{"tableChanges":[{"type":"X","id":"\"a\".\"b\""}]}`, `{"tableChanges":[{"type":"DROP","id":"ab"}]}`} {
		if _, err := UnmarshalRecord([]byte(in)); !errors.Is(err, ErrHistory) {
			t.Errorf("UnmarshalRecord(%s) = %v, want ErrHistory", in, err)
		}
	}
}
