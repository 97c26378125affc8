package debeziumjson

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/schema"
	"github.com/rivulet-cdc/rivulet/sink"
)

// xfCustomers is inventory.customers of the Debezium tutorial, with a few
// more columns for the column mappers.
func xfCustomers(name string) *schema.Table {
	return &schema.Table{DB: "inventory", Name: name, Columns: []schema.Column{
		{Name: "id", Type: schema.TypeInt, TypeName: "INT"},
		{Name: "first_name", Type: schema.TypeVarchar, TypeName: "VARCHAR", Length: 255},
		{Name: "email", Type: schema.TypeVarchar, TypeName: "VARCHAR", Length: 255, Nullable: true},
		{Name: "ssn", Type: schema.TypeChar, TypeName: "CHAR", Length: 11, Nullable: true},
		{Name: "notes", Type: schema.TypeText, TypeName: "TEXT", Nullable: true},
		{Name: "status", Type: schema.TypeEnum, TypeName: "ENUM", Values: []string{"new", "vip"}, Nullable: true},
		{Name: "score", Type: schema.TypeInt, TypeName: "INT", Nullable: true},
		{Name: "photo", Type: schema.TypeVarbinary, TypeName: "VARBINARY", Length: 16, Nullable: true},
		{Name: "updated", Type: schema.TypeInt, TypeName: "INT", Nullable: true, Excluded: true},
	}, PrimaryKey: []int{0}}
}

func customerRow(id int64, first, email string, updated int64) []event.Value {
	e := event.Null
	if email != "" {
		e = str(email)
	}
	return []event.Value{event.Int(id), str(first), e, str("123-45-6789"), str("likes ünïcode 😀 and long notes"),
		str("vip"), event.Int(7), event.Bytes(event.KindBytes, []byte{1, 2, 3, 4, 5, 6}), event.Int(updated)}
}

type transformCase struct {
	name   string
	cfg    func(*sink.JSONConfig)
	events func() []event.ChangeEvent
}

func unwrap(name string, f func(*sink.TransformConfig)) sink.TransformConfig {
	t := sink.DefaultTransformConfig(name, sink.TransformUnwrap)
	if f != nil {
		f(&t)
	}
	return t
}

func router(name string, k sink.TransformKind, re, repl string, f func(*sink.TransformConfig)) sink.TransformConfig {
	t := sink.DefaultTransformConfig(name, k)
	t.Regex, t.Replacement = re, repl
	if f != nil {
		f(&t)
	}
	return t
}

// cudEvents: a snapshot read, an insert, an update, a delete (with its
// tombstone) and a key change on inventory.<table>.
func cudEvents(table string) func() []event.ChangeEvent {
	return func() []event.ChangeEvent {
		t := xfCustomers(table)
		snap := event.Source{TsUs: 1718000001000000, Snapshot: "first", File: "mysql-bin.000004", Pos: 157, Thread: -1}
		return []event.ChangeEvent{
			{Op: event.OpRead, Table: t, After: customerRow(1000, "Ann", "ann@example.com", 1), Source: snap},
			{Op: event.OpCreate, Table: t, After: customerRow(1001, "Bob", "", 1), Source: streamSource},
			{Op: event.OpUpdate, Table: t, Before: customerRow(1001, "Bob", "", 1), After: customerRow(1001, "Bobby", "bob@example.com", 2), Source: streamSource},
			{Op: event.OpDelete, Table: t, Before: customerRow(1001, "Bobby", "bob@example.com", 2), Source: streamSource},
			{Op: event.OpUpdate, Table: t, Before: customerRow(1000, "Ann", "ann@example.com", 1), After: customerRow(2000, "Ann", "ann@example.com", 1), Source: streamSource},
		}
	}
}

