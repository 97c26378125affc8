package snapshot

import (
	"errors"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/offsets"
	"github.com/rivulet-cdc/rivulet/schema"
)

func table(keys ...int) *schema.Table {
	return &schema.Table{DB: "db", Name: "t", PrimaryKey: keys, Columns: []schema.Column{
		{Name: "a", Type: schema.TypeInt}, {Name: "b", Type: schema.TypeVarchar}, {Name: "c", Type: schema.TypeInt},
	}}
}

func TestChunkQuery(t *testing.T) {
	tests := []struct {
		name     string
		t        *schema.Table
		base     string
		lo, hi   []any
		want     string
		wantArgs []any
	}{
		{"whole", table(0), "", nil, nil, "SELECT `a`, `b`, `c` FROM `db`.`t` ORDER BY `a` ASC", nil},
		{"first", table(0), "", nil, []any{int64(5)}, "SELECT `a`, `b`, `c` FROM `db`.`t` WHERE ((`a` <= ?)) ORDER BY `a` ASC", []any{int64(5)}},
		{"middle", table(0), "", []any{int64(5)}, []any{int64(9)},
			"SELECT `a`, `b`, `c` FROM `db`.`t` WHERE ((`a` > ?)) AND ((`a` <= ?)) ORDER BY `a` ASC", []any{int64(5), int64(9)}},
		{"composite", table(0, 1), "", []any{int64(1), "x"}, nil,
			"SELECT `a`, `b`, `c` FROM `db`.`t` WHERE ((`a` > ?) OR (`a` = ? AND `b` > ?)) ORDER BY `a` ASC, `b` ASC",
			[]any{int64(1), int64(1), "x"}},
		{"composite upper", table(0, 1), "", nil, []any{int64(1), "x"},
			"SELECT `a`, `b`, `c` FROM `db`.`t` WHERE ((`a` < ?) OR (`a` = ? AND `b` <= ?)) ORDER BY `a` ASC, `b` ASC",
			[]any{int64(1), int64(1), "x"}},
		{"override", table(0), "SELECT * FROM db.t WHERE c > 0", []any{int64(5)}, nil,
			"SELECT * FROM (SELECT * FROM db.t WHERE c > 0) AS rivulet_chunk WHERE ((`a` > ?)) ORDER BY `a` ASC", []any{int64(5)}},
		{"keyless", table(), "", nil, nil, "SELECT `a`, `b`, `c` FROM `db`.`t`", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, args := chunkQuery(tt.t, tt.base, tt.lo, tt.hi)
			if q != tt.want {
				t.Errorf("query\n got %s\nwant %s", q, tt.want)
			}
			if diff := cmp.Diff(tt.wantArgs, args); diff != "" {
				t.Errorf("args (-want +got)\n%s", diff)
			}
		})
	}
	q, args := boundQuery(table(0, 1), []any{int64(1), "x"}, 100)
	if want := "SELECT `a`, `b` FROM `db`.`t` WHERE ((`a` > ?) OR (`a` = ? AND `b` > ?)) ORDER BY `a` ASC, `b` ASC LIMIT 1 OFFSET 99"; q != want || len(args) != 3 {
		t.Errorf("boundQuery = %s %v", q, args)
	}
}

func TestProgress_RoundTrip(t *testing.T) {
	for _, p := range []Progress{
		{},
		{DB: "db", Table: "t", Done: true},
		{DB: "db", Table: "t", After: encodeKey([]any{int64(-5), uint64(math.MaxUint64), 1.5, "a\x00b", nil})},
	} {
		got, err := DecodeProgress(p.Encode())
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(p, got); diff != "" && !p.IsZero() {
			t.Errorf("round trip (-want +got)\n%s", diff)
		}
	}
	k, err := decodeKey(encodeKey([]any{int64(-5), uint64(math.MaxUint64), 1.5, "a\x00b", nil}))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]any{int64(-5), uint64(math.MaxUint64), 1.5, "a\x00b", nil}, k); diff != "" {
		t.Errorf("key (-want +got)\n%s", diff)
	}
	for _, bad := range []string{`{`, `{"db":"d","table":"t","after":["x"]}`, `{"db":"d","table":"t","after":["i:x"]}`, `{"after":["q:1"]}`} {
		if _, err := DecodeProgress(bad); !errors.Is(err, ErrProgress) {
			t.Errorf("DecodeProgress(%s) = %v, want ErrProgress", bad, err)
		}
	}
}

