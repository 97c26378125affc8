package config

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Transform classes Rivulet applies natively (transforms.<name>.type).
const (
	UnwrapClass             = "io.debezium.transforms.ExtractNewRecordState"
	LogicalTableRouterClass = "io.debezium.transforms.ByLogicalTableRouter"
	LogicalTopicRouterClass = "io.debezium.transforms.ToLogicalTopicRouter" // accepted as ByLogicalTableRouter; Debezium 3.6.1 has no such class (README, known differences)
	RegexRouterClass        = "org.apache.kafka.connect.transforms.RegexRouter"
)

// Transform is one entry of Kafka Connect's `transforms` list, with its
// `transforms.<name>.*` options checked and Debezium's defaults filled in.
type Transform struct {
	// Name is the alias in `transforms`; Class is `transforms.<name>.type`.
	Name, Class string

	// ExtractNewRecordState: `delete.tombstone.handling.mode` (tombstone,
	// drop, rewrite, rewrite-with-tombstone, delete-to-tombstone; default
	// tombstone), `add.fields`, `add.fields.prefix` (default "__"),
	// `add.headers`, `add.headers.prefix` (default "__").
	DeleteHandling   string
	AddFields        []string
	AddFieldsPrefix  string
	AddHeaders       []string
	AddHeadersPrefix string
	// RouteByField is ExtractNewRecordState's `route.by.field`: a string
	// column whose value becomes the topic.
	RouteByField string

	// Routers: RegexRouter `regex`/`replacement`, ByLogicalTableRouter
	// `topic.regex`/`topic.replacement` (Java regex and replacement syntax).
	Regex, Replacement string
	// ByLogicalTableRouter: `key.enforce.uniqueness` (default true),
	// `key.field.name` (default __dbz__physicalTableIdentifier;
	// ToLogicalTopicRouter: __dbz__sourceIdentifier), `key.field.regex`,
	// `key.field.replacement`.
	KeyEnforceUniqueness bool
	KeyFieldName         string
	KeyFieldRegex        string
	KeyFieldReplacement  string
}

// ColumnMapper is one `column.truncate.to.N.chars`, `column.mask.with.N.chars`,
// `column.mask.hash.<algorithm>.with.salt.<salt>` or
// `column.mask.hash.v2.<algorithm>.with.salt.<salt>` key.
type ColumnMapper struct {
	// Kind is "truncate", "mask", "hash" or "hash.v2".
	Kind string
	// Columns are the key's value split into regular expressions, matched
	// case-insensitively against the whole "db.table.column".
	Columns []string
	// N is the length of the truncate and mask keys.
	N int
	// Algorithm (a Java MessageDigest name) and Salt of the hash keys.
	Algorithm, Salt string
}

// transformOption describes one transforms.<name>.<option> key.
type transformOption struct {
	name string
	set  func(l *loader, key, v string, t *Transform)
}

func stringOpt(dst func(*Transform) *string) func(*loader, string, string, *Transform) {
	return func(_ *loader, _, v string, t *Transform) { *dst(t) = v }
}

func listOpt(dst func(*Transform) *[]string) func(*loader, string, string, *Transform) {
	return func(_ *loader, _, v string, t *Transform) {
		var out []string
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
		*dst(t) = out
	}
}

func boolOpt(dst func(*Transform) *bool) func(*loader, string, string, *Transform) {
	return func(l *loader, key, v string, t *Transform) {
		switch strings.ToLower(v) {
		case "true":
			*dst(t) = true
		case "false":
			*dst(t) = false
		default:
			l.fail(invalid(key, v, "is not a boolean", "set true or false"))
		}
	}
}

func regexOpt(dst func(*Transform) *string) func(*loader, string, string, *Transform) {
	return func(l *loader, key, v string, t *Transform) {
		if _, err := regexp.Compile(v); err != nil {
			l.fail(invalid(key, v, "is not a regular expression Rivulet can run ("+err.Error()+")",
				"use RE2 syntax: Java's backreferences and lookaround are not available"))
			return
		}
		*dst(t) = v
	}
}

