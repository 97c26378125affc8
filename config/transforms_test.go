package config

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestTransforms_Parse(t *testing.T) {
	c, _ := mustFromMap(t, with(
		"transforms", "route, unwrap,rr",
		"transforms.unwrap.type", UnwrapClass,
		"transforms.unwrap.delete.tombstone.handling.mode", "Rewrite",
		"transforms.unwrap.add.fields", "op, table,source.ts_ms",
		"transforms.unwrap.add.fields.prefix", "_",
		"transforms.unwrap.add.headers", "db",
		"transforms.unwrap.drop.fields.from.key", "false",
		"transforms.unwrap.negate", "false",
		"transforms.unwrap.route.by.field", "shard",
		"transforms.route.type", LogicalTableRouterClass,
		"transforms.route.topic.regex", "(.*)customers_shard(.*)",
		"transforms.route.topic.replacement", "$1customers_all_shards",
		"transforms.route.key.field.regex", "(.*)customers_shard(.*)",
		"transforms.route.key.field.replacement", "$2",
		"transforms.route.logical.table.cache.size", "32",
		"transforms.rr.type", RegexRouterClass,
		"transforms.rr.regex", `dbserver1\.(.*)`,
		"transforms.rr.replacement", "cdc.$1",
		"column.mask.with.4.chars", `inventory\.customers\.ssn, .*\.secret`,
		"column.truncate.to.10.chars", "inventory.customers.notes",
		"column.mask.hash.SHA-256.with.salt.CzQMA0cB5K", "inventory.customers.email",
		"column.mask.hash.v2.md5.with.salt.s.a.l.t", "inventory.customers.phone",
		"skip.messages.without.change", "true",
	))
	want := []Transform{
		{Name: "route", Class: LogicalTableRouterClass, DeleteHandling: "tombstone", AddFieldsPrefix: "__", AddHeadersPrefix: "__",
			Regex: "(.*)customers_shard(.*)", Replacement: "$1customers_all_shards", KeyEnforceUniqueness: true,
			KeyFieldName: "__dbz__physicalTableIdentifier", KeyFieldRegex: "(.*)customers_shard(.*)", KeyFieldReplacement: "$2"},
		{Name: "unwrap", Class: UnwrapClass, DeleteHandling: "rewrite", AddFields: []string{"op", "table", "source.ts_ms"},
			AddFieldsPrefix: "_", AddHeaders: []string{"db"}, AddHeadersPrefix: "__", RouteByField: "shard", KeyEnforceUniqueness: true,
			KeyFieldName: "__dbz__physicalTableIdentifier"},
		{Name: "rr", Class: RegexRouterClass, DeleteHandling: "tombstone", AddFieldsPrefix: "__", AddHeadersPrefix: "__",
			Regex: `dbserver1\.(.*)`, Replacement: "cdc.$1", KeyEnforceUniqueness: true, KeyFieldName: "__dbz__physicalTableIdentifier"},
	}
	if d := cmp.Diff(want, c.Transforms); d != "" {
		t.Errorf("Transforms (-want +got):\n%s", d)
	}
	wantCols := []ColumnMapper{
		{Kind: "truncate", Columns: []string{"inventory.customers.notes"}, N: 10},
		{Kind: "hash", Columns: []string{"inventory.customers.email"}, Algorithm: "SHA-256", Salt: "CzQMA0cB5K"},
		{Kind: "hash.v2", Columns: []string{"inventory.customers.phone"}, Algorithm: "md5", Salt: "s.a.l.t"},
		{Kind: "mask", Columns: []string{`inventory\.customers\.ssn`, `.*\.secret`}, N: 4},
	}
	if d := cmp.Diff(wantCols, c.ColumnMappers); d != "" {
		t.Errorf("ColumnMappers (-want +got):\n%s", d)
	}
	if !c.SkipMessagesWithoutChange {
		t.Error("SkipMessagesWithoutChange = false")
	}
}

func TestTransforms_ToLogicalTopicRouterDefault(t *testing.T) {
	c, _ := mustFromMap(t, with("transforms", "r", "transforms.r.type", LogicalTopicRouterClass,
		"transforms.r.topic.regex", "a", "transforms.r.topic.replacement", "b"))
	if got := c.Transforms[0].KeyFieldName; got != "__dbz__sourceIdentifier" {
		t.Errorf("KeyFieldName = %q", got)
	}
}

