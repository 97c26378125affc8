package offsets

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestKey(t *testing.T) {
	tests := []struct {
		name, connector, prefix, want string
	}{
		{"debezium sample", "inventory-connector", "dbserver1", `["inventory-connector",{"server":"dbserver1"}]`},
		{"empty", "", "", `["",{"server":""}]`},
		{"quote and backslash", `a"b\c`, "p", `["a\"b\\c",{"server":"p"}]`},
		{"short escapes", "\b\t\n\f\r", "p", `["\b\t\n\f\r",{"server":"p"}]`},
		{"other controls upper-case hex", "\x00\x01\x1f", "p", `["\u0000\u0001\u001F",{"server":"p"}]`},
		{"html and slash raw as Jackson", "<a&b>/", "p", `["<a&b>/",{"server":"p"}]`},
		{"del and unicode raw", "\x7fcafé ☃ \u2028", "p", "[\"\x7fcafé ☃ \u2028\",{\"server\":\"p\"}]"},
		{"invalid utf-8", "a\xffb", "p", "[\"a\uFFFDb\",{\"server\":\"p\"}]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Key(tt.connector, tt.prefix)
			if string(got) != tt.want {
				t.Errorf("Key = %s, want %s", got, tt.want)
			}
			if !json.Valid(got) {
				t.Errorf("Key is not valid JSON: %s", got)
			}
			if app := AppendKey([]byte("x"), tt.connector, tt.prefix); string(app) != "x"+tt.want {
				t.Errorf("AppendKey = %s", app)
			}
		})
	}
}

// Samples from DEBEZIUM-REFERENCE §4.2, as Debezium writes them.
var debeziumSamples = []struct {
	name  string
	value string
	pos   Position
}{
	{"mid-transaction", `{"ts_sec":1700000100,"file":"mysql-bin.000003","pos":1547,"row":1,"server_id":223344,"event":2}`,
		Position{TsSec: 1700000100, File: "mysql-bin.000003", Pos: 1547, Row: 1, ServerID: 223344, Event: 2}},
	{"gtid", `{"ts_sec":1700000100,"file":"mysql-bin.000003","pos":1547,"gtids":"3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5","server_id":223344}`,
		Position{TsSec: 1700000100, File: "mysql-bin.000003", Pos: 1547, GTIDSet: "3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5", ServerID: 223344}},
	{"snapshot", `{"ts_sec":1700000000,"file":"mysql-bin.000003","pos":157,"snapshot":"INITIAL"}`,
		Position{TsSec: 1700000000, File: "mysql-bin.000003", Pos: 157, Snapshot: "INITIAL"}},
}

func TestMarshalValue_DebeziumSamples(t *testing.T) {
	for _, s := range debeziumSamples {
		t.Run(s.name, func(t *testing.T) {
			if got := MarshalValue(s.pos); string(got) != s.value {
				t.Errorf("MarshalValue = %s\nwant           %s", got, s.value)
			}
		})
	}
}