// noEffect accepts an option whose value makes no difference in Rivulet;
// a value other than Debezium's default def ("" for none) is reported in a
// warning that gives the reason.
func noEffect(check func(string) bool, fix, def, reason string) func(*loader, string, string, *Transform) {
	return func(l *loader, key, v string, _ *Transform) {
		if check != nil && !check(v) {
			l.fail(invalid(key, v, "is not valid", fix))
			return
		}
		if def == "" || !strings.EqualFold(strings.TrimSpace(v), def) {
			l.warn(key+" has no effect in Rivulet: "+reason+"; remove it", key)
		}
	}
}

var deleteHandlingModes = []string{"tombstone", "drop", "rewrite", "rewrite-with-tombstone", "delete-to-tombstone"}

var unwrapOptions = []transformOption{
	{"delete.tombstone.handling.mode", func(l *loader, key, v string, t *Transform) {
		m := strings.ToLower(v)
		if !slices.Contains(deleteHandlingModes, m) {
			l.fail(invalid(key, v, "is not a delete handling mode", "set one of "+strings.Join(deleteHandlingModes, ", ")))
			return
		}
		t.DeleteHandling = m
	}},
	{"add.fields", listOpt(func(t *Transform) *[]string { return &t.AddFields })},
	{"add.fields.prefix", stringOpt(func(t *Transform) *string { return &t.AddFieldsPrefix })},
	{"add.headers", listOpt(func(t *Transform) *[]string { return &t.AddHeaders })},
	{"add.headers.prefix", stringOpt(func(t *Transform) *string { return &t.AddHeadersPrefix })},
	// The header drop.fields.header.name names holds a list of fields that
	// another transform (ExtractChangedRecordState) puts there; Rivulet has
	// none that does, so the header is never present and, as in Debezium
	// without it, nothing is dropped.
	{"drop.fields.header.name", noEffect(nil, "", "", "no Rivulet transform writes the header it names (ExtractChangedRecordState), so, as in Debezium without that header, no field is dropped")},
	{"drop.fields.from.key", noEffect(isBool, "set true or false", "false", "it acts only on the fields drop.fields.header.name lists, and that header is never present")},
	{"drop.fields.keep.schema.compatible", noEffect(isBool, "set true or false", "true", "it acts only on the fields drop.fields.header.name lists, and that header is never present")},
	// Rivulet's row schemas carry no column defaults, so there is nothing
	// to replace a null with.
	{"replace.null.with.default", noEffect(isBool, "set true or false", "true", "Rivulet's row schemas carry no column defaults, so a null stays null either way")},
	{"route.by.field", stringOpt(func(t *Transform) *string { return &t.RouteByField })},
}

var logicalRouterOptions = []transformOption{
	{"topic.regex", regexOpt(func(t *Transform) *string { return &t.Regex })},
	{"topic.replacement", stringOpt(func(t *Transform) *string { return &t.Replacement })},
	{"key.enforce.uniqueness", boolOpt(func(t *Transform) *bool { return &t.KeyEnforceUniqueness })},
	{"key.field.name", stringOpt(func(t *Transform) *string { return &t.KeyFieldName })},
	{"key.field.regex", regexOpt(func(t *Transform) *string { return &t.KeyFieldRegex })},
	{"key.field.replacement", stringOpt(func(t *Transform) *string { return &t.KeyFieldReplacement })},
	{"schema.name.adjustment.mode", func(l *loader, key, v string, _ *Transform) {
		if !strings.EqualFold(v, "none") {
			l.fail(unsupported(key, v, "remove it or set none (the default)"))
		}
	}},
	{"logical.table.cache.size", noEffect(isPositiveInt, "set a positive integer", "16", "Rivulet computes each topic once per table and keeps no such cache")},
	{"logical.destination.cache.size", noEffect(isPositiveInt, "set a positive integer", "16", "Rivulet computes each topic once per table and keeps no such cache")},
}

var regexRouterOptions = []transformOption{
	{"regex", regexOpt(func(t *Transform) *string { return &t.Regex })},
	{"replacement", stringOpt(func(t *Transform) *string { return &t.Replacement })},
}

func isBool(v string) bool { return strings.EqualFold(v, "true") || strings.EqualFold(v, "false") }

func isPositiveInt(v string) bool {
	n, err := strconv.Atoi(v)
	return err == nil && n > 0
}

