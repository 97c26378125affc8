package config

import (
	"errors"
	"fmt"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

// Validate reports every problem of c at once (errors.Join of *FieldError),
// each naming the key, the value and the fix. All match ErrInvalid; values
// Rivulet does not implement yet also match ErrUnsupported. nil means c is
// usable.
func (c *Config) Validate() error {
	fes := c.validate()
	if len(fes) == 0 {
		return nil
	}

	errs := make([]error, len(fes))
	for i, e := range fes {
		errs[i] = e
	}
	return errors.Join(errs...)
}

// maxTopicLen is Kafka's limit on topic names.
const maxTopicLen = 249

var topicPrefixChars = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

func (c *Config) validate() []*FieldError {
	var errs []*FieldError
	add := func(e *FieldError) { errs = append(errs, e) }

	switch {
	case strings.TrimSpace(c.Name) == "":
		add(invalid("name", "", "is not set", "set the connector name; it keys the stored offsets"))
	case strings.IndexFunc(c.Name, unicode.IsControl) >= 0:
		add(invalid("name", c.Name, "contains control characters", "use printable characters"))
	}
	if c.ConnectorClass != MySQLConnectorClass && c.ConnectorClass != MariaDBConnectorClass {
		add(invalid("connector.class", c.ConnectorClass, "is not a Debezium MySQL or MariaDB connector",
			"set "+MySQLConnectorClass+" or "+MariaDBConnectorClass))
	}

	d := c.Database
	switch {
	case d.Hostname == "":
		add(invalid("database.hostname", "", "is not set", "set the host name or IP address of the MySQL or MariaDB server"))
	case strings.ContainsFunc(d.Hostname, unicode.IsSpace):
		add(invalid("database.hostname", d.Hostname, "contains spaces", "set a host name or IP address"))
	}
	if d.Port < 1 || d.Port > 65535 {
		add(invalid("database.port", strconv.Itoa(d.Port), "is not a port number", "set an integer 1-65535"))
	}
	if d.User == "" {
		add(invalid("database.user", "", "is not set", "set a user with REPLICATION SLAVE, REPLICATION CLIENT and SELECT privileges"))
	}
	if d.ServerID == 0 {
		add(invalid("database.server.id", "", "is not set", "set an integer 1-4294967295, unique among the server's replicas"))
	}
	errs = append(errs, d.validateDatabaseTLS()...)
	if d.ConnectTimeout <= 0 {
		add(invalid("connect.timeout.ms", strconv.FormatInt(d.ConnectTimeout.Milliseconds(), 10), "is not a positive timeout", "set a number of milliseconds such as 30000"))
	}

	switch {
	case c.TopicPrefix == "":
		add(invalid("topic.prefix", "", "is not set", "set the logical server name that prefixes every topic, such as dbserver1 (Debezium 1.x: database.server.name)"))
	case !topicPrefixChars.MatchString(c.TopicPrefix):
		add(invalid("topic.prefix", c.TopicPrefix, "contains characters other than A-Z, a-z, 0-9, '.', '_' and '-'", "use only those characters, as Kafka topic names do"))
	case len(c.TopicPrefix) > maxTopicLen:
		add(invalid("topic.prefix", c.TopicPrefix, fmt.Sprintf("is longer than %d characters", maxTopicLen), "use a shorter prefix; Kafka limits topic names to 249 characters"))
	}

	f := c.Filters
	for _, lvl := range []struct {
		name             string
		include, exclude []string
	}{
		{"database", f.DatabaseInclude, f.DatabaseExclude},
		{"table", f.TableInclude, f.TableExclude},
		{"column", f.ColumnInclude, f.ColumnExclude},
	} {
		inKey, exKey := lvl.name+".include.list", lvl.name+".exclude.list"
		if len(lvl.include) > 0 && len(lvl.exclude) > 0 {
			add(invalid(exKey, strings.Join(lvl.exclude, ","), "cannot be used together with "+inKey, "set only one of "+inKey+" and "+exKey+", as Debezium requires"))
		}
		for _, set := range []struct {
			key  string
			pats []string
		}{{inKey, lvl.include}, {exKey, lvl.exclude}} {
			for _, p := range set.pats {
				if _, err := CompileFilter(p); err != nil {
					add(invalid(set.key, p, "is not a valid regular expression ("+err.Error()+")", "rewrite it in RE2 syntax (no lookaround or backreferences); it is matched case-insensitively against the whole name"))
				}
			}
		}
	}

	if d := c.BinlogArchiveDir; d != "" {
		if st, err := os.Stat(d); err != nil || !st.IsDir() {
			add(invalid("rivulet.binlog.archive.dir", d, "is not a readable directory",
				"point it at the directory holding the archived binlog files (mysqlbinlog --read-from-remote-server --raw output), or unset it"))
		}
	}
	if len(f.GTIDSourceInclude) > 0 && len(f.GTIDSourceExclude) > 0 {
		add(invalid("gtid.source.excludes", strings.Join(f.GTIDSourceExclude, ","), "cannot be used together with gtid.source.includes", "set only one of gtid.source.includes and gtid.source.excludes"))
	}
	for _, set := range []struct {
		key  string
		pats []string
	}{{"gtid.source.includes", f.GTIDSourceInclude}, {"gtid.source.excludes", f.GTIDSourceExclude}} {
		for _, p := range set.pats {
			if _, err := CompileFilter(p); err != nil {
				add(invalid(set.key, p, "is not a valid regular expression ("+err.Error()+")", "rewrite it in RE2 syntax; it is matched case-insensitively against the whole GTID source"))
			}
		}
	}

	if err := checkMessageKeyColumns(f.MessageKeyColumns); err != "" {
		add(invalid("message.key.columns", f.MessageKeyColumns, err,
			"write entries <db>.<table>:<column>[,<column>...] separated by ';', e.g. inventory.customers:email;(.*).orders:ref"))
	}

	switch c.SnapshotMode {
	case SnapshotInitial, SnapshotNoData, SnapshotNever, SnapshotInitialOnly, SnapshotAlways, SnapshotWhenNeeded, SnapshotRecovery:
	case SnapshotConfigurationBased:
		if cb := c.Snapshot.ConfigurationBased; !cb.Data && !cb.Stream {
			add(invalid(configBasedPrefix+"start.stream", "false", "leaves nothing to do: "+configBasedPrefix+"snapshot.data is false too",
				"set "+configBasedPrefix+"start.stream=true to stream, or "+configBasedPrefix+"snapshot.data=true to snapshot"))
		}
	case "custom":
		add(unsupported("snapshot.mode", string(c.SnapshotMode), "set initial, initial_only, when_needed, always, no_data, recovery, never or configuration_based"))
	default:
		add(invalid("snapshot.mode", string(c.SnapshotMode), "is not a snapshot mode", "set initial, initial_only, when_needed, always, no_data, recovery, never or configuration_based"))
	}
	if c.HeartbeatInterval < 0 {
		add(invalid("heartbeat.interval.ms", strconv.FormatInt(c.HeartbeatInterval.Milliseconds(), 10), "is negative", "set 0 to disable heartbeats or a number of milliseconds"))
	}
	if c.HeartbeatInterval > 0 && !topicPrefixChars.MatchString(c.HeartbeatTopicPrefix) {
		add(invalid("topic.heartbeat.prefix", c.HeartbeatTopicPrefix, "is not a valid topic name prefix", "use only A-Z, a-z, 0-9, '.', '_' and '-'"))
	}

	if c.ProvideTransactionMetadata && (c.TransactionTopic == "" || !topicPrefixChars.MatchString(c.TransactionTopic)) {
		add(invalid("topic.transaction", c.TransactionTopic, "is not a valid topic name", "use only A-Z, a-z, 0-9, '.', '_' and '-' (the topic is <topic.prefix>.<topic.transaction>)"))
	}

	if c.MaxBatchSize < 1 {
		add(invalid("max.batch.size", strconv.Itoa(c.MaxBatchSize), "is not a positive integer", "set an integer such as 2048"))
	}
	if c.MaxQueueSize <= c.MaxBatchSize {
		add(invalid("max.queue.size", strconv.Itoa(c.MaxQueueSize), fmt.Sprintf("is not larger than max.batch.size (%d)", c.MaxBatchSize),
			"set max.queue.size above max.batch.size, as Debezium requires (defaults 8192 and 2048)"))
	}
	if c.MaxQueueSizeInBytes < 0 {
		add(invalid("max.queue.size.in.bytes", strconv.FormatInt(c.MaxQueueSizeInBytes, 10), "is negative", "set 0 (no byte limit) or a size in bytes"))
	}

	for _, e := range c.validateConverters() { // avro.go
		add(e)
	}

	h := c.SchemaHistory
	switch h.Store {
	case HistoryKafka:
		if h.KafkaTopic == "" {
			add(invalid("schema.history.internal.kafka.topic", "", "is not set", "set the topic that keeps the schema history (one partition, infinite retention), such as schema-changes.inventory"))
		}
		if len(h.KafkaBootstrapServers) == 0 && len(c.Kafka.BootstrapServers) == 0 {
			add(noBootstrap())
		} else {
			for _, e := range checkServers("schema.history.internal.kafka.bootstrap.servers", h.KafkaBootstrapServers) {
				add(e)
			}
		}
	case HistoryFile:
		if h.FileFilename == "" {
			add(invalid("schema.history.internal.file.filename", "", "is not set", "set the path of the schema history file"))
		}
	default:
		add(invalid("schema.history.internal", string(h.Store), "is not a schema history store", "set io.debezium.storage.kafka.history.KafkaSchemaHistory or io.debezium.storage.file.history.FileSchemaHistory"))
	}

	switch c.Sink {
	case SinkKafka:
		for _, e := range checkServers("bootstrap.servers", c.Kafka.BootstrapServers) {
			add(e)
		}
	case SinkStdout:
	default:
		add(invalid("sink.type", string(c.Sink), "is not a sink type", "set kafka or stdout"))
	}
	if !validCompression(c.Kafka.Compression) {
		add(invalid("compression.type", string(c.Kafka.Compression), "is not a compression type", "set none, gzip, snappy, lz4 or zstd"))
	}

	o := c.Offsets
	switch {
	case o.FileFilename == "" && o.Topic != "":
		if !topicPrefixChars.MatchString(o.Topic) {
			add(invalid("offset.storage.topic", o.Topic, "is not a valid topic name", "use only A-Z, a-z, 0-9, '.', '_' and '-'"))
		}
		if c.Sink != SinkKafka {
			for _, e := range checkServers("bootstrap.servers", c.Kafka.BootstrapServers) {
				add(e)
			}
		}
	case o.FileFilename == "":
		add(invalid("offset.storage.file.filename", "", "is not set", "pass the Kafka Connect worker properties with --worker connect-distributed.properties (its offset.storage.topic keeps offsets in Kafka, as Connect does), or set offset.storage.topic, or the path of an offsets file, such as /var/lib/rivulet/offsets.json"))
	}
	if o.ExactlyOnce && (o.FileFilename != "" || o.Topic == "" || c.Sink != SinkKafka) {
		add(invalid("exactly.once.support", "required", "needs the Kafka sink and the Kafka offset store", "set offset.storage.topic and remove offset.storage.file.filename (the offset is written in the same transaction as the events), with sink.type=kafka"))
	}
	if o.TopicReplicationFactor == 0 {
		add(invalid("offset.storage.replication.factor", "0", "is not a replication factor", "set a positive number, or -1 for the broker default"))
	}
	if o.FlushInterval <= 0 {
		add(invalid("offset.flush.interval.ms", strconv.FormatInt(o.FlushInterval.Milliseconds(), 10), "is not a positive interval", "set a number of milliseconds such as 60000"))
	}

	if _, port, err := net.SplitHostPort(c.MetricsListen); err != nil || !validPort(port, true) {
		add(invalid("metrics.listen", c.MetricsListen, "is not a listen address", `set host:port or :port, such as ":9404"`))
	}
	switch c.LogFormat {
	case LogText, LogJSON:
	default:
		add(invalid("log.format", string(c.LogFormat), "is not a log format", "set text or json"))
	}
	if c.ShutdownTimeout <= 0 {
		add(invalid("shutdown.timeout", c.ShutdownTimeout.String(), "is not a positive duration", `set a Go duration such as "30s"`))
	}
	return dedupe(errs)
}

// noBootstrap is the error of a missing bootstrap.servers: most often the
// worker file, where Connect users keep it, was not given.
func noBootstrap() *FieldError {
	return invalid("bootstrap.servers", "", "is not set",
		"pass the Kafka Connect worker properties with --worker connect-distributed.properties, or set bootstrap.servers to a comma-separated list of host:port, such as kafka:9092")
}

// dedupe drops repeated errors (the same key and problem found by two
// checks), keeping the first.
func dedupe(fes []*FieldError) []*FieldError {
	seen := map[string]bool{}
	out := fes[:0]
	for _, e := range fes {
		if id := e.Key + "\x00" + e.Problem; !seen[id] {
			seen[id] = true
			out = append(out, e)
		}
	}
	return out
}

// checkServers validates a bootstrap server list.
func checkServers(key string, servers []string) []*FieldError {
	if len(servers) == 0 {
		if key == "bootstrap.servers" {
			return []*FieldError{noBootstrap()}
		}
		return []*FieldError{invalid(key, "", "is not set", "set a comma-separated list of host:port, such as kafka:9092")}
	}
	if (Kafka{BootstrapServers: servers}).Embedded() {
		return nil
	}
	var errs []*FieldError
	for _, s := range servers {
		if host, _, _ := net.SplitHostPort(s); s == EmbeddedKafka || host == EmbeddedKafka {
			errs = append(errs, invalid(key, strings.Join(servers, ","), "mixes embedded with brokers", "set either embedded alone or a list of host:port"))
			continue
		}
		host, port, err := net.SplitHostPort(s)
		if err != nil || host == "" || !validPort(port, false) {
			errs = append(errs, invalid(key, s, "is not host:port", "set a comma-separated list of host:port, such as kafka:9092"))
		}
	}
	return errs
}

func validPort(p string, zeroOK bool) bool {
	n, err := strconv.Atoi(p)
	return err == nil && n <= 65535 && (n >= 1 || zeroOK && n == 0)
}

// CompileFilter compiles one include/exclude list entry the way Debezium
// applies it: case-insensitive, anchored at both ends. The engine uses it
// to hand the filtering stages the patterns Validate checked.
func CompileFilter(pattern string) (*regexp.Regexp, error) {
	if _, err := regexp.Compile(pattern); err != nil {
		return nil, err // reported against the pattern as written
	}
	return regexp.Compile(`(?i)^(?:` + pattern + `)$`)
}

// checkMessageKeyColumns returns what is wrong with a message.key.columns
// value, "" when nothing: each ';'-separated entry must be
// "<table regex>:<column>[,<column>...]" without blanks inside (Debezium's
// CustomKeyMapper pattern), and "<table regex>.<column>" must compile.
func checkMessageKeyColumns(v string) string {
	for _, entry := range strings.Split(v, ";") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		table, cols, ok := strings.Cut(entry, ":")
		if !ok || table == "" || cols == "" || strings.ContainsAny(entry, " \t") || strings.Contains(cols, ":") {
			return fmt.Sprintf("has the entry %q, which is not <db>.<table>:<column>[,<column>...]", entry)
		}
		for _, col := range strings.Split(cols, ",") {
			if col == "" {
				return fmt.Sprintf("has the entry %q with an empty column name", entry)
			}
			if _, err := CompileFilter(table + "." + col); err != nil {
				return fmt.Sprintf("has the entry %q, which is not a valid regular expression (%v)", entry, err)
			}
		}
	}
	return ""
}