func transformCases() []transformCase {
	noSchemas := func(c *sink.JSONConfig) { c.KeySchemas, c.ValueSchemas = false, false }
	chain := func(ts ...sink.TransformConfig) func(*sink.JSONConfig) {
		return func(c *sink.JSONConfig) { c.Transforms = ts }
	}
	return []transformCase{
		{name: "unwrap_default", cfg: chain(unwrap("unwrap", nil)), events: cudEvents("customers")},
		{name: "unwrap_default_noschema", cfg: func(c *sink.JSONConfig) {
			noSchemas(c)
			chain(unwrap("unwrap", nil))(c)
		}, events: cudEvents("customers")},
		{name: "unwrap_rewrite_addfields", cfg: chain(unwrap("unwrap", func(t *sink.TransformConfig) {
			t.DeleteHandling = sink.DeleteRewrite
			t.AddFields = []string{"op", "table", "source.ts_ms", "lsn", "snapshot", "ts_ms", "db:database", "transaction.id"}
			t.AddHeaders = []string{"op", "db", "source.ts_ms", "gtid"}
		})), events: cudEvents("customers")},
		{name: "unwrap_rewrite_with_tombstone_noschema", cfg: func(c *sink.JSONConfig) {
			noSchemas(c)
			chain(unwrap("unwrap", func(t *sink.TransformConfig) {
				t.DeleteHandling = sink.DeleteRewriteWithTombstone
				t.AddFields = []string{"op", "source.file:binlog_file"}
				t.AddFieldsPrefix = "_"
				t.AddHeaders = []string{"op"}
				t.AddHeadersPrefix = "dbz."
			}))(c)
		}, events: cudEvents("customers")},
		{name: "unwrap_route_by_field", cfg: chain(
			unwrap("unwrap", func(t *sink.TransformConfig) {
				t.RouteByField = "first_name"
				t.DeleteHandling = sink.DeleteRewriteWithTombstone
			}),
			router("route", sink.TransformRegexRouter, `(.*)y`, "$1ies", nil),
		), events: cudEvents("customers")},
		{name: "unwrap_drop", cfg: chain(unwrap("unwrap", func(t *sink.TransformConfig) { t.DeleteHandling = sink.DeleteDrop })), events: cudEvents("customers")},
		{name: "unwrap_delete_to_tombstone", cfg: chain(unwrap("unwrap", func(t *sink.TransformConfig) { t.DeleteHandling = sink.DeleteToTombstone })), events: cudEvents("customers")},
		{name: "unwrap_truncate", cfg: func(c *sink.JSONConfig) {
			c.SkippedOperations = nil
			chain(unwrap("unwrap", nil))(c)
		}, events: func() []event.ChangeEvent {
			return []event.ChangeEvent{{Op: event.OpTruncate, Table: xfCustomers("customers"), Source: streamSource}}
		}},
		{name: "bylogicaltablerouter", cfg: chain(router("route", sink.TransformLogicalTableRouter, `(.*)customers_shard(.*)`, `$1customers_all_shards`, nil)),
			events: cudEvents("customers_shard1")},
		{name: "bylogicaltablerouter_keyfield_noschema", cfg: func(c *sink.JSONConfig) {
			noSchemas(c)
			chain(router("route", sink.TransformLogicalTableRouter, `(.*)customers_shard(.*)`, `$1customers_all_shards`, func(t *sink.TransformConfig) {
				t.KeyFieldName = "shard_id"
				t.KeyFieldRegex = `(.*)customers_shard(.*)`
				t.KeyFieldReplacement = `$2`
			}))(c)
		}, events: cudEvents("customers_shard2")},
		{name: "bylogicaltablerouter_nouniqueness", cfg: chain(router("route", sink.TransformLogicalTableRouter, `(.*)customers_shard(.*)`, `$1customers_all_shards`, func(t *sink.TransformConfig) {
			t.KeyEnforceUniqueness = false
		})), events: cudEvents("customers_shard3")},
		{name: "regexrouter_unwrap_chain", cfg: chain(
			router("route", sink.TransformRegexRouter, `dbserver1\.([^.]+)\.(.*)`, `cdc.$1-$2`, nil),
			unwrap("unwrap", func(t *sink.TransformConfig) { t.AddFields = []string{"op"} }),
		), events: cudEvents("customers")},
		{name: "bylogicaltablerouter_after_unwrap", cfg: chain(
			unwrap("unwrap", nil),
			router("route", sink.TransformLogicalTableRouter, `(.*)customers_shard(.*)`, `$1customers_all_shards`, nil),
		), events: cudEvents("customers_shard1")},
		{name: "columnmask", cfg: func(c *sink.JSONConfig) {
			c.ColumnMappers = []sink.ColumnMapperConfig{
				{Kind: sink.ColumnTruncate, N: 5, Columns: []string{`inventory\.customers\.notes`, `inventory\.customers\.PHOTO`}},
				{Kind: sink.ColumnMaskChars, N: 4, Columns: []string{`.*\.ssn`, `inventory\.customers\.email`, `inventory.customers.score`}},
				{Kind: sink.ColumnMaskHash, Algorithm: "SHA-256", Salt: "CzQMA0cB5K", Columns: []string{`inventory\.customers\.first_name`, `inventory\.customers\.id`}},
				{Kind: sink.ColumnMaskHashV2, Algorithm: "MD5", Salt: "s", Columns: []string{`inventory\.customers\.status`}},
			}
		}, events: cudEvents("customers")},
		{name: "columnmask_unwrap_noschema", cfg: func(c *sink.JSONConfig) {
			noSchemas(c)
			chain(unwrap("unwrap", nil))(c)
			c.ColumnMappers = []sink.ColumnMapperConfig{
				{Kind: sink.ColumnMaskChars, N: 3, Columns: []string{`inventory\.customers\.ssn`}},
				{Kind: sink.ColumnMaskHashV2, Algorithm: "SHA-256", Salt: "salt", Columns: []string{`inventory\.customers\.first_name`}},
			}
		}, events: cudEvents("customers")},
		{name: "skip_unchanged", cfg: func(c *sink.JSONConfig) {
			c.SkipMessagesWithoutChange = true
			c.ColumnMappers = []sink.ColumnMapperConfig{{Kind: sink.ColumnTruncate, N: 3, Columns: []string{`.*\.first_name`}}}
		}, events: func() []event.ChangeEvent {
			t := xfCustomers("customers")
			return []event.ChangeEvent{
				// Only the excluded column changes: skipped.
				{Op: event.OpUpdate, Table: t, Before: customerRow(1, "Ann", "", 1), After: customerRow(1, "Ann", "", 2), Source: streamSource},
				// Only past the truncation: skipped (the structs are equal).
				{Op: event.OpUpdate, Table: t, Before: customerRow(1, "Annabel", "", 1), After: customerRow(1, "Annette", "", 1), Source: streamSource},
				// A real change: emitted.
				{Op: event.OpUpdate, Table: t, Before: customerRow(1, "Ann", "", 1), After: customerRow(1, "Ann", "a@b.c", 1), Source: streamSource},
			}
		}},
	}
}