func TestComparePositions(t *testing.T) {
	p := func(f string, pos uint64) offsets.Position { return offsets.Position{File: f, Pos: pos} }
	tests := []struct {
		a, b offsets.Position
		want int
	}{
		{p("bin.000001", 4), p("bin.000001", 4), 0},
		{p("bin.000001", 400), p("bin.000002", 4), -1},
		{p("bin.999999", 400), p("bin.1000000", 4), -1},
		{p("bin.000003", 4), p("bin.000002", 900), 1},
		{p("bin.000002", 5), p("bin.000002", 4), 1},
	}
	for _, tt := range tests {
		if got := ComparePositions(tt.a, tt.b); got != tt.want {
			t.Errorf("ComparePositions(%v, %v) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestParseTemporal(t *testing.T) {
	tests := []struct {
		in   string
		f    func([]byte) (int64, bool, error)
		want int64
		ok   bool
	}{
		{"1970-01-01", parseDate, 0, true},
		{"2020-02-29", parseDate, 18321, true},
		{"0000-00-00", parseDate, 0, false},
		{"2020-00-15", parseDate, 0, false},
		{"2026-11-21 10:11:12.345000", parseDateTime, 1795255872345000, true},
		{"1969-12-31 23:59:59", parseDateTime, -1000000, true},
		{"0000-00-00 00:00:00", parseDateTime, 0, false},
		{"2020-01-01", parseDateTime, 18262 * usPerDay, true},
	}
	for _, tt := range tests {
		got, ok, err := tt.f([]byte(tt.in))
		if err != nil || got != tt.want || ok != tt.ok {
			t.Errorf("parse(%q) = %d, %v, %v; want %d, %v", tt.in, got, ok, err, tt.want, tt.ok)
		}
	}
	times := map[string]int64{
		"00:00:00": 0, "-838:59:59.000000": -3020399000000, "12:34:56.5": 45296500000, "01:00:00.000001": 3600000001,
	}
	for in, want := range times {
		if got, err := parseTime([]byte(in)); err != nil || got != want {
			t.Errorf("parseTime(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "12", "1:2:3", "aa:bb:cc", "12:00:00.1234567"} {
		if _, err := parseTime([]byte(bad)); !errors.Is(err, ErrValue) {
			t.Errorf("parseTime(%q) = %v, want ErrValue", bad, err)
		}
	}
}

func TestAppendKey_SignednessDoesNotMatter(t *testing.T) {
	tb := table(0, 1)
	a := AppendKey(nil, tb, []event.Value{event.Int(7), event.Bytes(event.KindString, []byte("x")), event.Int(1)})
	b := AppendKey(nil, tb, []event.Value{event.Uint(7), event.Bytes(event.KindString, []byte("x")), event.Int(2)})
	c := AppendKey(nil, tb, []event.Value{event.Int(7), event.Bytes(event.KindString, []byte("x\x00")), event.Int(1)})
	if string(a) != string(b) {
		t.Errorf("same key, different identity: %q %q", a, b)
	}
	if string(a) == string(c) {
		t.Errorf("different keys, same identity: %q", a)
	}
}

func TestConfig_Defaults(t *testing.T) {
	c, err := Config{}.withDefaults()
	if err != nil || c.ChunkSize != DefaultChunkSize || c.Threads != 1 {
		t.Fatalf("defaults = %+v, %v", c, err)
	}
	if _, err := (Config{Threads: 65}).withDefaults(); !errors.Is(err, ErrConfig) {
		t.Errorf("Threads 65: %v", err)
	}
	if _, err := (Config{ChunkSize: -1}).withDefaults(); !errors.Is(err, ErrConfig) {
		t.Errorf("ChunkSize -1: %v", err)
	}
}