func TestMarshalValue(t *testing.T) {
	tests := []struct {
		name string
		p    Position
		want string
	}{
		{"file and pos always", Position{File: "f", Pos: 0}, `{"file":"f","pos":0}`},
		{"all", Position{TsSec: 1, File: "f", Pos: 2, GTIDSet: "0-1-9", Row: 3, ServerID: 4, Event: 5, Snapshot: "BLOCKING"},
			`{"ts_sec":1,"file":"f","pos":2,"gtids":"0-1-9","row":3,"server_id":4,"event":5,"snapshot":"BLOCKING"}`},
		{"max values", Position{File: "f", Pos: 1<<64 - 1, ServerID: 1<<32 - 1, Event: 1<<63 - 1, Row: 1<<31 - 1},
			`{"file":"f","pos":18446744073709551615,"row":2147483647,"server_id":4294967295,"event":9223372036854775807}`},
		{"escaped", Position{File: "a\"b", Pos: 4}, `{"file":"a\"b","pos":4}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MarshalValue(tt.p); string(got) != tt.want {
				t.Errorf("MarshalValue = %s\nwant           %s", got, tt.want)
			}
		})
	}
}

func TestUnmarshalValue(t *testing.T) {
	for _, s := range debeziumSamples {
		t.Run(s.name, func(t *testing.T) {
			got, err := UnmarshalValue([]byte(s.value))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(s.pos, got); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
	tests := []struct {
		name, value string
		want        Position
	}{
		{"boolean snapshot (before 3.0.2)", `{"file":"f","pos":4,"snapshot":true}`, Position{File: "f", Pos: 4, Snapshot: "INITIAL"}},
		{"string true snapshot", `{"file":"f","pos":4,"snapshot":"true"}`, Position{File: "f", Pos: 4, Snapshot: "INITIAL"}},
		{"false snapshot", `{"file":"f","pos":4,"snapshot":false}`, Position{File: "f", Pos: 4}},
		{"null snapshot", `{"file":"f","pos":4,"snapshot":null}`, Position{File: "f", Pos: 4}},
		{"snapshot completed", `{"file":"f","pos":4,"snapshot":true,"snapshot_completed":true}`, Position{File: "f", Pos: 4}},
		{"snapshot not completed", `{"file":"f","pos":4,"snapshot":"INITIAL","snapshot_completed":false}`, Position{File: "f", Pos: 4, Snapshot: "INITIAL"}},
		{"numbers as strings", `{"file":"f","pos":"1547","event":"2","row":"1","server_id":"7","ts_sec":"-5"}`,
			Position{File: "f", Pos: 1547, Event: 2, Row: 1, ServerID: 7, TsSec: -5}},
		{"gtid newlines dropped", "{\"file\":\"f\",\"pos\":4,\"gtids\":\"a:1-5,\\nb:1-3\"}", Position{File: "f", Pos: 4, GTIDSet: "a:1-5,b:1-3"}},
		{"mariadb gtids", `{"file":"mariadb-bin.000001","pos":330,"gtids":"0-1-42,1-2-7"}`, Position{File: "mariadb-bin.000001", Pos: 330, GTIDSet: "0-1-42,1-2-7"}},
		{"nulls", `{"file":"f","pos":null,"gtids":null,"row":null}`, Position{File: "f"}},
		{"other keys ignored", `{"file":"f","pos":4,"transaction_id":"x","transaction_data_collection_order_db.t":3,"incremental_snapshot_primary_key":"aced"}`,
			Position{File: "f", Pos: 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := UnmarshalValue([]byte(tt.value))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

func TestUnmarshalValue_Errors(t *testing.T) {
	tests := []struct {
		name, value, want string
	}{
		{"not json", `{"file":`, "corrupt offsets: offset value is not a JSON object: unexpected end of JSON input"},
		{"array", `["f",4]`, "corrupt offsets: offset value is not a JSON object: json: cannot unmarshal array into Go value of type map[string]json.RawMessage"},
		{"null", `null`, "corrupt offsets: offset value is null"},
		{"no file", `{"pos":4}`, `corrupt offsets: offset value has no "file"`},
		{"empty file", `{"file":"","pos":4}`, `corrupt offsets: offset value has no "file"`},
		{"file not a string", `{"file":3,"pos":4}`, `corrupt offsets: offset value "file" is not a string: "3"`},
		{"negative pos", `{"file":"f","pos":-1}`, `corrupt offsets: offset value "pos" is not an integer 0-18446744073709551615: "-1"`},
		{"float pos", `{"file":"f","pos":4.5}`, `corrupt offsets: offset value "pos" is not an integer 0-18446744073709551615: "4.5"`},
		{"pos text", `{"file":"f","pos":"abc"}`, `corrupt offsets: offset value "pos" is not an integer 0-18446744073709551615: "abc"`},
		{"pos object", `{"file":"f","pos":{}}`, `corrupt offsets: offset value "pos" is not an integer 0-18446744073709551615: "{}"`},
		{"server id too big", `{"file":"f","pos":4,"server_id":4294967296}`, `corrupt offsets: offset value "server_id" is not an integer 0-4294967295: "4294967296"`},
		{"row too big", `{"file":"f","pos":4,"row":2147483648}`, `corrupt offsets: offset value "row" is not an integer 0-2147483647: "2147483648"`},
		{"negative event", `{"file":"f","pos":4,"event":-2}`, `corrupt offsets: offset value "event" is not an integer 0-9223372036854775807: "-2"`},
		{"ts_sec text", `{"file":"f","pos":4,"ts_sec":"soon"}`, `corrupt offsets: offset value "ts_sec" is not an integer: "soon"`},
		{"snapshot number", `{"file":"f","pos":4,"snapshot":1}`, `corrupt offsets: offset value "snapshot" is not a string: "1"`},
		{"gtids number", `{"file":"f","pos":4,"gtids":1}`, `corrupt offsets: offset value "gtids" is not a string: "1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := UnmarshalValue([]byte(tt.value))
			if err == nil || err.Error() != tt.want {
				t.Fatalf("err = %v\nwant  %s", err, tt.want)
			}
			if !errors.Is(err, ErrCorrupt) {
				t.Errorf("error does not match ErrCorrupt")
			}
		})
	}
}

