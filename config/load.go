package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Load reads the configuration files at paths, each either Kafka Connect
// connector JSON or a .properties file (told apart by content: JSON starts
// with '{'), merges them in order (later keys win, as when a Connect worker
// file and a connector file are given), and returns the validated Config.
//
// Warnings are returned even when err is not nil. Errors about the content
// match ErrInvalid; a file that cannot be read returns its fs error.
func Load(paths ...string) (*Config, []Warning, error) {
	if len(paths) == 0 {
		return nil, nil, fmt.Errorf("%w: no configuration file given", ErrInvalid)
	}
	merged := make(map[string]string)
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, nil, fmt.Errorf("read configuration: %w", err)
		}
		m, err := parseDocument(data)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", p, err)
		}
		for k, v := range m {
			merged[k] = v
		}
	}
	return FromMap(merged)
}

// Parse reads one configuration document (connector JSON or .properties)
// and returns the validated Config, as Load does for a file.
func Parse(data []byte) (*Config, []Warning, error) {
	m, err := parseDocument(data)
	if err != nil {
		return nil, nil, err
	}
	return FromMap(m)
}

// FromMap builds the validated Config from configuration keys and values:
// Default, then each key, then Validate. It resolves ${env:NAME},
// ${file:PATH:KEY} and ${directory:PATH:FILE} as Kafka Connect's config
// providers do. The result is nil when err is not nil; warnings are
// returned either way. m is not modified.
func FromMap(m map[string]string) (*Config, []Warning, error) {
	l := &loader{m: make(map[string]string, len(m)), bad: make(map[string]bool), lookupEnv: os.LookupEnv}
	for k, v := range m {
		l.m[k] = v
	}
	return l.run()
}

// parseDocument tells JSON from properties by the first non-blank byte.
func parseDocument(data []byte) (map[string]string, error) {
	trimmed := bytes.TrimLeft(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), " \t\r\n")
	if len(trimmed) > 0 && trimmed[0] == '{' {
		return parseJSON(trimmed)
	}
	return ParseProperties(data)
}

// parseJSON reads {"name": ..., "config": {...}} as POSTed to Kafka
// Connect, or a flat object of keys as returned by
// GET /connectors/<name>/config. Values may be strings, numbers or
// booleans; null means unset.
func parseJSON(data []byte) (map[string]string, error) {
	var top map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&top); err != nil {
		return nil, fmt.Errorf("%w: JSON: %w", ErrInvalid, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: JSON: unexpected data after the top-level object", ErrInvalid)
	}
	out := make(map[string]string)
	var errs []error
	scalars := func(obj map[string]json.RawMessage) {
		for k, raw := range obj {
			v, ok, err := jsonScalar(raw)
			switch {
			case err != nil:
				errs = append(errs, invalid(k, "", "is a JSON "+err.Error(), "write the value as a string, number or boolean"))
			case ok:
				out[k] = v
			}
		}
	}
	cfgRaw, nested := top["config"]
	if nested {
		nested = len(bytes.TrimSpace(cfgRaw)) > 0 && bytes.TrimSpace(cfgRaw)[0] == '{'
	}
	if !nested {
		scalars(top)
		return out, errors.Join(errs...)
	}
	var cfg map[string]json.RawMessage
	if err := json.Unmarshal(cfgRaw, &cfg); err != nil {
		return nil, fmt.Errorf("%w: JSON config: %w", ErrInvalid, err)
	}
	scalars(cfg)
	delete(top, "config")
	if raw, ok := top["name"]; ok {
		delete(top, "name")
		name, set, err := jsonScalar(raw)
		switch {
		case err != nil:
			errs = append(errs, invalid("name", "", "is a JSON "+err.Error(), "write the connector name as a string"))
		case set:
			if inner, ok := out["name"]; ok && inner != name {
				// Kafka Connect refuses this too.
				errs = append(errs, invalid("name", inner, fmt.Sprintf("in config differs from the top-level name %q", name), "remove one or make them equal"))
			}
			out["name"] = name
		}
	}
	// Other top-level members (such as Connect's initial_state) are
	// reported with the unknown keys.
	scalars(top)
	return out, errors.Join(errs...)
}

