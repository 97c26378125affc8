package debeziumjson

import (
	"testing"

	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/schema"
	"github.com/rivulet-cdc/rivulet/sink"
)

// TestColumnMask_HashVectors checks the digests against Debezium's
// MaskStringsTest (debezium-connector-common, io/debezium/relational/mapping).
func TestColumnMask_HashVectors(t *testing.T) {
	cases := []struct {
		kind      sink.ColumnMapperKind
		alg, in   string
		wantHexes string
	}{
		{sink.ColumnMaskHash, "SHA-256", "hello", "af5843a0f0e728ab0332c8888b6e1190bfb79e584f0d40538de8f10df6ef29c6"},
		{sink.ColumnMaskHash, "SHA-256", "world", "4588e1f2dcdc7fefc1515d3acd5acb9033478eace68286f383c337b9ff4464a3"},
		{sink.ColumnMaskHash, "MD5", "hello", "46f48a7a5ea32efba87cbff49d46d35a"},
		{sink.ColumnMaskHash, "md5", "world", "030f632140d9c9591b0d8c21098024b8"},
		{sink.ColumnMaskHashV2, "SHA-256", "hello", "cd31b3b98ece60cb739c0bf770b2de892ae0ad133f645513c3d83f08757a843a"},
		{sink.ColumnMaskHashV2, "SHA-256", "world", "e84ac3142870113ddc6710c06f76421befc8e8ca6de64e98d2993ed8d41f4085"},
		{sink.ColumnMaskHashV2, "MD5", "hello", "06decc8b095724f80103712c235586be"},
		{sink.ColumnMaskHashV2, "MD5", "world", "172c8e95398cc72ab5358ead6981e7e5"},
	}
	for _, tc := range cases {
		rules, err := compileColumnRules([]sink.ColumnMapperConfig{{Kind: tc.kind, Columns: []string{".*"}, Algorithm: tc.alg, Salt: "salt"}})
		if err != nil {
			t.Fatal(err)
		}
		col := schema.Column{Name: "col", Type: schema.TypeVarchar} // no length: digest not cut
		pl, err := sink.NewPlanner(sink.DefaultJSONConfig("dbserver1"))
		if err != nil {
			t.Fatal(err)
		}
		tbl, err := pl.Table(&schema.Table{DB: "d", Name: "t", Columns: []schema.Column{col}})
		if err != nil {
			t.Fatal(err)
		}
		e := jsonCols(tbl.Columns())[0]
		m := rules[0].forColumn(&e, &col)
		v := event.Bytes(event.KindString, []byte(tc.in))
		got, err := m.appendValue(nil, &e, &v)
		if err != nil {
			t.Fatal(err)
		}
		if want := `"` + tc.wantHexes + `"`; string(got) != want {
			t.Errorf("%v %s(%q) = %s, want %s", tc.kind, tc.alg, tc.in, got, want)
		}
	}
}

func TestColumnMask_JavaSerialization(t *testing.T) {
	// ObjectOutputStream.writeObject("a\x00é😀"): header, TC_STRING, length,
	// modified UTF-8 (NUL as C0 80, the emoji as two 3-byte surrogates).
	got := appendJavaSerializedString(nil, []byte("a\x00é😀"))
	want := []byte{0xAC, 0xED, 0, 5, 0x74, 0, 11, 'a', 0xC0, 0x80, 0xC3, 0xA9, 0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80}
	if string(got) != string(want) {
		t.Errorf("got % x\nwant % x", got, want)
	}
}

func TestColumnMask_TruncateJSONString(t *testing.T) {
	cases := []struct {
		in   string
		n    int
		want string
	}{
		{`"hello"`, 3, `"hel"`},
		{`"hello"`, 9, `"hello"`},
		{`"a\nb"`, 2, `"a\n"`},
		{`"é€x"`, 2, `"é€"`},
		{`"a😀b"`, 2, `"a"`}, // a surrogate pair is not split
		{`"a😀b"`, 3, `"a😀"`},
		{`"a\uD83D\uDE00b"`, 2, `"a"`}, // as appendJSONString writes it
		{`"a\uD83D\uDE00b"`, 3, `"a\uD83D\uDE00"`},
		{`""`, 0, `""`},
		{`"abc"`, 0, `""`},
	}
	for _, tc := range cases {
		if got := truncateJSONString([]byte(tc.in), 0, tc.n); string(got) != tc.want {
			t.Errorf("truncate(%s, %d) = %s, want %s", tc.in, tc.n, got, tc.want)
		}
	}
}

func TestTransform_JavaReplacement(t *testing.T) {
	cases := []struct {
		re, repl, in, want string
		ok                 bool
	}{
		{`(.*)customers_shard(.*)`, `$1customers_all$2`, "db.inv.customers_shard1", "db.inv.customers_all1", true},
		{`dbserver1\.(?<db>[^.]+)\.(.*)`, `cdc.${db}.$2`, "dbserver1.inv.orders", "cdc.inv.orders", true},
		{`x(.*)`, `\$1-$1`, "xyz", "$1-yz", true},
		{`a|ab`, `X`, "ab", "Xb", true}, // matches() the whole, replaceFirst the first match
		{`abc`, `X`, "zabc", "", false},
		{`(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)`, `$11$12`, "abcdefghijk", "ka2", true},
	}
	for _, tc := range cases {
		r, err := compileJavaRegex(tc.re, tc.repl)
		if err != nil {
			t.Fatalf("%s: %v", tc.re, err)
		}
		got, ok := r.route(tc.in)
		if ok != tc.ok || got != tc.want {
			t.Errorf("route(%q, %q, %q) = %q, %v; want %q, %v", tc.re, tc.repl, tc.in, got, ok, tc.want, tc.ok)
		}
	}
	for _, bad := range []struct{ re, repl string }{{`(a)`, `$2`}, {`(a)`, `$`}, {`(a)`, `${x}`}, {`(a)`, `$x`}, {`(?=a)`, `x`}} {
		if _, err := compileJavaRegex(bad.re, bad.repl); err == nil {
			t.Errorf("compileJavaRegex(%q, %q): no error", bad.re, bad.repl)
		}
	}
}