// removedUnwrapOptions are ExtractNewRecordState options of Debezium 1.x/2.x
// that 3.x no longer reads (it ignores them silently; Rivulet says so).
var removedUnwrapOptions = map[string]string{
	"delete.handling.mode":            "set delete.tombstone.handling.mode instead (delete.handling.mode=rewrite with drop.tombstones=false is rewrite-with-tombstone, =rewrite alone is rewrite, =drop is drop, =none is tombstone)",
	"drop.tombstones":                 "set delete.tombstone.handling.mode instead (drop.tombstones=false keeps tombstones: rewrite-with-tombstone)",
	"delete.handling.tombstone.mode":  "rename it to delete.tombstone.handling.mode",
	"operation.header":                "set add.headers=op instead",
	"add.source.fields":               "set add.fields=source.<field>,... instead",
	"delete.tombstone.handling.modes": "rename it to delete.tombstone.handling.mode",
}

// transformKeys are the supported top-level keys (for SupportedKeys).
var transformKeys = []string{"transforms", "skip.messages.without.change"}

// parseTransforms reads `transforms` and every `transforms.<name>.*` key,
// the column mapper keys and skip.messages.without.change. An unknown
// transform class or option is an error naming the key and the fix.
func (l *loader) parseTransforms(c *Config) {
	l.boolean("skip.messages.without.change", &c.SkipMessagesWithoutChange)
	l.parseColumnMappers(c)

	v, ok := l.take("transforms")
	if !ok {
		return
	}
	seen := map[string]bool{}
	for _, name := range strings.Split(v, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if seen[name] {
			l.fail(invalid("transforms", v, "names "+name+" twice", "list each transform once"))
			continue
		}
		seen[name] = true
		prefix := "transforms." + name + "."
		typ, _ := l.take(prefix + "type")
		t := Transform{Name: name, Class: typ, AddFieldsPrefix: "__", AddHeadersPrefix: "__",
			KeyEnforceUniqueness: true, KeyFieldName: "__dbz__physicalTableIdentifier", DeleteHandling: "tombstone"}
		var opts []transformOption
		var required []string
		switch typ {
		case "":
			l.fail(invalid(prefix+"type", "", "is not set", "set the transform class, e.g. "+UnwrapClass))
			l.consumePrefix(prefix)
			continue
		case UnwrapClass:
			opts = unwrapOptions
		case LogicalTableRouterClass, LogicalTopicRouterClass:
			opts, required = logicalRouterOptions, []string{"topic.regex", "topic.replacement"}
			if typ == LogicalTopicRouterClass {
				t.KeyFieldName = "__dbz__sourceIdentifier"
			}
		case RegexRouterClass:
			opts, required = regexRouterOptions, []string{"regex", "replacement"}
		default:
			l.fail(&FieldError{Key: prefix + "type", Value: typ, Problem: "is not a transform Rivulet implements",
				Fix: "use " + UnwrapClass + ", " + LogicalTableRouterClass + " or " + RegexRouterClass +
					", or remove " + name + " from transforms and apply it in the consumer", Err: ErrUnsupported})
			l.consumePrefix(prefix)
			continue
		}
		for _, r := range required {
			if !l.has(prefix + r) {
				l.fail(invalid(prefix+r, "", "is not set", "the "+typ+" transform needs it"))
			}
		}
		for _, k := range l.prefixed(prefix) {
			opt := strings.TrimPrefix(k, prefix)
			val, _ := l.take(k)
			switch {
			case opt == "predicate" || opt == "negate":
				if val != "" && !(opt == "negate" && strings.EqualFold(val, "false")) {
					l.fail(unsupported(k, val, "remove it: transforms apply to every change event"))
				}
				continue
			case typ == UnwrapClass && removedUnwrapOptions[opt] != "":
				l.fail(&FieldError{Key: k, Value: val, Problem: "was removed in Debezium 3.2 (DBZ-6068); 3.x ignores it",
					Fix: removedUnwrapOptions[opt], Err: ErrInvalid})
				continue
			}
			i := slices.IndexFunc(opts, func(o transformOption) bool { return o.name == opt })
			if i < 0 {
				names := make([]string, len(opts))
				for j, o := range opts {
					names[j] = o.name
				}
				l.fail(invalid(k, val, "is not an option of "+typ, "use one of "+strings.Join(names, ", ")))
				continue
			}
			opts[i].set(l, k, val, &t)
		}
		if t.KeyFieldRegex != "" && strings.TrimSpace(t.KeyFieldReplacement) == "" {
			l.fail(invalid(prefix+"key.field.replacement", "", "is empty while key.field.regex is set", "set the replacement for the key field"))
		}
		c.Transforms = append(c.Transforms, t)
	}
	// Predicates exist only for transforms' predicate option, refused above.
	if v, ok := l.take("predicates"); ok {
		l.fail(unsupported("predicates", v, "remove predicates and the transforms' predicate options"))
	}
	l.consumePrefix("predicates.")
}

