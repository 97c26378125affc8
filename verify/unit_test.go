package verify

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/rivulet-cdc/rivulet/schema"
)

func TestJSONCodec_Decode(t *testing.T) {
	env := `{"before":null,"after":{"id":1,"s":"a"},"source":{},"op":"%s","ts_ms":1}`
	wrap := func(p string) string { return `{"schema":{"type":"struct"},"payload":` + p + `}` }
	for _, tc := range []struct {
		name          string
		codec         JSONCodec
		key, value    string
		nilValue      bool
		wantOp        byte
		wantKey       string
		wantAfter     string
		wantErrSubstr string
	}{
		{name: "read", key: `{"id":1}`, value: strings.Replace(env, "%s", "r", 1), wantOp: 'r', wantKey: `{"id":1}`, wantAfter: `{"id":1,"s":"a"}`},
		{name: "update", key: `{"id":1}`, value: strings.Replace(env, "%s", "u", 1), wantOp: 'u', wantKey: `{"id":1}`, wantAfter: `{"id":1,"s":"a"}`},
		{name: "delete", key: `{"id":1}`, value: `{"before":{"id":1},"after":null,"op":"d"}`, wantOp: 'd', wantKey: `{"id":1}`},
		{name: "tombstone", key: `{"id":1}`, nilValue: true, wantOp: 0, wantKey: `{"id":1}`},
		{name: "truncate", value: `{"before":null,"after":null,"op":"t"}`, wantOp: 't'},
		{name: "schemas", codec: JSONCodec{KeySchemas: true, ValueSchemas: true}, key: wrap(`{"id":1}`),
			value: wrap(strings.Replace(env, "%s", "c", 1)), wantOp: 'c', wantKey: `{"id":1}`, wantAfter: `{"id":1,"s":"a"}`},
		{name: "schemas tombstone", codec: JSONCodec{KeySchemas: true, ValueSchemas: true}, key: wrap(`{"id":1}`), nilValue: true, wantKey: `{"id":1}`},
		{name: "flattened", key: `{"id":1}`, value: `{"id":1,"s":"a"}`, wantOp: 'r', wantKey: `{"id":1}`, wantAfter: `{"id":1,"s":"a"}`},
		{name: "flattened added fields", key: `{"id":1}`, value: `{"id":1,"__op":"u","s":"a","__deleted":"false"}`, wantOp: 'r', wantKey: `{"id":1}`, wantAfter: `{"id":1,"s":"a"}`},
		{name: "flattened delete", key: `{"id":1}`, value: `{"id":1,"s":"a","__deleted":"true"}`, wantOp: 'd', wantKey: `{"id":1}`},
		{name: "schemas expected", codec: JSONCodec{ValueSchemas: true}, key: `{"id":1}`, value: `[1]`, wantErrSubstr: "value.converter.schemas.enable=true"},
		{name: "not json", key: `{"id":1}`, value: `x`, wantErrSubstr: "not a well-formed JSON object"},
		{name: "truncated", key: `{"id":1}`, value: `{"after":{"id":1,"s":"a"},"op":"c"`, wantErrSubstr: "well-formed"},
		{name: "nested strings with braces", key: `{"id":1}`, value: `{"after":{"id":1,"s":"}{\"]"},"op":"u","x":[1,{"y":"]"}]}`, wantOp: 'u', wantKey: `{"id":1}`, wantAfter: `{"id":1,"s":"}{\"]"}`},
		{name: "create without after", key: `{"id":1}`, value: `{"after":null,"op":"c"}`, wantErrSubstr: "without after"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var value []byte
			if !tc.nilValue {
				value = []byte(tc.value)
			}
			var key []byte
			if tc.key != "" {
				key = []byte(tc.key)
			}
			c, err := tc.codec.Decode(context.Background(), key, value)
			if tc.wantErrSubstr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErrSubstr) || !errors.Is(err, ErrRecord) {
					t.Fatalf("err = %v, want ErrRecord containing %q", err, tc.wantErrSubstr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Op != tc.wantOp || string(c.Key) != tc.wantKey || string(c.After) != tc.wantAfter {
				t.Errorf("got op %q key %s after %s, want %q %s %s", c.Op, c.Key, c.After, tc.wantOp, tc.wantKey, tc.wantAfter)
			}
		})
	}
}

func TestColumns(t *testing.T) {
	got := Columns([]byte(`{"id":1,"n":2,"s":"a","x":1.0}`), []byte(`{"id":1,"n":3,"s":"a","x":1.0,"y":null}`))
	if diff := cmp.Diff([]string{"n", "y"}, got); diff != "" {
		t.Errorf("Columns (-want +got):\n%s", diff)
	}
	if got := Columns([]byte(`{"a":1}`), []byte(`[1]`)); got != nil {
		t.Errorf("Columns of a non-object = %v, want nil", got)
	}
}

func keyTable(key ...schema.Column) *schema.Table {
	t := &schema.Table{DB: "d", Name: "t"}
	for i, c := range key {
		t.Columns = append(t.Columns, c)
		t.PrimaryKey = append(t.PrimaryKey, i)
	}
	t.Columns = append(t.Columns, schema.Column{Name: "v", Type: schema.TypeInt})
	return t
}