type jsonKindError string

func (e jsonKindError) Error() string { return string(e) }

// jsonScalar renders a JSON string, number or boolean as the text a
// properties file would hold; ok is false for null.
func jsonScalar(raw json.RawMessage) (v string, ok bool, err error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", false, nil
	}
	switch raw[0] {
	case 'n':
		return "", false, nil
	case '"':
		if err := json.Unmarshal(raw, &v); err != nil {
			return "", false, jsonKindError("string that does not decode")
		}
		return v, true, nil
	case '{':
		return "", false, jsonKindError("object")
	case '[':
		return "", false, jsonKindError("array")
	}
	return string(raw), true, nil // a number, true or false, already validated
}

// loader turns keys into a Config, consuming each key it understands.
type loader struct {
	m         map[string]string // keys not consumed yet
	errs      []*FieldError
	bad       map[string]bool // keys that already have an error
	warns     []Warning
	lookupEnv func(string) (string, bool)
	randIntN  func(int) int // nil: math/rand/v2
}

func (l *loader) run() (*Config, []Warning, error) {
	l.resolveProviders()
	l.aliases()
	c := Default()
	serverIDSet := l.has("database.server.id")
	l.parse(c)
	l.unsupportedFamilies()
	l.fixed()
	l.leftovers()
	if !serverIDSet {
		n := l.randIntN
		if n == nil {
			n = rand.IntN
		}
		c.Database.ServerID = uint32(5400 + n(1000))
		l.warn(fmt.Sprintf("database.server.id is not set; using %d (random in 5400-6399, as Debezium 1.x did); set database.server.id to a fixed id unique among the server's replicas", c.Database.ServerID), "database.server.id")
	}
	errs := make([]error, 0, len(l.errs))
	for _, e := range l.errs {
		errs = append(errs, e)
	}
	for _, e := range c.validate() {
		if !l.bad[e.Key] {
			errs = append(errs, e)
		}
	}
	if len(errs) > 0 {
		return nil, l.warns, errors.Join(errs...)
	}
	return c, l.warns, nil
}

func (l *loader) has(key string) bool {
	v, ok := l.m[key]
	return ok && strings.TrimSpace(v) != ""
}

func (l *loader) fail(e *FieldError) {
	l.errs = append(l.errs, e)
	l.bad[e.Key] = true
}

func (l *loader) warn(msg string, keys ...string) {
	sort.Strings(keys)
	l.warns = append(l.warns, Warning{Keys: keys, Message: msg})
}

// take consumes key and returns its trimmed value; ok is false when the
// key is absent or blank (blank means "use the default", as in Connect).
func (l *loader) take(key string) (string, bool) {
	v, ok := l.m[key]
	if !ok {
		return "", false
	}
	delete(l.m, key)
	v = strings.TrimSpace(v)
	return v, v != ""
}

func (l *loader) str(key string, dst *string) {
	if v, ok := l.take(key); ok {
		*dst = v
	}
}

func (l *loader) boolean(key string, dst *bool) {
	v, ok := l.take(key)
	if !ok {
		return
	}
	switch strings.ToLower(v) {
	case "true":
		*dst = true
	case "false":
		*dst = false
	default:
		l.fail(invalid(key, v, "is not a boolean", "set true or false"))
	}
}

// integer parses key as an integer in [lo, hi]; what names the expected
// value after "is not" (e.g. "a port number").
func (l *loader) integer(key string, lo, hi int64, what string) (int64, bool) {
	v, ok := l.take(key)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < lo || n > hi {
		l.fail(invalid(key, v, "is not "+what, rangeFix(lo, hi)))
		return 0, false
	}
	return n, true
}