func TestValue_RoundTrip(t *testing.T) {
	positions := []Position{
		{File: "mysql-bin.000001", Pos: 4},
		{TsSec: 1700000100, File: "mysql-bin.000003", Pos: 1547, GTIDSet: "3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5,4F11FA47-71CA-11E1-9E33-C80AA9429562:1", Row: 7, ServerID: 1, Event: 12},
		{File: "bin.000002", Pos: 1<<64 - 1, ServerID: 1<<32 - 1, Event: 1<<63 - 1, Row: 1<<31 - 1, TsSec: -1},
		{File: "f\n\"☃", Pos: 9, Snapshot: "BLOCKING"},
	}
	for _, p := range positions {
		got, err := UnmarshalValue(MarshalValue(p))
		if err != nil {
			t.Fatalf("%v: %v", p, err)
		}
		if diff := cmp.Diff(p, got); diff != "" {
			t.Errorf("round trip (-want +got)\n%s", diff)
		}
	}
}

func TestPosition_String(t *testing.T) {
	tests := []struct {
		p    Position
		want string
	}{
		{Position{}, "none"},
		{Position{File: "mysql-bin.000003", Pos: 1547}, "mysql-bin.000003:1547"},
		{Position{File: "mysql-bin.000003", Pos: 1547, GTIDSet: "u:1-5", Event: 2, Row: 1, ServerID: 9, TsSec: 5},
			"mysql-bin.000003:1547 gtids=u:1-5 event=2 row=1"},
		{Position{GTIDSet: "0-1-5"}, "gtids=0-1-5"},
		{Position{File: "f", Pos: 157, Snapshot: "INITIAL"}, "f:157 snapshot=INITIAL"},
	}
	for _, tt := range tests {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

func FuzzUnmarshalValue(f *testing.F) {
	for _, s := range debeziumSamples {
		f.Add([]byte(s.value))
		f.Add([]byte(s.value[:len(s.value)/2]))
	}
	for _, s := range []string{
		`{"file":"f","pos":"12","snapshot":true}`, `{"file":"f","pos":4,"snapshot_completed":true}`,
		`{"file":"f","pos":-1}`, `null`, `[]`, `{"file":"","pos":0}`, `{"file":"f","gtids":"a\nb","row":"3"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := UnmarshalValue(data)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error does not match ErrCorrupt: %v", err)
			}
			return
		}
		enc := MarshalValue(p)
		if !json.Valid(enc) {
			t.Fatalf("MarshalValue(%+v) is not JSON: %s", p, enc)
		}
		back, err := UnmarshalValue(enc)
		if err != nil {
			t.Fatalf("UnmarshalValue(MarshalValue(%+v)) = %v", p, err)
		}
		if back != p {
			t.Fatalf("round trip: %+v != %+v (via %s)", back, p, enc)
		}
		if p.File == "" || strings.ContainsAny(p.GTIDSet, "\r\n") {
			t.Fatalf("accepted %+v", p)
		}
	})
}

func TestAppendValue_NoAllocs(t *testing.T) {
	p := debeziumSamples[1].pos
	buf := make([]byte, 0, 512)
	if n := testing.AllocsPerRun(100, func() {
		buf = AppendValue(buf[:0], p)
		buf = AppendKey(buf, "inventory-connector", "dbserver1")
	}); n != 0 {
		t.Errorf("AppendValue+AppendKey allocate %v times, want 0", n)
	}
}

func BenchmarkMarshalValue(b *testing.B) {
	p := debeziumSamples[1].pos
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendValue(buf[:0], p)
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkUnmarshalValue(b *testing.B) {
	data := []byte(debeziumSamples[1].value)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := UnmarshalValue(data); err != nil {
			b.Fatal(err)
		}
	}
}

func TestMarshalValue_SnapshotProgress(t *testing.T) {
	p := Position{File: "mysql-bin.000003", Pos: 154, Snapshot: "INITIAL", SnapshotProgress: `{"t":"db.a","k":["i:5"]}`}
	b := MarshalValue(p)
	want := `{"file":"mysql-bin.000003","pos":154,"snapshot":"INITIAL","rivulet_snapshot":"{\"t\":\"db.a\",\"k\":[\"i:5\"]}"}`
	if string(b) != want {
		t.Fatalf("MarshalValue = %s, want %s", b, want)
	}
	got, err := UnmarshalValue(b)
	if err != nil {
		t.Fatal(err)
	}
	if got != p {
		t.Fatalf("round trip = %+v, want %+v", got, p)
	}
	// A finished snapshot drops any leftover progress.
	got, err = UnmarshalValue([]byte(`{"file":"f","pos":4,"rivulet_snapshot":"x"}`))
	if err != nil || got.SnapshotProgress != "" {
		t.Fatalf("progress without snapshot = %+v, %v", got, err)
	}
}