// TestTransform_Golden compares each case's records with
// testdata/golden/<case>.{key,value,headers,topics}.json (run with -update
// to rewrite them; testdata/README.md names the sources each was checked
// against).
func TestTransform_Golden(t *testing.T) {
	for _, tc := range transformCases() {
		t.Run(tc.name, func(t *testing.T) {
			cfg := sink.DefaultJSONConfig("dbserver1")
			cfg.Version = "3.2.0.Final"
			cfg.Now = func() time.Time { return time.Unix(1718000003, 123456789) }
			tc.cfg(&cfg)
			enc, err := NewJSON(cfg)
			if err != nil {
				t.Fatal(err)
			}
			var recs []sink.Record
			var buf []byte
			events := tc.events()
			for i := range events {
				if recs, buf, err = enc.AppendRecords(recs, buf, &events[i]); err != nil {
					t.Fatal(err)
				}
			}
			var keys, values, headers, topics bytes.Buffer
			hasHeaders := false
			line := func(w *bytes.Buffer, b []byte) {
				if b == nil {
					w.WriteString("null")
				} else {
					w.Write(b)
				}
				w.WriteByte('\n')
			}
			for _, r := range recs {
				line(&keys, r.Key)
				if r.Value == nil {
					values.WriteString("tombstone\n") // a null Kafka value, unlike the JSON text null
				} else {
					line(&values, r.Value)
				}
				// Headers in order, as [name, value] pairs: a name may repeat.
				h := [][2]*string{}
				for _, x := range r.Headers {
					hasHeaders = true
					k := x.Key
					var v *string
					if x.Value != nil {
						s := string(x.Value)
						v = &s
					}
					h = append(h, [2]*string{&k, v})
				}
				b, _ := json.Marshal(h)
				line(&headers, b)
				tb, _ := json.Marshal(r.Topic)
				line(&topics, tb)
			}
			files := map[string][]byte{"key": keys.Bytes(), "value": values.Bytes(), "topics": topics.Bytes()}
			if hasHeaders {
				files["headers"] = headers.Bytes()
			}
			if tc.name == "skip_unchanged" {
				if n := enc.UnchangedSkipped(); n != 2 {
					t.Errorf("UnchangedSkipped = %d, want 2", n)
				}
			}
			for ext, got := range files {
				path := filepath.Join("..", "testdata", "golden", tc.name+"."+ext+".json")
				if *update {
					if err := os.WriteFile(path, got, 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test ./sink -run TestTransform_Golden -update)", err)
				}
				gl, wl := bytes.Split(got, []byte("\n")), bytes.Split(want, []byte("\n"))
				if len(gl) != len(wl) {
					t.Errorf("%s: %d lines, want %d", path, len(gl), len(wl))
					continue
				}
				for i := range gl {
					compareJSON(t, path, gl[i], wl[i])
				}
			}
		})
	}
}