func rangeFix(lo, hi int64) string {
	const unbounded = math.MaxInt64 / int64(time.Millisecond) // as large as any key allows
	switch {
	case hi >= unbounded && lo == 0:
		return "set a non-negative integer"
	case hi >= unbounded:
		return fmt.Sprintf("set an integer of at least %d", lo)
	}
	return fmt.Sprintf("set an integer %d-%d", lo, hi)
}

func (l *loader) intField(key string, dst *int, lo, hi int64) {
	if n, ok := l.integer(key, lo, hi, "an integer in range"); ok {
		*dst = int(n)
	}
}

// millis parses a Debezium/Connect *.ms key into a Duration.
func (l *loader) millis(key string, dst *time.Duration, lo int64) {
	const maxMillis = math.MaxInt64 / int64(time.Millisecond)
	if n, ok := l.integer(key, lo, maxMillis, "a number of milliseconds"); ok {
		*dst = time.Duration(n) * time.Millisecond
	}
}

func (l *loader) duration(key string, dst *time.Duration) {
	v, ok := l.take(key)
	if !ok {
		return
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		l.fail(invalid(key, v, "is not a positive duration", `set a Go duration such as "30s" or "1m30s"`))
		return
	}
	*dst = d
}

func (l *loader) regexList(key string, dst *[]string) {
	if v, ok := l.take(key); ok {
		*dst = splitRegexList(v)
	}
}

func (l *loader) servers(key string, dst *[]string) {
	if v, ok := l.take(key); ok {
		*dst = splitServers(v)
	}
}

// lower consumes key as a lower-cased enumeration value.
func (l *loader) lower(key string) (string, bool) {
	v, ok := l.take(key)
	return strings.ToLower(v), ok
}

