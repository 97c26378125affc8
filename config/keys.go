package config

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// SupportedKeys lists every key Rivulet reads into Config, sorted. Deprecated
// aliases (database.server.name, database.history.*, *.whitelist,
// *.blacklist) are accepted too but not listed.
func SupportedKeys() []string {
	out := append(append(append([]string(nil), supportedKeys...), snapshotKeys...), signalKeys...)
	out = append(out, transformKeys...)
	out = append(out, encodingKeys...)
	out = append(out, avroKeys...)
	out = append(out, kafkaKeys()...)
	out = append(out, databaseTLSKeys...)
	sort.Strings(out)
	return slices.Compact(out)
}

// kafkaKeys are the Kafka client, producer, topic creation and registry
// keys: each client key bare and with every role's prefixes, each producer
// key bare, producer. and producer.override., the registry keys bare and
// under key.converter./value.converter.
func kafkaKeys() []string {
	var out []string
	for _, k := range clientKeys {
		out = append(out, k)
		for r := range numKafkaRoles {
			out = append(out, prefixed(rolePrefixes[r], k)...)
		}
		if sub, ok := strings.CutPrefix(k, "ssl."); ok {
			for _, side := range registrySides {
				out = append(out, side+"schema.registry.ssl."+sub)
			}
		}
	}
	for _, k := range producerKeys {
		out = append(out, k, "producer."+k, "producer.override."+k)
	}
	out = append(out, "topic.creation.enable", "topic.creation.groups", "topic.creation.default.partitions", "topic.creation.default.replication.factor")
	for _, k := range []string{"basic.auth.credentials.source", "basic.auth.user.info", "bearer.auth.credentials.source", "bearer.auth.token",
		"bearer.auth.issuer.endpoint.url", "bearer.auth.client.id", "bearer.auth.client.secret", "bearer.auth.scope",
		"bearer.auth.logical.cluster", "bearer.auth.identity.pool.id"} {
		for _, side := range registrySides {
			out = append(out, side+k, side+"schema.registry."+k)
		}
	}
	return out
}

var supportedKeys = []string{
	"name", "connector.class",
	"database.hostname", "database.port", "database.user", "database.password",
	"database.server.id", "connect.timeout.ms",
	"topic.prefix",
	"database.include.list", "database.exclude.list",
	"table.include.list", "table.exclude.list",
	"column.include.list", "column.exclude.list",
	"message.key.columns", "extended.headers.enabled",
	"tombstones.on.delete", "skipped.operations", "snapshot.mode",
	"include.schema.changes", "heartbeat.interval.ms", "topic.heartbeat.prefix",
	"provide.transaction.metadata", "topic.transaction",
	"max.batch.size", "max.queue.size", "max.queue.size.in.bytes",
	"key.converter", "key.converter.schemas.enable",
	"value.converter", "value.converter.schemas.enable",
	"schema.history.internal", "schema.history.internal.kafka.topic",
	"schema.history.internal.kafka.bootstrap.servers", "schema.history.internal.file.filename",
	"schema.history.internal.skip.unparseable.ddl", "schema.history.internal.unparseable.ddl.fallback",
	"schema.history.internal.store.only.captured.tables.ddl",
	"schema.history.internal.store.only.captured.databases.ddl",
	"bootstrap.servers", "sink.type",
	"producer.override.compression.type", "producer.compression.type", "compression.type",
	"producer.override.max.request.size", "producer.max.request.size", "max.request.size",
	"offset.storage.file.filename", "offset.storage.topic", "offset.flush.interval.ms",
	"offset.storage.partitions", "offset.storage.replication.factor",
	"metrics.listen", "log.level", "log.format", "shutdown.timeout",
	"rivulet.binlog.archive.dir",
}

// fixedKey is a Debezium key whose behaviour Rivulet implements only at
// Debezium's default: any other value is reported as not supported yet,
// never silently ignored.
type fixedKey struct {
	key  string
	def  string   // Debezium's default; "" means the key is unset by default
	also []string // other values that make no difference in Rivulet
}

