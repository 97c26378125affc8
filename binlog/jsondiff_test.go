package binlog

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/rivulet-cdc/rivulet/event"
)

// diff builds one JSON diff as Json_diff_vector::write_binary writes it.
func diff(op byte, path string, value []byte) []byte {
	b := []byte{op, byte(len(path))}
	b = append(b, path...)
	if op != jsonDiffRemove {
		b = append(b, byte(len(value)))
		b = append(b, value...)
	}
	return b
}

// Binary JSON scalars (json_binary.h): int16 and a short string.
func jInt16(v int16) []byte { return []byte{0x05, byte(v), byte(v >> 8)} }
func jStr(s string) []byte  { return append([]byte{0x0c, byte(len(s))}, s...) }

var jNull = []byte{0x04, 0x00}

// TestApplyJSONDiffs: each expected document follows MySQL's JSON_REPLACE,
// JSON_INSERT / JSON_ARRAY_INSERT and JSON_REMOVE semantics (the operations
// the diffs stand for, sql/json_diff.h), with an inserted member placed
// where MySQL's binary JSON keeps it (shorter keys first, then by bytes).
func TestApplyJSONDiffs(t *testing.T) {
	const doc = `{"a":1,"bb":[1,2,3],"c d":"x"}`
	tests := []struct {
		name  string
		diffs [][]byte
		want  string
	}{
		{"replace member", [][]byte{diff(jsonDiffReplace, "$.a", jInt16(7))}, `{"a":7,"bb":[1,2,3],"c d":"x"}`},
		{"insert member in key order", [][]byte{diff(jsonDiffInsert, "$.z", jStr("q"))}, `{"a":1,"z":"q","bb":[1,2,3],"c d":"x"}`},
		{"insert longest member last", [][]byte{diff(jsonDiffInsert, "$.long", jNull)}, `{"a":1,"bb":[1,2,3],"c d":"x","long":null}`},
		{"remove array element", [][]byte{diff(jsonDiffRemove, "$.bb[1]", nil)}, `{"a":1,"bb":[1,3],"c d":"x"}`},
		{"array insert past the end appends", [][]byte{diff(jsonDiffInsert, "$.bb[9]", jInt16(9))}, `{"a":1,"bb":[1,2,3,9],"c d":"x"}`},
		{"array insert at 0", [][]byte{diff(jsonDiffInsert, "$.bb[0]", jInt16(0))}, `{"a":1,"bb":[0,1,2,3],"c d":"x"}`},
		{"quoted member", [][]byte{diff(jsonDiffReplace, `$."c d"`, jNull)}, `{"a":1,"bb":[1,2,3],"c d":null}`},
		{"two diffs in one value", [][]byte{diff(jsonDiffReplace, "$.a", jInt16(2)), diff(jsonDiffRemove, `$."c d"`, nil)}, `{"a":2,"bb":[1,2,3]}`},
		{"replace the root", [][]byte{diff(jsonDiffReplace, "$", jStr("all"))}, `"all"`},
		{"nested replace", [][]byte{diff(jsonDiffReplace, "$.bb[2]", jStr("three"))}, `{"a":1,"bb":[1,2,"three"],"c d":"x"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d []byte
			for _, x := range tt.diffs {
				d = append(d, x...)
			}
			got, err := applyJSONDiffs(nil, []byte(doc), d)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
	for _, bad := range []struct {
		name string
		d    []byte
	}{
		{"replace a missing member", diff(jsonDiffReplace, "$.nope", jInt16(1))},
		{"insert an existing member", diff(jsonDiffInsert, "$.a", jInt16(1))},
		{"path without $", diff(jsonDiffReplace, ".a", jInt16(1))},
		{"unknown operation", append([]byte{7}, diff(jsonDiffReplace, "$.a", jInt16(1))[1:]...)},
		{"truncated", diff(jsonDiffReplace, "$.a", jInt16(1))[:5]},
		{"index on an object", diff(jsonDiffReplace, "$[0]", jInt16(1))},
	} {
		t.Run("refuses "+bad.name, func(t *testing.T) {
			if _, err := applyJSONDiffs(nil, []byte(doc), bad.d); !errors.Is(err, ErrCorruptEvent) {
				t.Errorf("err = %v, want ErrCorruptEvent", err)
			}
		})
	}
}

// rowsBodies returns the rows events of a vector file as the reader's loop
// sees them: type, columns bitmaps and body after the header.
type rawRows struct {
	typ      replication.EventType
	bm1, bm2 []byte
	body     []byte
}

func vectorRows(t *testing.T, name string) []rawRows {
	t.Helper()
	var out []rawRows
	bodies := map[*replication.RowsEvent][]byte{}
	p := replication.NewBinlogParser()
	p.SetFlavor("mysql")
	p.SetVerifyChecksum(false) // json.binlog.000001 was copied while open (README)
	p.SetRowsEventDecodeFunc(func(e *replication.RowsEvent, data []byte) error {
		n, err := e.DecodeHeader(data)
		bodies[e] = data[n:]
		return err
	})
	err := p.ParseFile("testdata/mysql8/"+name, 0, func(ev *replication.BinlogEvent) error {
		if re, ok := ev.Event.(*replication.RowsEvent); ok {
			out = append(out, rawRows{typ: ev.Header.EventType, bm1: re.ColumnBitmap1, bm2: re.ColumnBitmap2, body: bodies[re]})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestPartialJSON_RealEvent works on the PARTIAL_UPDATE_ROWS_EVENT of
// json.binlog.000001 (MySQL 8.0.22: UPDATE t SET json_col =
// JSON_REPLACE(json_col, '$.age', age+1) on six rows, binlog_row_image
// MINIMAL, so the before images hold the primary key only).
//
//   - As logged, the documents cannot be rebuilt: the event is refused, and
//     the error names binlog_row_image=FULL.
//   - The same event as a server with binlog_row_image=FULL writes it: the
//     before images are the full rows the file's preceding UPDATE left
//     (its after images, taken byte for byte), the after images gain the id
//     column (the partial JSON value, name and age bytes unchanged). The
//     rebuilt documents must equal go-mysql's reading of the preceding
//     document with go-mysql's decoded diff applied (REPLACE $.age), and the
//     other columns go-mysql's values.
func TestPartialJSON_RealEvent(t *testing.T) {
	evs := vectorEvents(t, "json.binlog.000001")
	tm := firstTableMap(t, evs, "mysql", "t")
	tbl := ddlTable(t, evs, "t")
	tbl.DB = "mysql"
	plans, err := planTable(tableMapFrom(tm), tbl, "test")
	if err != nil {
		t.Fatal(err)
	}
	dec := &rowDecoder{cols: plans}
	rows := vectorRows(t, "json.binlog.000001")
	var full, partial *rawRows
	for i := range rows {
		switch rows[i].typ {
		case replication.UPDATE_ROWS_EVENTv2:
			full = &rows[i]
		case replication.PARTIAL_UPDATE_ROWS_EVENT:
			partial = &rows[i]
		}
	}
	if full == nil || partial == nil {
		t.Fatal("json.binlog.000001 lacks its UPDATE and PARTIAL_UPDATE events")
	}

	// As logged: refused, naming the setting.
	_, _, _, err = dec.decodeRows(nil, event.OpUpdate, true, partial.bm1, partial.bm2, partial.body)
	var be *Error
	if !errors.As(err, &be) || !errors.Is(err, ErrUnsupported) || !strings.Contains(be.Hint, "binlog_row_image=FULL") {
		t.Fatalf("decode the logged event: err = %v, want ErrUnsupported naming binlog_row_image=FULL", err)
	}

	// Cut both events into row images.
	cut := func(r *rawRows, partialAfter bool) (befores, afters [][]byte) {
		data := r.body
		for len(data) > 0 {
			vals := make([]event.Value, len(plans))
			var missing bool
			n, err := dec.decodeImage(vals, data, r.bm1, &missing)
			if err != nil {
				t.Fatal(err)
			}
			befores = append(befores, data[:n])
			data = data[n:]
			skip := 0
			if partialAfter {
				// value options (1: PARTIAL_JSON), one partial bit byte,
				// then name, age and the diff: measured by hand below.
				if data[0] != 1 {
					t.Fatalf("value options %d, want PARTIAL_JSON", data[0])
				}
				skip = 2
				n = partialImageLen(t, data[skip:])
			} else {
				n, err = dec.decodeImage(make([]event.Value, len(plans)), data, r.bm2, &missing)
				if err != nil {
					t.Fatal(err)
				}
			}
			afters = append(afters, data[:skip+n])
			data = data[skip+n:]
		}
		return befores, afters
	}
	_, fullAfters := cut(full, false)
	partBefores, partAfters := cut(partial, true)
	if len(fullAfters) != 6 || len(partAfters) != 6 {
		t.Fatalf("%d full and %d partial rows, want 6 each", len(fullAfters), len(partAfters))
	}
	var body []byte
	for k := range partAfters {
		// Before: the preceding UPDATE's after image of the same row.
		body = append(body, fullAfters[k]...)
		// After: options, partial bits, a null bitmap for four columns
		// (none NULL), the id (the partial event's before image holds it:
		// null bitmap byte, then 4 bytes), then the logged values.
		pa := partAfters[k]
		if pa[2] != 0 {
			t.Fatalf("row %d: the logged after image has NULLs", k)
		}
		after := append([]byte{pa[0], pa[1], 0}, partBefores[k][1:5]...)
		body = append(body, append(after, pa[3:]...)...)
	}
	all := []byte{0x0f}
	vals, nrows, missing, err := dec.decodeRows(nil, event.OpUpdate, true, all, all, body)
	if err != nil {
		t.Fatalf("decode the event with full before images: %v", err)
	}
	if nrows != 6 || missing {
		t.Fatalf("%d rows (missing=%v), want 6 full rows", nrows, missing)
	}

	// The reference: go-mysql's reading of both events.
	var ref [][]any
	var refPartial [][]any
	for _, ev := range evs {
		if re, ok := ev.Event.(*replication.RowsEvent); ok {
			switch ev.Header.EventType {
			case replication.UPDATE_ROWS_EVENTv2:
				ref = re.Rows
			case replication.PARTIAL_UPDATE_ROWS_EVENT:
				refPartial = re.Rows
			}
		}
	}
	for k := 0; k < 6; k++ {
		prevDoc := ref[2*k+1][1]
		d, ok := refPartial[2*k+1][1].(*replication.JsonDiff)
		if !ok || d.Op != replication.JsonDiffOperationReplace || d.Path != "$.age" {
			t.Fatalf("row %d: go-mysql reads diff %v, want a REPLACE of $.age", k, refPartial[2*k+1][1])
		}
		var doc map[string]any
		if err := json.Unmarshal([]byte(prevDoc.(string)), &doc); err != nil {
			t.Fatal(err)
		}
		var age any
		if err := json.Unmarshal([]byte(d.Value), &age); err != nil {
			t.Fatal(err)
		}
		doc["age"] = age
		want, _ := json.Marshal(doc) // sorted keys; MySQL's key order agrees here (age, data, name)
		after := vals[(2*k+1)*4 : (2*k+2)*4]
		if got := string(after[1].B); got != string(want) {
			t.Errorf("row %d: rebuilt %s, want %s", k, got, want)
		}
		if got, want := after[0].I, int64(ref[2*k+1][0].(int32)); got != want {
			t.Errorf("row %d: id %d, go-mysql %d", k, got, want)
		}
		if got, want := string(after[2].B), refPartial[2*k+1][2].(string); got != want {
			t.Errorf("row %d: name %q, go-mysql %q", k, got, want)
		}
		if got, want := after[3].I, int64(refPartial[2*k+1][3].(int32)); got != want {
			t.Errorf("row %d: age %d, go-mysql %d", k, got, want)
		}
	}
	if got := string(vals[4+1].B); got != `{"age":26,"data":"xxxxxxxxxx","name":"Joe"}` {
		t.Errorf("first row's document %s", got)
	}
}

// partialImageLen measures a logged after image of table t (columns
// json_col, name, age present): a null bitmap byte, the JSON value with its
// 4-byte length, VARCHAR(100) utf8mb4 with a 2-byte length (400 bytes
// max), INT.
func partialImageLen(t *testing.T, b []byte) int {
	t.Helper()
	n := 1
	jl := int(b[n]) | int(b[n+1])<<8 | int(b[n+2])<<16 | int(b[n+3])<<24
	n += 4 + jl
	nl := int(b[n]) | int(b[n+1])<<8
	n += 2 + nl + 4
	if n > len(b) {
		t.Fatalf("after image of %d bytes, measured %d", len(b), n)
	}
	return n
}

// FuzzApplyJSONDiffs: no input panics; every error wraps ErrCorruptEvent;
// what comes out is valid JSON.
func FuzzApplyJSONDiffs(f *testing.F) {
	const doc = `{"a":1,"bb":[1,2,3],"c d":"x"}`
	seeds := [][]byte{
		diff(jsonDiffReplace, "$.a", jInt16(7)),
		diff(jsonDiffInsert, "$.z", jStr("q")),
		diff(jsonDiffRemove, "$.bb[1]", nil),
		diff(jsonDiffInsert, "$.bb[9]", jInt16(9)),
		diff(jsonDiffReplace, `$."c d"`, jNull),
		diff(jsonDiffReplace, "$", jStr("all")),
	}
	for _, s := range seeds {
		f.Add([]byte(doc), s)
		f.Add([]byte(doc), s[:len(s)/2])
	}
	f.Add([]byte(`[1,{"x":[]}]`), diff(jsonDiffReplace, "$[1].x", jNull))
	f.Fuzz(func(t *testing.T, before, d []byte) {
		out, err := applyJSONDiffs(nil, before, d)
		if err != nil {
			if !errors.Is(err, ErrCorruptEvent) {
				t.Fatalf("error %v wraps no sentinel", err)
			}
			return
		}
		if json.Valid(before) && !json.Valid(out) {
			t.Fatalf("valid %s became invalid %s", before, out)
		}
	})
}