// parse fills c from the keys Rivulet implements.
func (l *loader) parse(c *Config) {
	l.str("name", &c.Name)
	l.str("connector.class", &c.ConnectorClass)

	d := &c.Database
	l.str("database.hostname", &d.Hostname)
	if n, ok := l.integer("database.port", 1, 65535, "a port number"); ok {
		d.Port = int(n)
	}
	l.str("database.user", &d.User)
	if v, ok := l.m["database.password"]; ok {
		delete(l.m, "database.password")
		d.Password = NewSecret(v) // not trimmed: spaces may be part of a password
	}
	if n, ok := l.integer("database.server.id", 1, math.MaxUint32, "a server id"); ok {
		d.ServerID = uint32(n)
	}
	l.parseDatabaseTLS(d)
	l.millis("connect.timeout.ms", &d.ConnectTimeout, 1)

	l.str("topic.prefix", &c.TopicPrefix)

	f := &c.Filters
	l.regexList("database.include.list", &f.DatabaseInclude)
	l.regexList("database.exclude.list", &f.DatabaseExclude)
	l.regexList("table.include.list", &f.TableInclude)
	l.regexList("table.exclude.list", &f.TableExclude)
	l.regexList("column.include.list", &f.ColumnInclude)
	l.regexList("column.exclude.list", &f.ColumnExclude)
	l.regexList("gtid.source.includes", &f.GTIDSourceInclude)
	l.regexList("gtid.source.excludes", &f.GTIDSourceExclude)
	l.str("message.key.columns", &f.MessageKeyColumns)

	l.boolean("tombstones.on.delete", &c.TombstonesOnDelete)
	l.boolean("extended.headers.enabled", &c.ExtendedHeaders)
	if v, ok := l.take("skipped.operations"); ok {
		if ops, ok := parseOps(v); ok {
			c.SkippedOperations = ops
		} else {
			l.fail(invalid("skipped.operations", v, "is not a list of operations", "set a comma-separated list of c, u, d and t, or none"))
		}
	}
	if v, ok := l.lower("snapshot.mode"); ok {
		if v == "schema_only" {
			v = string(SnapshotNoData)
			l.warn("snapshot.mode schema_only is the pre-2.6 name of no_data (removed in Debezium 3.3); set snapshot.mode=no_data", "snapshot.mode")
		}
		if v == "schema_only_recovery" {
			v = string(SnapshotRecovery)
			l.warn("snapshot.mode schema_only_recovery is the pre-2.6 name of recovery (removed in Debezium 3.3); set snapshot.mode=recovery", "snapshot.mode")
		}
		c.SnapshotMode = SnapshotMode(v)
	}
	l.parseSnapshot(c)
	l.parseSignal(c)
	l.parseTransforms(c)
	l.parseEncoding(c)
	l.boolean("include.schema.changes", &c.IncludeSchemaChanges)
	l.millis("heartbeat.interval.ms", &c.HeartbeatInterval, 0)
	l.str("topic.heartbeat.prefix", &c.HeartbeatTopicPrefix)
	l.boolean("provide.transaction.metadata", &c.ProvideTransactionMetadata)
	l.str("topic.transaction", &c.TransactionTopic)

	l.intField("max.batch.size", &c.MaxBatchSize, 1, math.MaxInt32)
	l.intField("max.queue.size", &c.MaxQueueSize, 1, math.MaxInt32)
	if v, ok := l.take("max.queue.size.in.bytes"); ok {
		if n, ok := parseBytes(v); ok {
			c.MaxQueueSizeInBytes = n
		} else {
			l.fail(invalid("max.queue.size.in.bytes", v, "is not a size in bytes", `set a non-negative integer, optionally with a unit such as "64MiB"; 0 means unlimited`))
		}
	}

	l.str("key.converter", &c.KeyConverter.Class)
	l.boolean("key.converter.schemas.enable", &c.KeyConverter.SchemasEnable)
	l.str("value.converter", &c.ValueConverter.Class)
	l.boolean("value.converter.schemas.enable", &c.ValueConverter.SchemasEnable)
	l.parseAvro(c)

	h := &c.SchemaHistory
	if v, ok := l.take("schema.history.internal"); ok {
		switch v {
		case "io.debezium.storage.kafka.history.KafkaSchemaHistory", "io.debezium.relational.history.KafkaDatabaseHistory":
			h.Store = HistoryKafka
		case "io.debezium.storage.file.history.FileSchemaHistory", "io.debezium.relational.history.FileDatabaseHistory":
			h.Store = HistoryFile
		default:
			l.fail(unsupported("schema.history.internal", v, "set io.debezium.storage.kafka.history.KafkaSchemaHistory or io.debezium.storage.file.history.FileSchemaHistory"))
		}
	}
	l.str("schema.history.internal.kafka.topic", &h.KafkaTopic)
	historyServersSet := l.has("schema.history.internal.kafka.bootstrap.servers")
	l.servers("schema.history.internal.kafka.bootstrap.servers", &h.KafkaBootstrapServers)
	l.str("schema.history.internal.file.filename", &h.FileFilename)
	l.boolean("schema.history.internal.skip.unparseable.ddl", &h.SkipUnparseableDDL)
	if v, ok := l.lower("schema.history.internal.unparseable.ddl.fallback"); ok {
		switch v {
		case "fail":
			h.FailUnparseableDDL = true
		case "auto", "reload":
		default:
			l.fail(invalid("schema.history.internal.unparseable.ddl.fallback", v, "is not auto, reload or fail",
				"set auto (the default: the binlog's row metadata, then the live table, then a later drop; reload is its older name) or fail (stop at once)"))
		}
	}
	l.boolean("schema.history.internal.store.only.captured.tables.ddl", &h.StoreOnlyCapturedTablesDDL)
	l.boolean("schema.history.internal.store.only.captured.databases.ddl", &h.StoreOnlyCapturedDatabasesDDL)

	if v, ok := l.m["bootstrap.servers"]; ok {
		l.parseServerProtocol(c, v)
	}
	l.servers("bootstrap.servers", &c.Kafka.BootstrapServers)
	l.parseKafkaClients(c) // security.protocol, sasl.*, ssl.*, client.id per client role (kafkaclient.go)
	l.parseProducer(c)     // acks, linger.ms, buffer.memory, delivery.timeout.ms (producer.go)
	l.parseTopicCreation(c)
	if !historyServersSet {
		h.KafkaBootstrapServers = append([]string(nil), c.Kafka.BootstrapServers...)
	}
	// Connector-level override, then worker producer setting, then plain.
	compressionSet := false
	for _, key := range []string{"producer.override.compression.type", "producer.compression.type", "compression.type"} {
		v, ok := l.lower(key)
		switch {
		case !ok:
		case !validCompression(Compression(v)):
			l.fail(invalid(key, v, "is not a compression type", "set none, gzip, snappy, lz4 or zstd"))
		case !compressionSet:
			c.Kafka.Compression, compressionSet = Compression(v), true
		}
	}
	for _, key := range []string{"producer.override.max.request.size", "producer.max.request.size", "max.request.size"} {
		if n, ok := l.integer(key, 1024, math.MaxInt32, "a size in bytes"); ok && c.Kafka.MaxRequestSize == 0 {
			c.Kafka.MaxRequestSize = int(n)
		}
	}
	if v, ok := l.lower("sink.type"); ok {
		c.Sink = SinkType(v)
	}

	l.str("offset.storage.file.filename", &c.Offsets.FileFilename)
	l.str("offset.storage.topic", &c.Offsets.Topic)
	if v, ok := l.lower("exactly.once.support"); ok {
		switch v {
		case "required":
			c.Offsets.ExactlyOnce = true
		case "requested":
		default:
			l.fail(invalid("exactly.once.support", v, "is not required or requested", "set required for one Kafka transaction per batch and its offset, or requested (the default: at least once)"))
		}
	}
	l.millis("offset.flush.interval.ms", &c.Offsets.FlushInterval, 1)
	l.intField("offset.storage.partitions", &c.Offsets.TopicPartitions, 1, math.MaxInt32)
	l.intField("offset.storage.replication.factor", &c.Offsets.TopicReplicationFactor, -1, math.MaxInt16)
	if c.Offsets.FileFilename != "" && c.Offsets.Topic != "" {
		l.warn(fmt.Sprintf("offset.storage.topic %q is not used: offsets are stored in %s; remove offset.storage.topic", c.Offsets.Topic, c.Offsets.FileFilename), "offset.storage.topic")
	}

	l.str("metrics.listen", &c.MetricsListen)
	l.str("rivulet.binlog.archive.dir", &c.BinlogArchiveDir)
	if v, ok := l.take("log.level"); ok {
		if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil || strings.ContainsAny(v, "+-") {
			l.fail(invalid("log.level", v, "is not a log level", "set debug, info, warn or error"))
		}
	}
	if v, ok := l.lower("log.format"); ok {
		c.LogFormat = LogFormat(v)
	}
	l.duration("shutdown.timeout", &c.ShutdownTimeout)
}