var fixedKeys = []fixedKey{
	{key: "include.query", def: "false"},
	{key: "include.schema.comments", def: "false"},
	{key: "topic.delimiter", def: "."},
	{key: "topic.naming.strategy", def: "io.debezium.schema.DefaultTopicNamingStrategy"},
	{key: "topic.heartbeat.name"},
	{key: "heartbeat.action.query"},
	{key: "event.processing.failure.handling.mode", def: "fail"},
	{key: "event.deserialization.failure.handling.mode", def: "fail"},
	{key: "inconsistent.schema.handling.mode", def: "fail"},
	{key: "enable.time.adjuster", def: "true"},
	{key: "table.ignore.builtin", def: "true"},
	{key: "binlog.buffer.size", def: "0"},
	{key: "notification.enabled.channels"},
	{key: "read.only", def: "false"},
	{key: "database.initial.statements"},
	{key: "converters"}, // handled with its <name>.* keys by unsupportedFamilies
	// Rivulet's snapshot will take no locks at all; "extended" asks for more.
	{key: "snapshot.locking.mode", def: "minimal", also: []string{"none", "extended", "minimal_percona", "minimal_percona_no_table_locks"}},
	{key: "key.converter.decimal.format", def: "BASE64"},
	{key: "value.converter.decimal.format", def: "BASE64"},
	{key: "key.converter.replace.null.with.default", def: "true"},
	{key: "value.converter.replace.null.with.default", def: "true"},
}

// fixedPrefixes are key families Rivulet does not implement at all.
var fixedPrefixes []string

// redact hides the values of keys that hold credentials.
func redact(key, v string) string {
	k := strings.ToLower(key)
	for _, s := range []string{"password", "secret", "jaas", "credential", "token"} {
		if strings.Contains(k, s) {
			return redacted
		}
	}
	return v
}