func TestTransforms_Errors(t *testing.T) {
	tests := []struct {
		name        string
		kv          []string
		want        string
		unsupported bool
	}{
		{"unknown class", []string{"transforms", "x", "transforms.x.type", "io.debezium.transforms.Filter"},
			`transforms.x.type: "io.debezium.transforms.Filter" is not a transform Rivulet implements; use io.debezium.transforms.ExtractNewRecordState, io.debezium.transforms.ByLogicalTableRouter or org.apache.kafka.connect.transforms.RegexRouter, or remove x from transforms and apply it in the consumer`, true},
		{"unknown option", []string{"transforms", "u", "transforms.u.type", UnwrapClass, "transforms.u.add.field", "op"},
			`transforms.u.add.field: "op" is not an option of io.debezium.transforms.ExtractNewRecordState; use one of delete.tombstone.handling.mode, add.fields, add.fields.prefix, add.headers, add.headers.prefix, drop.fields.header.name, drop.fields.from.key, drop.fields.keep.schema.compatible, replace.null.with.default, route.by.field`, false},
		{"bad mode", []string{"transforms", "u", "transforms.u.type", UnwrapClass, "transforms.u.delete.tombstone.handling.mode", "none"},
			`transforms.u.delete.tombstone.handling.mode: "none" is not a delete handling mode; set one of tombstone, drop, rewrite, rewrite-with-tombstone, delete-to-tombstone`, false},
		{"legacy option", []string{"transforms", "u", "transforms.u.type", UnwrapClass, "transforms.u.delete.handling.mode", "rewrite"},
			`transforms.u.delete.handling.mode: "rewrite" was removed in Debezium 3.2 (DBZ-6068); 3.x ignores it; set delete.tombstone.handling.mode instead (delete.handling.mode=rewrite with drop.tombstones=false is rewrite-with-tombstone, =rewrite alone is rewrite, =drop is drop, =none is tombstone)`, false},
		{"predicate", []string{"transforms", "u", "transforms.u.type", UnwrapClass, "transforms.u.predicate", "isTable"},
			`transforms.u.predicate: "isTable" is not supported yet; remove it: transforms apply to every change event`, true},
		{"missing regex", []string{"transforms", "r", "transforms.r.type", RegexRouterClass, "transforms.r.replacement", "x"},
			`transforms.r.regex: is not set; the org.apache.kafka.connect.transforms.RegexRouter transform needs it`, false},
		{"bad regex", []string{"transforms", "r", "transforms.r.type", RegexRouterClass, "transforms.r.regex", "(?<=a)b", "transforms.r.replacement", "x"},
			`transforms.r.regex: "(?<=a)b" is not a regular expression Rivulet can run`, false},
		{"key regex without replacement", []string{"transforms", "r", "transforms.r.type", LogicalTableRouterClass,
			"transforms.r.topic.regex", "a", "transforms.r.topic.replacement", "b", "transforms.r.key.field.regex", "(a)"},
			`transforms.r.key.field.replacement: is empty while key.field.regex is set; set the replacement for the key field`, false},
		{"not a boolean", []string{"transforms", "r", "transforms.r.type", LogicalTableRouterClass,
			"transforms.r.topic.regex", "a", "transforms.r.topic.replacement", "b", "transforms.r.key.enforce.uniqueness", "yes"},
			`transforms.r.key.enforce.uniqueness: "yes" is not a boolean; set true or false`, false},
		{"twice", []string{"transforms", "u,u", "transforms.u.type", UnwrapClass},
			`transforms: "u,u" names u twice; list each transform once`, false},
		{"column mapper key", []string{"column.mask.with.four.chars", "a.b.c"},
			`column.mask.with.four.chars: "a.b.c" is not a column mapper key`, false},
		{"column mapper regex", []string{"column.truncate.to.3.chars", "a.b.(c"},
			`column.truncate.to.3.chars: "a.b.(c" holds "a.b.(c", which is not a regular expression Rivulet can run`, false},
		{"skip not boolean", []string{"skip.messages.without.change", "maybe"},
			`skip.messages.without.change: "maybe" is not a boolean; set true or false`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := FromMap(with(tt.kv...))
			if err == nil {
				t.Fatalf("FromMap succeeded, want %s", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error:\n%v\nwant it to contain:\n%s", err, tt.want)
			}
			if errors.Is(err, ErrUnsupported) != tt.unsupported {
				t.Errorf("errors.Is(err, ErrUnsupported) = %v, want %v", !tt.unsupported, tt.unsupported)
			}
		})
	}
}

func TestTransforms_StrayOptionsWarn(t *testing.T) {
	_, w := mustFromMap(t, with("transforms.old.type", UnwrapClass))
	found := false
	for _, x := range w {
		found = found || strings.Contains(x.Message, "no effect in Rivulet: transforms.old.type")
	}
	if !found {
		t.Errorf("warnings %v: none about transforms.old.type", w)
	}
}

// TestTransforms_DebeziumServer: Debezium Server's debezium.transforms.* keys
// are the same transforms.
func TestTransforms_DebeziumServer(t *testing.T) {
	c, _ := mustFromMap(t, with("debezium.transforms", "unwrap", "debezium.transforms.unwrap.type", UnwrapClass,
		"debezium.transforms.unwrap.add.fields", "op"))
	if len(c.Transforms) != 1 || c.Transforms[0].Class != UnwrapClass || len(c.Transforms[0].AddFields) != 1 {
		t.Errorf("Transforms = %+v", c.Transforms)
	}
}