// prefixed returns the keys not consumed yet that start with prefix, sorted.
func (l *loader) prefixed(prefix string) []string {
	var out []string
	for k := range l.m {
		if strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

var (
	truncateKey = regexp.MustCompile(`^column\.truncate\.to\.(\d+)\.chars$`)
	maskKey     = regexp.MustCompile(`^column\.mask\.with\.(\d+)\.chars$`)
	hashV2Key   = regexp.MustCompile(`^column\.mask\.hash\.v2\.([^.]+)\.with\.salt\.(.+)$`)
	hashKey     = regexp.MustCompile(`^column\.mask\.hash\.([^.]+)\.with\.salt\.(.+)$`)
)

// digestNames are the java.security.MessageDigest algorithms Rivulet has
// (debeziumjson.DigestSupported; MD2 is the one JDK digest missing).
var digestNames = []string{"MD5", "SHA-1", "SHA1", "SHA", "SHA-224", "SHA224", "SHA-256", "SHA256", "SHA-384", "SHA384",
	"SHA-512", "SHA512", "SHA-512/224", "SHA512/224", "SHA-512/256", "SHA512/256", "SHA3-224", "SHA3-256", "SHA3-384", "SHA3-512"}

// parseColumnMappers reads the column.truncate.* and column.mask.* keys
// (ColumnMappers.create). The value is a list of regular expressions over
// db.table.column.
func (l *loader) parseColumnMappers(c *Config) {
	keys := append(l.prefixed("column.truncate."), l.prefixed("column.mask.")...)
	for _, k := range keys {
		v, _ := l.take(k)
		m := ColumnMapper{Columns: splitRegexList(v)}
		var n string
		if sm := truncateKey.FindStringSubmatch(k); sm != nil {
			m.Kind, n = "truncate", sm[1]
		} else if sm := maskKey.FindStringSubmatch(k); sm != nil {
			m.Kind, n = "mask", sm[1]
		} else if sm := hashV2Key.FindStringSubmatch(k); sm != nil {
			m.Kind, m.Algorithm, m.Salt = "hash.v2", sm[1], sm[2]
		} else if sm := hashKey.FindStringSubmatch(k); sm != nil {
			m.Kind, m.Algorithm, m.Salt = "hash", sm[1], sm[2]
		} else {
			l.fail(invalid(k, v, "is not a column mapper key",
				"use column.truncate.to.N.chars, column.mask.with.N.chars, column.mask.hash.<algorithm>.with.salt.<salt> or column.mask.hash.v2.<algorithm>.with.salt.<salt>"))
			continue
		}
		if n != "" {
			x, err := strconv.ParseInt(n, 10, 32)
			if err != nil || x > math.MaxInt32 {
				l.fail(invalid(k, v, "has a length that is not an integer", "write the length as digits, e.g. column.mask.with.8.chars"))
				continue
			}
			m.N = int(x)
		}
		if m.Algorithm != "" && !slices.Contains(digestNames, strings.ToUpper(m.Algorithm)) {
			l.fail(invalid(k, v, "names hash algorithm "+m.Algorithm+", which Rivulet does not have",
				"use one of MD5, SHA-1, SHA-224, SHA-256, SHA-384, SHA-512, SHA-512/224, SHA-512/256, SHA3-224, SHA3-256, SHA3-384, SHA3-512"))
			continue
		}
		if len(m.Columns) == 0 {
			l.fail(invalid(k, v, "names no columns", "set a comma-separated list of db.table.column regular expressions"))
			continue
		}
		bad := false
		for _, p := range m.Columns {
			if _, err := regexp.Compile(`(?i)^(?:` + p + `)$`); err != nil {
				l.fail(invalid(k, v, fmt.Sprintf("holds %q, which is not a regular expression Rivulet can run (%v)", p, err), "use RE2 syntax"))
				bad = true
				break
			}
		}
		if !bad {
			c.ColumnMappers = append(c.ColumnMappers, m)
		}
	}
}