func validCompression(c Compression) bool {
	switch c {
	case CompressionNone, CompressionGzip, CompressionSnappy, CompressionLZ4, CompressionZstd:
		return true
	}
	return false
}

// parseOps reads skipped.operations: comma-separated c, u, d, t, or "none".
func parseOps(v string) (Ops, bool) {
	var s Ops
	none := false
	for _, p := range strings.Split(v, ",") {
		p = strings.ToLower(strings.TrimSpace(p))
		switch {
		case p == "":
		case p == "none":
			none = true
		case len(p) == 1 && opBit(p[0]) != 0:
			s |= opBit(p[0])
		default:
			return 0, false
		}
	}
	if none && s != 0 {
		return 0, false
	}
	return s, true
}

// parseBytes reads a non-negative byte count with an optional unit.
func parseBytes(v string) (int64, bool) {
	units := []struct {
		suffix string
		mult   int64
	}{
		{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30},
		{"KB", 1000}, {"MB", 1000 * 1000}, {"GB", 1000 * 1000 * 1000},
		{"B", 1},
	}
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(v, u.suffix) {
			v, mult = strings.TrimSpace(strings.TrimSuffix(v, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || n > math.MaxInt64/mult {
		return 0, false
	}
	return n * mult, true
}

// splitRegexList splits a Debezium regular-expression list: commas
// separate, `\,` is a literal comma, items are trimmed and empty ones
// dropped (Debezium's Strings.RegExSplitterByComma).
func splitRegexList(v string) []string {
	var out []string
	start := 0
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '\\':
			i++ // keep the escaped character, whatever it is
		case ',':
			out = appendRegexItem(out, v[start:i])
			start = i + 1
		}
	}
	return appendRegexItem(out, v[start:])
}

func appendRegexItem(out []string, item string) []string {
	item = strings.TrimSpace(item)
	if item == "" {
		return out
	}
	return append(out, strings.ReplaceAll(item, `\,`, ","))
}

// splitServers splits a comma-separated host:port list, dropping a
// listener prefix such as "PLAINTEXT://" that Kafka clients tolerate.
func splitServers(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		s = strings.TrimSpace(s)
		if i := strings.Index(s, "://"); i >= 0 {
			s = s[i+3:]
		}
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// LoadWithWorker reads a Kafka Connect worker properties file
// (connect-distributed.properties) and then the connector configuration at
// path, whose keys override the worker's, as in Connect. From the worker
// Rivulet takes what a worker gives its connectors: bootstrap.servers, the
// client security and tuning keys (bare and with the producer., consumer.
// and admin. prefixes), offset storage, converters, topic.creation.enable
// and config providers. The worker's other keys configure Connect's own
// cluster (group.id, config.storage.topic, rest.*, ...) and are listed in
// one warning; a Debezium key in the worker file (heartbeat.interval.ms
// is also the group heartbeat there) is not applied either.
func LoadWithWorker(worker, path string) (*Config, []Warning, error) {
	data, err := os.ReadFile(worker)
	if err != nil {
		return nil, nil, fmt.Errorf("read worker configuration: %w", err)
	}
	wm, err := parseDocument(data)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", worker, err)
	}
	data, err = os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read configuration: %w", err)
	}
	cm, err := parseDocument(data)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	l := &loader{m: make(map[string]string, len(wm)+len(cm)), bad: make(map[string]bool), lookupEnv: os.LookupEnv}
	var unused []string
	for k, v := range wm {
		if workerKey(k) {
			l.m[k] = v
		} else {
			unused = append(unused, k)
		}
	}
	for k, v := range cm {
		l.m[k] = v
	}
	if len(unused) > 0 {
		sort.Strings(unused)
		l.warn("worker keys that configure Kafka Connect itself, not used by Rivulet: "+strings.Join(unused, ", "), unused...)
	}
	return l.run()
}

// workerKey reports whether a worker file's key is one a Connect worker
// passes on to its connectors' clients and offsets.
func workerKey(k string) bool {
	switch k {
	case "bootstrap.servers", "offset.storage.topic", "offset.storage.file.filename", "offset.storage.partitions",
		"offset.storage.replication.factor", "offset.flush.interval.ms", "topic.creation.enable",
		"key.converter", "value.converter", "key.converter.schemas.enable", "value.converter.schemas.enable",
		"compression.type", "max.request.size", "schema.registry.url":
		return true
	}
	for _, p := range []string{"producer.", "consumer.", "admin.", "key.converter.", "value.converter.", "config.providers", "schema.registry."} {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	for _, ck := range clientKeys {
		if k == ck {
			return true
		}
	}
	for _, pk := range producerKeys {
		if k == pk {
			return true
		}
	}
	return false
}