// TestTransform_Errors: configurations the encoder refuses.
func TestTransform_Errors(t *testing.T) {
	cases := map[string]func(*sink.JSONConfig){
		"two unwraps": func(c *sink.JSONConfig) { c.Transforms = []sink.TransformConfig{unwrap("a", nil), unwrap("b", nil)} },
		"bad regex": func(c *sink.JSONConfig) {
			c.Transforms = []sink.TransformConfig{router("r", sink.TransformRegexRouter, `(?<=x)a`, "b", nil)}
		},
		"bad replacement": func(c *sink.JSONConfig) {
			c.Transforms = []sink.TransformConfig{router("r", sink.TransformRegexRouter, `(a)`, "$2", nil)}
		},
		"row field": func(c *sink.JSONConfig) {
			c.Transforms = []sink.TransformConfig{unwrap("u", func(t *sink.TransformConfig) { t.AddFields = []string{"after.id"} })}
		},
		"route.by.field then ByLogicalTableRouter": func(c *sink.JSONConfig) {
			c.Transforms = []sink.TransformConfig{unwrap("u", func(t *sink.TransformConfig) { t.RouteByField = "first_name" }),
				router("r", sink.TransformLogicalTableRouter, "(.*)", "x", nil)}
		},
		"unknown digest": func(c *sink.JSONConfig) {
			c.ColumnMappers = []sink.ColumnMapperConfig{{Kind: sink.ColumnMaskHash, Algorithm: "MD2", Columns: []string{"x"}}}
		},
	}
	for name, f := range cases {
		cfg := sink.DefaultJSONConfig("p")
		f(&cfg)
		if _, err := NewJSON(cfg); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	// A field the value already has is refused when the table is encoded.
	cfg := sink.DefaultJSONConfig("p")
	cfg.Transforms = []sink.TransformConfig{unwrap("u", func(t *sink.TransformConfig) { t.AddFields = []string{"op:id"}; t.AddFieldsPrefix = "" })}
	enc, err := NewJSON(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ev := event.ChangeEvent{Op: event.OpCreate, Table: xfCustomers("c"), After: customerRow(1, "a", "", 1), Source: streamSource}
	if _, _, err := enc.AppendRecords(nil, nil, &ev); err == nil {
		t.Error("duplicate field: no error")
	}
}