func TestKeyCondition(t *testing.T) {
	intStr := keyTable(schema.Column{Name: "id", Type: schema.TypeBigInt}, schema.Column{Name: "name", Type: schema.TypeVarchar})
	bin := keyTable(schema.Column{Name: "b", Type: schema.TypeBinary})
	dec := keyTable(schema.Column{Name: "d", Type: schema.TypeDecimal, TypeName: "DECIMAL"})
	msgKey := keyTable(schema.Column{Name: "id", Type: schema.TypeInt})
	msgKey.MessageKey = []int{1}
	for _, tc := range []struct {
		name    string
		t       *schema.Table
		key     string
		want    string
		wantErr error
	}{
		{"int and string", intStr, `{"id":-5,"name":"o'k"}`, "(`id` = -5 AND `name` = _utf8mb4 X'6f276b')", nil},
		{"plain string", intStr, `{"id":12345678901234567,"name":"abc"}`, "(`id` = 12345678901234567 AND `name` = 'abc')", nil},
		{"null", intStr, `{"id":1,"name":null}`, "(`id` = 1 AND `name` IS NULL)", nil},
		{"binary", bin, `{"b":"AQL/"}`, "(`b` = X'0102ff')", nil},
		{"message.key.columns", msgKey, `{"v":7}`, "(`v` = 7)", nil},
		{"decimal", dec, `{"d":"AQ=="}`, "", ErrKeyType},
		{"missing field", intStr, `{"id":1}`, "", ErrRecord},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := KeyCondition(tc.t, []byte(tc.key))
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("KeyCondition = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestResult_RepairCondition(t *testing.T) {
	tbl := keyTable(schema.Column{Name: "id", Type: schema.TypeInt})
	keys := func(ids ...string) []Diff {
		var out []Diff
		for _, id := range ids {
			out = append(out, Diff{Key: `{"id":` + id + `}`})
		}
		return out
	}
	r := &Result{Missing: keys("5", "1", "2", "3"), Differ: keys("100", "-7")}
	got, ok, err := r.RepairCondition(tbl, 1000)
	if err != nil || !ok || got != "`id` IN (-7,1,2,3,5,100)" {
		t.Errorf("RepairCondition = %q, %v, %v", got, ok, err)
	}
	// Too long for the signal: neighbours merge into ranges that fit.
	long := &Result{Missing: keys("1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "1000", "1003")}
	if got, _, err := long.RepairCondition(tbl, 44); err != nil || got != "`id` BETWEEN 1 AND 13 OR `id` IN (1000,1003)" {
		t.Errorf("RepairCondition(44) = %q (%d bytes), %v", got, len(got), err)
	}
	if got, _, err := long.RepairCondition(tbl, 30); err != nil || got != "`id` BETWEEN 1 AND 1003" {
		t.Errorf("RepairCondition(30) = %q (%d bytes), %v", got, len(got), err)
	}
	if got, _, err := long.RepairCondition(tbl, 20); err == nil {
		t.Errorf("RepairCondition(20) = %q, want an error (nothing fits)", got)
	}
	if _, ok, _ := (&Result{Extra: keys("1")}).RepairCondition(tbl, 100); ok {
		t.Error("only extra keys need no snapshot")
	}
	str := keyTable(schema.Column{Name: "s", Type: schema.TypeVarchar})
	rs := &Result{Missing: []Diff{{Key: `{"s":"a"}`}, {Key: `{"s":"b"}`}}}
	if got, _, err := rs.RepairCondition(str, 100); err != nil || got != "(`s` = 'a') OR (`s` = 'b')" {
		t.Errorf("string keys: %q, %v", got, err)
	}
	if _, _, err := rs.RepairCondition(str, 10); err == nil || !strings.Contains(err.Error(), "execute-snapshot") {
		t.Errorf("too long: err = %v, want the whole-table fix", err)
	}
}

// FuzzEachField: no panic on any input; on a valid JSON object every
// member value it returns is valid JSON and the members are those
// encoding/json sees, in order.
func FuzzEachField(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1}`, `{"after":{"id":1,"s":"}{\"]"},"op":"u"}`, string(benchValue),
		`{"a":[1,{"b":"]"}],"c":null,"d":true,"e":-1.5e3}`, `{"a":`, `{"a":"\`, `[1]`, ` { "a" : "b" } `} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var keys []string
		err := eachField(b, func(k, v []byte) bool {
			keys = append(keys, string(k))
			if json.Valid(b) && !json.Valid(v) {
				t.Errorf("member %s of a valid object has invalid value %q", k, v)
			}
			return true
		})
		var m map[string]json.RawMessage
		if json.Unmarshal(b, &m) != nil {
			return
		}
		if err != nil {
			t.Fatalf("valid object %q: %v", b, err)
		}
		for _, k := range keys {
			if !strings.Contains(k, `\`) && utf8.ValidString(k) { // encoding/json decodes those
				if _, ok := m[k]; !ok {
					t.Errorf("member %q not seen by encoding/json in %q", k, b)
				}
			}
		}
	})
}