// sortedKeys returns the keys not consumed yet, sorted.
func (l *loader) sortedKeys() []string {
	keys := make([]string, 0, len(l.m))
	for k := range l.m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// providerRef matches a Kafka Connect config provider reference
// ${provider:[path:]key} (ConfigTransformer.DEFAULT_PATTERN).
var providerRef = regexp.MustCompile(`\$\{([^}]*?):(?:([^}]*?):)?([^}]*?)\}`)

// resolveProviders replaces ${env:NAME}, ${file:PATH:KEY} (a key of a
// properties file) and ${directory:PATH:FILE} (a file's content), as
// Kafka Connect's EnvVar/File/DirectoryConfigProvider do. Rivulet resolves
// them without the worker's config.providers setting.
func (l *loader) resolveProviders() {
	for _, k := range l.sortedKeys() {
		v := l.m[k]
		if !strings.Contains(v, "${") {
			continue
		}
		var ferr *FieldError
		out := providerRef.ReplaceAllStringFunc(v, func(ref string) string {
			if ferr != nil {
				return ref
			}
			sm := providerRef.FindStringSubmatch(ref)
			got, problem, fix := l.resolveRef(sm[1], sm[2], sm[3])
			if problem != "" {
				ferr = invalid(k, v, problem, fix)
				if strings.HasPrefix(problem, "uses config provider") {
					ferr.Err = ErrUnsupported
				}
			}
			return got
		})
		if ferr != nil {
			delete(l.m, k)
			l.fail(ferr)
			continue
		}
		l.m[k] = out
	}
}

func (l *loader) resolveRef(provider, path, key string) (v, problem, fix string) {
	switch provider {
	case "env":
		if v, ok := l.lookupEnv(key); ok {
			return v, "", ""
		}
		return "", "refers to environment variable " + key + ", which is not set", "set " + key + " in Rivulet's environment"
	case "file":
		data, err := os.ReadFile(path)
		if err != nil {
			return "", "refers to a file that cannot be read (" + err.Error() + ")", "mount the file or fix the path"
		}
		m, err := ParseProperties(data)
		if err != nil {
			return "", "refers to a file that is not a properties file (" + err.Error() + ")", "fix " + path
		}
		if v, ok := m[key]; ok {
			return v, "", ""
		}
		return "", "refers to key " + key + ", which " + path + " does not hold", "add " + key + " to " + path
	case "directory":
		data, err := os.ReadFile(filepath.Join(path, key))
		if err != nil {
			return "", "refers to a file that cannot be read (" + err.Error() + ")", "mount the file or fix the path"
		}
		return string(data), "", ""
	}
	return "", "uses config provider " + provider + ", which is not supported yet", "use ${env:NAME}, ${file:PATH:KEY} or ${directory:PATH:FILE}, or write the value"
}

// aliases renames Debezium 1.x keys to their 2.x names, with a warning;
// the 2.x key wins when both are set.
func (l *loader) aliases() {
	l.debeziumServer()
	if v, ok := l.m["database.server.name"]; ok {
		delete(l.m, "database.server.name")
		switch {
		case strings.TrimSpace(v) == "":
		case l.has("topic.prefix"):
			l.warn("database.server.name is ignored because topic.prefix is set (Debezium 2.0 renamed it); remove database.server.name", "database.server.name")
		default:
			l.m["topic.prefix"] = v
			l.warn("database.server.name is deprecated since Debezium 2.0; rename it to topic.prefix", "database.server.name")
		}
	}
	renames := []struct{ from, to, note string }{
		{"database.history", "schema.history.internal", "Debezium 1.x keys database.history.* are deprecated since 2.0; rename them to schema.history.internal.*"},
		{"database.whitelist", "database.include.list", ""},
		{"database.blacklist", "database.exclude.list", ""},
		{"table.whitelist", "table.include.list", ""},
		{"table.blacklist", "table.exclude.list", ""},
		{"column.whitelist", "column.include.list", ""},
		{"column.blacklist", "column.exclude.list", ""},
	}
	var lists []string
	for _, r := range renames {
		var moved []string
		for _, k := range l.sortedKeys() {
			if k != r.from && !strings.HasPrefix(k, r.from+".") {
				continue
			}
			nk := r.to + strings.TrimPrefix(k, r.from)
			if _, exists := l.m[nk]; !exists {
				l.m[nk] = l.m[k]
			}
			delete(l.m, k)
			moved = append(moved, k)
		}
		switch {
		case len(moved) == 0:
		case r.note != "":
			l.warn(r.note, moved...)
		default:
			lists = append(lists, moved...)
		}
	}
	if len(lists) > 0 {
		l.warn("Debezium 1.x keys "+strings.Join(lists, ", ")+" are deprecated; rename *.whitelist to *.include.list and *.blacklist to *.exclude.list", lists...)
	}
}

// unsupportedFamilies reports custom converters, naming each, and
// consumes their <name>.* keys. (Transforms: config/transforms.go.)
func (l *loader) unsupportedFamilies() {
	if v, ok := l.take("converters"); ok {
		for _, name := range splitServers(v) {
			typ := strings.TrimSpace(l.m[name+".type"])
			if typ == "" {
				typ = "no type"
			}
			l.fail(&FieldError{Key: "converters", Value: name, Problem: "(" + typ + ") is not supported yet",
				Fix: "remove it from converters; Rivulet emits Debezium's default column types", Err: ErrUnsupported})
			l.consumePrefix(name + ".")
		}
	}
}

func (l *loader) consumePrefix(prefix string) {
	for k := range l.m {
		if strings.HasPrefix(k, prefix) {
			delete(l.m, k)
		}
	}
}

// fixed reports known keys set to values Rivulet does not implement, and
// Kafka client security settings (TLS, SASL) it does not implement yet.
func (l *loader) fixed() {
	for _, f := range fixedKeys {
		v, ok := l.take(f.key)
		if !ok || strings.EqualFold(v, f.def) {
			continue
		}
		accepted := false
		for _, a := range f.also {
			accepted = accepted || strings.EqualFold(v, a)
		}
		if accepted {
			continue
		}
		fix := "remove " + f.key
		if f.def != "" {
			fix += fmt.Sprintf(" or set it to Debezium's default %q", f.def)
		}
		l.fail(unsupported(f.key, redact(f.key, v), fix))
	}
	for _, k := range l.sortedKeys() {
		v := strings.TrimSpace(l.m[k])
		switch {
		case hasAnyPrefix(k, fixedPrefixes):
			delete(l.m, k)
			l.fail(unsupported(k, redact(k, v), "remove "+k))
		case v != "" && (strings.HasSuffix(k, ".security.protocol") || strings.HasSuffix(k, ".sasl.jaas.config") ||
			strings.HasSuffix(k, ".sasl.mechanism") || strings.Contains(k, ".ssl.")) && !strings.Contains(k, "schema.registry"):
			// A security key under a prefix no client reads must not be
			// mistaken for one that secures a connection.
			delete(l.m, k)
			l.fail(invalid(k, redact(k, v), "is not read by any Kafka client Rivulet opens",
				"set it without a prefix (every client), or with producer., producer.override., consumer., admin., admin.override., schema.history.internal.producer., schema.history.internal.consumer. or signal.consumer."))
		}
	}
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// leftovers reports every key nothing consumed in one warning, suggesting
// the supported key a typo was probably meant to be.
func (l *loader) leftovers() {
	keys := l.sortedKeys()
	if len(keys) == 0 {
		return
	}
	known := make([]string, 0, len(supportedKeys)+len(fixedKeys))
	known = append(known, supportedKeys...)
	known = append(known, kafkaKeys()...)
	for _, f := range fixedKeys {
		known = append(known, f.key)
	}
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k
		if s := suggest(k, known); s != "" {
			parts[i] += " (did you mean " + s + "?)"
		}
	}
	l.warn("ignoring keys that have no effect in Rivulet: "+strings.Join(parts, ", "), keys...)
}

// suggest returns the known key closest to k when k looks like a typo of it.
func suggest(k string, known []string) string {
	norm := strings.ToLower(strings.TrimSpace(k))
	best, bestDist := "", 3
	if len(norm) < 8 {
		bestDist = 2
	}
	for _, c := range known {
		if c == norm && c != k {
			return c // differs only by case or spaces
		}
		if d := editDistance(norm, c, bestDist); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// editDistance returns the Levenshtein distance of a and b, or limit when
// it is at least limit.
func editDistance(a, b string, limit int) int {
	if d := len(a) - len(b); d >= limit || -d >= limit {
		return limit
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			rowMin = min(rowMin, cur[j])
		}
		if rowMin >= limit {
			return limit
		}
		prev, cur = cur, prev
	}
	return min(prev[len(b)], limit)
}

// debeziumServer maps a Debezium Server application.properties onto the
// Connect keys: debezium.source.* are the connector's keys, the Kafka
// sink's producer settings and the JSON format options have Connect
// equivalents. Unprefixed keys win over mapped ones.
func (l *loader) debeziumServer() {
	exact := map[string]string{
		"debezium.sink.type":                             "sink.type",
		"debezium.sink.kafka.producer.bootstrap.servers": "bootstrap.servers",
		"debezium.format.key.schemas.enable":             "key.converter.schemas.enable",
		"debezium.format.value.schemas.enable":           "value.converter.schemas.enable",
		"debezium.transforms":                            "transforms",
		"debezium.predicates":                            "predicates",
	}
	prefixes := []struct{ from, to string }{
		{"debezium.source.", ""},
		{"debezium.sink.kafka.producer.", "producer."},
		{"debezium.transforms.", "transforms."},
		{"debezium.predicates.", "predicates."},
	}
	for _, k := range l.sortedKeys() {
		to, ok := exact[k]
		if !ok {
			for _, p := range prefixes {
				if strings.HasPrefix(k, p.from) {
					to, ok = p.to+strings.TrimPrefix(k, p.from), true
					break
				}
			}
		}
		if ok {
			if _, exists := l.m[to]; !exists {
				l.m[to] = l.m[k]
			}
			delete(l.m, k)
		}
	}
	for _, k := range []string{"debezium.format.key", "debezium.format.value"} {
		if v, ok := l.take(k); ok && !strings.EqualFold(v, "json") {
			l.fail(unsupported(k, v, "set json"))
		}
	}
}
