package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// validMap is the smallest configuration that loads without errors or warnings.
func validMap() map[string]string {
	return map[string]string{
		"database.hostname":                   "db",
		"database.user":                       "rivulet",
		"database.password":                   "hunter2",
		"database.server.id":                  "1001",
		"topic.prefix":                        "dbserver1",
		"schema.history.internal.kafka.topic": "schema-changes",
		"offset.storage.file.filename":        "/var/lib/rivulet/offsets.json",
		"bootstrap.servers":                   "localhost:9092",
	}
}

// with returns validMap changed by kv pairs; an empty value deletes the key
// when it is prefixed with "-".
func with(kv ...string) map[string]string {
	m := validMap()
	for i := 0; i+1 < len(kv); i += 2 {
		if strings.HasPrefix(kv[i], "-") {
			delete(m, kv[i][1:])
			continue
		}
		m[kv[i]] = kv[i+1]
	}
	return m
}

func mustFromMap(t *testing.T, m map[string]string) (*Config, []Warning) {
	t.Helper()
	c, w, err := FromMap(m)
	if err != nil {
		t.Fatalf("FromMap: %v", err)
	}
	return c, w
}

func TestDefault(t *testing.T) {
	want := &Config{
		Name:           "rivulet",
		ConnectorClass: "io.debezium.connector.mysql.MySqlConnector",
		Database: Database{
			Port:           3306,
			SSLMode:        SSLPreferred,
			ConnectTimeout: 30 * time.Second,
		},
		TombstonesOnDelete:   true,
		ExtendedHeaders:      true,
		SkippedOperations:    Ops(0).With('t'),
		SnapshotMode:         SnapshotInitial,
		Snapshot:             Snapshot{MaxThreads: 1, ProgressInterval: 30 * time.Second},
		IncludeSchemaChanges: true,
		HeartbeatTopicPrefix: "__debezium-heartbeat",
		TransactionTopic:     "transaction",
		MaxBatchSize:         2048,
		MaxQueueSize:         8192,
		KeyConverter:         Converter{Class: "org.apache.kafka.connect.json.JsonConverter", SchemasEnable: true},
		ValueConverter:       Converter{Class: "org.apache.kafka.connect.json.JsonConverter", SchemasEnable: true},
		SchemaHistory:        SchemaHistory{Store: HistoryKafka, StoreOnlyCapturedDatabasesDDL: true},
		Kafka:                Kafka{Compression: CompressionNone, Producer: Producer{Acks: -1, Idempotent: true}, Clients: defaultClients()},
		Sink:                 SinkKafka,
		Offsets:              Offsets{FlushInterval: time.Minute, TopicPartitions: 25, TopicReplicationFactor: -1},
		MetricsListen:        ":9404",
		LogLevel:             slog.LevelInfo,
		LogFormat:            LogText,
		ShutdownTimeout:      30 * time.Second,
	}
	if diff := cmp.Diff(want, Default()); diff != "" {
		t.Errorf("Default() (-want +got)\n%s", diff)
	}
	if got := Default().Flavor(); got != FlavorMySQL {
		t.Errorf("Flavor() = %q, want mysql", got)
	}
}

func TestDefault_Validate(t *testing.T) {
	err := Default().Validate()
	want := []string{
		"database.hostname: is not set; set the host name or IP address of the MySQL or MariaDB server",
		"database.user: is not set; set a user with REPLICATION SLAVE, REPLICATION CLIENT and SELECT privileges",
		"database.server.id: is not set; set an integer 1-4294967295, unique among the server's replicas",
		"topic.prefix: is not set; set the logical server name that prefixes every topic, such as dbserver1 (Debezium 1.x: database.server.name)",
		"schema.history.internal.kafka.topic: is not set; set the topic that keeps the schema history (one partition, infinite retention), such as schema-changes.inventory",
		"bootstrap.servers: is not set; pass the Kafka Connect worker properties with --worker connect-distributed.properties, or set bootstrap.servers to a comma-separated list of host:port, such as kafka:9092",
		"offset.storage.file.filename: is not set; pass the Kafka Connect worker properties with --worker connect-distributed.properties (its offset.storage.topic keeps offsets in Kafka, as Connect does), or set offset.storage.topic, or the path of an offsets file, such as /var/lib/rivulet/offsets.json",
	}
	if diff := cmp.Diff(strings.Join(want, "\n"), fmt.Sprint(err)); diff != "" {
		t.Errorf("Default().Validate() (-want +got)\n%s", diff)
	}
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("error does not match ErrInvalid")
	}
}

func TestFromMap_Minimal(t *testing.T) {
	c, w := mustFromMap(t, validMap())
	if len(w) != 0 {
		t.Errorf("warnings = %v, want none", w)
	}
	want := Default()
	want.Database.Hostname = "db"
	want.Database.User = "rivulet"
	want.Database.Password = NewSecret("hunter2")
	want.Database.ServerID = 1001
	want.TopicPrefix = "dbserver1"
	want.SchemaHistory.KafkaTopic = "schema-changes"
	want.SchemaHistory.KafkaBootstrapServers = []string{"localhost:9092"}
	want.Kafka.BootstrapServers = []string{"localhost:9092"}
	want.Offsets.FileFilename = "/var/lib/rivulet/offsets.json"
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
}

func TestFromMap_Fields(t *testing.T) {
	tests := []struct {
		name  string
		kv    []string
		check func(*Config) any // returns the value compared with want
		want  any
	}{
		{"name", []string{"name", "inventory-connector"}, func(c *Config) any { return c.Name }, "inventory-connector"},
		{"blank means default", []string{"name", "  ", "database.port", ""}, func(c *Config) any { return fmt.Sprint(c.Name, c.Database.Port) }, "rivulet3306"},
		{"mariadb class", []string{"connector.class", MariaDBConnectorClass}, func(c *Config) any { return c.Flavor() }, FlavorMariaDB},
		{"mysql class", []string{"connector.class", MySQLConnectorClass}, func(c *Config) any { return c.Flavor() }, FlavorMySQL},
		{"port", []string{"database.port", "3307"}, func(c *Config) any { return c.Database.Port }, 3307},
		{"password not trimmed", []string{"database.password", " p w "}, func(c *Config) any { return c.Database.Password.Reveal() }, " p w "},
		{"server id max", []string{"database.server.id", "4294967295"}, func(c *Config) any { return c.Database.ServerID }, uint32(4294967295)},
		{"ssl mode case", []string{"database.ssl.mode", "VERIFY_CA"}, func(c *Config) any { return c.Database.SSLMode }, SSLVerifyCA},
		{"connect timeout", []string{"connect.timeout.ms", "1500"}, func(c *Config) any { return c.Database.ConnectTimeout }, 1500 * time.Millisecond},
		{"include lists", []string{"database.include.list", " inventory , crm ", "table.include.list", `inventory\.orders,crm\.a\,b,`, "column.exclude.list", `inventory\.orders\.secret`},
			func(c *Config) any { return c.Filters },
			Filters{DatabaseInclude: []string{"inventory", "crm"}, TableInclude: []string{`inventory\.orders`, `crm\.a,b`}, ColumnExclude: []string{`inventory\.orders\.secret`}}},
		{"exclude lists", []string{"database.exclude.list", "tmp", "table.exclude.list", `.*\.audit`},
			func(c *Config) any { return c.Filters }, Filters{DatabaseExclude: []string{"tmp"}, TableExclude: []string{`.*\.audit`}}},
		{"tombstones off", []string{"tombstones.on.delete", "FALSE"}, func(c *Config) any { return c.TombstonesOnDelete }, false},
		{"skipped none", []string{"skipped.operations", "none"}, func(c *Config) any { return c.SkippedOperations.String() }, "none"},
		{"skipped list", []string{"skipped.operations", "u, D ,t"}, func(c *Config) any { return c.SkippedOperations.String() }, "u,d,t"},
		{"snapshot no_data", []string{"snapshot.mode", "no_data"}, func(c *Config) any { return c.SnapshotMode }, SnapshotNoData},
		{"snapshot never", []string{"snapshot.mode", "NEVER"}, func(c *Config) any { return c.SnapshotMode }, SnapshotNever},
		{"snapshot always", []string{"snapshot.mode", "always"}, func(c *Config) any { return c.SnapshotMode }, SnapshotAlways},
		{"snapshot initial_only", []string{"snapshot.mode", "initial_only"}, func(c *Config) any { return c.SnapshotMode }, SnapshotInitialOnly},
		{"snapshot when_needed", []string{"snapshot.mode", "when_needed"}, func(c *Config) any { return c.SnapshotMode }, SnapshotWhenNeeded},
		{"snapshot progress interval", []string{"rivulet.snapshot.progress.interval.ms", "5000"}, func(c *Config) any { return c.Snapshot.ProgressInterval }, 5 * time.Second},
		{"snapshot progress off", []string{"rivulet.snapshot.progress.interval.ms", "0"}, func(c *Config) any { return c.Snapshot.ProgressInterval }, time.Duration(0)},
		{"snapshot threads", []string{"snapshot.max.threads", "4"}, func(c *Config) any { return c.Snapshot.MaxThreads }, 4},
		{"snapshot fetch size", []string{"snapshot.fetch.size", "500", "incremental.snapshot.chunk.size", "70"}, func(c *Config) any { return c.Snapshot.ChunkSize }, 500},
		{"snapshot chunk size", []string{"incremental.snapshot.chunk.size", "70"}, func(c *Config) any { return c.Snapshot.ChunkSize }, 70},
		{"snapshot overrides", []string{"snapshot.select.statement.overrides", "db.t", "snapshot.select.statement.overrides.db.t", "SELECT * FROM db.t WHERE x > 0"},
			func(c *Config) any { return c.Snapshot.Overrides }, map[string]string{"db.t": "SELECT * FROM db.t WHERE x > 0"}},
		{"schema changes off", []string{"include.schema.changes", "false"}, func(c *Config) any { return c.IncludeSchemaChanges }, false},
		{"heartbeat", []string{"heartbeat.interval.ms", "5000", "topic.heartbeat.prefix", "hb"}, func(c *Config) any { return fmt.Sprint(c.HeartbeatInterval, c.HeartbeatTopicPrefix) }, "5shb"},
		{"queue sizes", []string{"max.batch.size", "100", "max.queue.size", "101"}, func(c *Config) any { return [2]int{c.MaxBatchSize, c.MaxQueueSize} }, [2]int{100, 101}},
		{"queue bytes", []string{"max.queue.size.in.bytes", "1048576"}, func(c *Config) any { return c.MaxQueueSizeInBytes }, int64(1 << 20)},
		{"queue bytes MiB", []string{"max.queue.size.in.bytes", "64MiB"}, func(c *Config) any { return c.MaxQueueSizeInBytes }, int64(64 << 20)},
		{"queue bytes MB", []string{"max.queue.size.in.bytes", "2 MB"}, func(c *Config) any { return c.MaxQueueSizeInBytes }, int64(2000000)},
		{"schemas disabled", []string{"key.converter.schemas.enable", "false", "value.converter.schemas.enable", "false"},
			func(c *Config) any { return [2]bool{c.KeyConverter.SchemasEnable, c.ValueConverter.SchemasEnable} }, [2]bool{false, false}},
		{"history file", []string{"schema.history.internal", "io.debezium.storage.file.history.FileSchemaHistory", "schema.history.internal.file.filename", "/data/history.dat", "-schema.history.internal.kafka.topic", ""},
			func(c *Config) any { return fmt.Sprint(c.SchemaHistory.Store, c.SchemaHistory.FileFilename) }, "file/data/history.dat"},
		{"history flags", []string{"schema.history.internal.skip.unparseable.ddl", "true", "schema.history.internal.store.only.captured.tables.ddl", "true", "schema.history.internal.store.only.captured.databases.ddl", "false"},
			func(c *Config) any {
				h := c.SchemaHistory
				return [3]bool{h.SkipUnparseableDDL, h.StoreOnlyCapturedTablesDDL, h.StoreOnlyCapturedDatabasesDDL}
			}, [3]bool{true, true, false}},
		{"history servers default to bootstrap.servers", []string{"bootstrap.servers", "k1:9092, PLAINTEXT://k2:9093"},
			func(c *Config) any {
				return [2][]string{c.Kafka.BootstrapServers, c.SchemaHistory.KafkaBootstrapServers}
			},
			[2][]string{{"k1:9092", "k2:9093"}, {"k1:9092", "k2:9093"}}},
		{"history servers own", []string{"bootstrap.servers", "k1:9092", "schema.history.internal.kafka.bootstrap.servers", "h:9092"},
			func(c *Config) any { return c.SchemaHistory.KafkaBootstrapServers }, []string{"h:9092"}},
		{"embedded", []string{"bootstrap.servers", "embedded"}, func(c *Config) any { return c.Kafka.Embedded() }, true},
		{"not embedded", []string{"bootstrap.servers", "k:1"}, func(c *Config) any { return c.Kafka.Embedded() }, false},
		{"embedded port", []string{"bootstrap.servers", "embedded:19092"}, func(c *Config) any {
			port, ok := c.Kafka.EmbeddedPort()
			return fmt.Sprint(port, ok, c.SchemaHistory.KafkaBootstrapServers)
		}, "19092 true [embedded:19092]"},
		{"stdout sink", []string{"sink.type", "STDOUT"}, func(c *Config) any { return c.Sink }, SinkStdout},
		{"compression", []string{"compression.type", "gzip"}, func(c *Config) any { return c.Kafka.Compression }, CompressionGzip},
		{"compression precedence", []string{"compression.type", "gzip", "producer.compression.type", "lz4", "producer.override.compression.type", "ZSTD"},
			func(c *Config) any { return c.Kafka.Compression }, CompressionZstd},
		{"compression producer", []string{"compression.type", "gzip", "producer.compression.type", "snappy"}, func(c *Config) any { return c.Kafka.Compression }, CompressionSnappy},
		{"offset flush", []string{"offset.flush.interval.ms", "1000"}, func(c *Config) any { return c.Offsets.FlushInterval }, time.Second},
		{"metrics", []string{"metrics.listen", "127.0.0.1:0"}, func(c *Config) any { return c.MetricsListen }, "127.0.0.1:0"},
		{"log level", []string{"log.level", "DEBUG"}, func(c *Config) any { return c.LogLevel }, slog.LevelDebug},
		{"log level warn", []string{"log.level", "warn"}, func(c *Config) any { return c.LogLevel }, slog.LevelWarn},
		{"log format", []string{"log.format", "json"}, func(c *Config) any { return c.LogFormat }, LogJSON},
		{"shutdown", []string{"shutdown.timeout", "1m30s"}, func(c *Config) any { return c.ShutdownTimeout }, 90 * time.Second},
		{"fixed key at default", []string{"decimal.handling.mode", "PRECISE", "snapshot.locking.mode", "none", "include.query", "false", "table.ignore.builtin", "true"},
			func(c *Config) any { return c.Name }, "rivulet"},
		{"plaintext kafka", []string{"security.protocol", "PLAINTEXT", "producer.security.protocol", "plaintext"}, func(c *Config) any { return c.Name }, "rivulet"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, w := mustFromMap(t, with(tt.kv...))
			if len(w) != 0 {
				t.Errorf("warnings: %v", w)
			}
			if diff := cmp.Diff(tt.want, tt.check(c)); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

// TestFromMap_Errors pins every error message. Each case produces exactly
// the listed errors, in order.
func TestFromMap_Errors(t *testing.T) {
	tests := []struct {
		name        string
		kv          []string
		want        []string
		unsupported bool
	}{
		// Values that do not parse.
		{"port not a number", []string{"database.port", "abc"}, []string{`database.port: "abc" is not a port number; set an integer 1-65535`}, false},
		{"port out of range", []string{"database.port", "70000"}, []string{`database.port: "70000" is not a port number; set an integer 1-65535`}, false},
		{"server id zero", []string{"database.server.id", "0"}, []string{`database.server.id: "0" is not a server id; set an integer 1-4294967295`}, false},
		{"server id too big", []string{"database.server.id", "4294967296"}, []string{`database.server.id: "4294967296" is not a server id; set an integer 1-4294967295`}, false},
		{"bool", []string{"tombstones.on.delete", "yes"}, []string{`tombstones.on.delete: "yes" is not a boolean; set true or false`}, false},
		{"millis", []string{"connect.timeout.ms", "30s"}, []string{`connect.timeout.ms: "30s" is not a number of milliseconds; set an integer of at least 1`}, false},
		{"millis negative", []string{"heartbeat.interval.ms", "-1"}, []string{`heartbeat.interval.ms: "-1" is not a number of milliseconds; set a non-negative integer`}, false},
		{"offset flush zero", []string{"offset.flush.interval.ms", "0"}, []string{`offset.flush.interval.ms: "0" is not a number of milliseconds; set an integer of at least 1`}, false},
		{"batch size", []string{"max.batch.size", "0"}, []string{`max.batch.size: "0" is not an integer in range; set an integer 1-2147483647`}, false},
		{"queue size float", []string{"max.queue.size", "1e4"}, []string{`max.queue.size: "1e4" is not an integer in range; set an integer 1-2147483647`}, false},
		{"queue bytes", []string{"max.queue.size.in.bytes", "lots"}, []string{`max.queue.size.in.bytes: "lots" is not a size in bytes; set a non-negative integer, optionally with a unit such as "64MiB"; 0 means unlimited`}, false},
		{"skipped operations", []string{"skipped.operations", "c,x"}, []string{`skipped.operations: "c,x" is not a list of operations; set a comma-separated list of c, u, d and t, or none`}, false},
		{"skipped none mixed", []string{"skipped.operations", "none,c"}, []string{`skipped.operations: "none,c" is not a list of operations; set a comma-separated list of c, u, d and t, or none`}, false},
		{"compression", []string{"compression.type", "brotli"}, []string{`compression.type: "brotli" is not a compression type; set none, gzip, snappy, lz4 or zstd`}, false},
		{"log level", []string{"log.level", "verbose"}, []string{`log.level: "verbose" is not a log level; set debug, info, warn or error`}, false},
		{"log level offset", []string{"log.level", "info+2"}, []string{`log.level: "info+2" is not a log level; set debug, info, warn or error`}, false},
		{"shutdown", []string{"shutdown.timeout", "30"}, []string{`shutdown.timeout: "30" is not a positive duration; set a Go duration such as "30s" or "1m30s"`}, false},
		{"history class", []string{"schema.history.internal", "io.debezium.storage.jdbc.history.JdbcSchemaHistory"}, []string{`schema.history.internal: "io.debezium.storage.jdbc.history.JdbcSchemaHistory" is not supported yet; set io.debezium.storage.kafka.history.KafkaSchemaHistory or io.debezium.storage.file.history.FileSchemaHistory`}, true},

		// Validation of parsed values.
		{"name control", []string{"name", "a\x01b"}, []string{`name: "a\x01b" contains control characters; use printable characters`}, false},
		{"connector class", []string{"connector.class", "io.debezium.connector.postgresql.PostgresConnector"}, []string{`connector.class: "io.debezium.connector.postgresql.PostgresConnector" is not a Debezium MySQL or MariaDB connector; set io.debezium.connector.mysql.MySqlConnector or io.debezium.connector.mariadb.MariaDbConnector`}, false},
		{"hostname missing", []string{"-database.hostname", ""}, []string{`database.hostname: is not set; set the host name or IP address of the MySQL or MariaDB server`}, false},
		{"hostname spaces", []string{"database.hostname", "my host"}, []string{`database.hostname: "my host" contains spaces; set a host name or IP address`}, false},
		{"user missing", []string{"database.user", ""}, []string{`database.user: is not set; set a user with REPLICATION SLAVE, REPLICATION CLIENT and SELECT privileges`}, false},
		{"ssl mode", []string{"database.ssl.mode", "on"}, []string{`database.ssl.mode: "on" is not an SSL mode; set disabled, preferred, required, verify_ca or verify_identity (MariaDB connector spellings: disable, trust, verify-ca, verify-full)`}, false},
		{"topic prefix missing", []string{"-topic.prefix", ""}, []string{`topic.prefix: is not set; set the logical server name that prefixes every topic, such as dbserver1 (Debezium 1.x: database.server.name)`}, false},
		{"topic prefix chars", []string{"topic.prefix", "db/server 1"}, []string{`topic.prefix: "db/server 1" contains characters other than A-Z, a-z, 0-9, '.', '_' and '-'; use only those characters, as Kafka topic names do`}, false},
		{"topic prefix long", []string{"topic.prefix", strings.Repeat("p", 250)}, []string{`topic.prefix: "` + strings.Repeat("p", 250) + `" is longer than 249 characters; use a shorter prefix; Kafka limits topic names to 249 characters`}, false},
		{"database include and exclude", []string{"database.include.list", "a", "database.exclude.list", "b,c"}, []string{`database.exclude.list: "b,c" cannot be used together with database.include.list; set only one of database.include.list and database.exclude.list, as Debezium requires`}, false},
		{"table include and exclude", []string{"table.include.list", "a", "table.exclude.list", "b"}, []string{`table.exclude.list: "b" cannot be used together with table.include.list; set only one of table.include.list and table.exclude.list, as Debezium requires`}, false},
		{"column include and exclude", []string{"column.include.list", "a", "column.exclude.list", "b"}, []string{`column.exclude.list: "b" cannot be used together with column.include.list; set only one of column.include.list and column.exclude.list, as Debezium requires`}, false},
		{"bad regex", []string{"table.include.list", `inventory\.(orders`}, []string{"table.include.list: \"inventory\\\\.(orders\" is not a valid regular expression (error parsing regexp: missing closing ): `inventory\\.(orders`); rewrite it in RE2 syntax (no lookaround or backreferences); it is matched case-insensitively against the whole name"}, false},
		{"lookahead", []string{"column.exclude.list", `a(?!b)`}, []string{"column.exclude.list: \"a(?!b)\" is not a valid regular expression (error parsing regexp: invalid or unsupported Perl syntax: `(?!`); rewrite it in RE2 syntax (no lookaround or backreferences); it is matched case-insensitively against the whole name"}, false},
		{"snapshot mode unsupported", []string{"snapshot.mode", "custom"}, []string{`snapshot.mode: "custom" is not supported yet; set initial, initial_only, when_needed, always, no_data, recovery, never or configuration_based`}, true},
		{"snapshot mode unknown", []string{"snapshot.mode", "sometimes"}, []string{`snapshot.mode: "sometimes" is not a snapshot mode; set initial, initial_only, when_needed, always, no_data, recovery, never or configuration_based`}, false},
		{"heartbeat prefix", []string{"heartbeat.interval.ms", "1000", "topic.heartbeat.prefix", "h b"}, []string{`topic.heartbeat.prefix: "h b" is not a valid topic name prefix; use only A-Z, a-z, 0-9, '.', '_' and '-'`}, false},
		{"queue not above batch", []string{"max.batch.size", "8192"}, []string{`max.queue.size: "8192" is not larger than max.batch.size (8192); set max.queue.size above max.batch.size, as Debezium requires (defaults 8192 and 2048)`}, false},
		{"avro without registry", []string{"key.converter", "io.confluent.connect.avro.AvroConverter", "value.converter", "io.confluent.connect.avro.AvroConverter"},
			[]string{`value.converter.schema.registry.url: is not set; set the schema registry's URL, such as http://schema-registry:8081`}, false},
		{"string key converter", []string{"key.converter", "org.apache.kafka.connect.storage.StringConverter"}, []string{`key.converter: "org.apache.kafka.connect.storage.StringConverter" is not supported yet; set org.apache.kafka.connect.json.JsonConverter or io.confluent.connect.avro.AvroConverter`}, true},
		{"history topic missing", []string{"-schema.history.internal.kafka.topic", ""}, []string{`schema.history.internal.kafka.topic: is not set; set the topic that keeps the schema history (one partition, infinite retention), such as schema-changes.inventory`}, false},
		{"history file missing", []string{"schema.history.internal", "io.debezium.storage.file.history.FileSchemaHistory"}, []string{`schema.history.internal.file.filename: is not set; set the path of the schema history file`}, false},
		{"history servers", []string{"schema.history.internal.kafka.bootstrap.servers", "kafka"}, []string{`schema.history.internal.kafka.bootstrap.servers: "kafka" is not host:port; set a comma-separated list of host:port, such as kafka:9092`}, false},
		{"bootstrap servers", []string{"bootstrap.servers", "k1:9092,k2:x", "schema.history.internal.kafka.bootstrap.servers", "h:1"}, []string{`bootstrap.servers: "k2:x" is not host:port; set a comma-separated list of host:port, such as kafka:9092`}, false},
		{"bootstrap embedded mixed", []string{"bootstrap.servers", "embedded,k:1", "schema.history.internal.kafka.bootstrap.servers", "h:1"}, []string{`bootstrap.servers: "embedded,k:1" mixes embedded with brokers; set either embedded alone or a list of host:port`}, false},
		{"bootstrap embedded port mixed", []string{"bootstrap.servers", "k:1,embedded:9093", "schema.history.internal.kafka.bootstrap.servers", "h:1"}, []string{`bootstrap.servers: "k:1,embedded:9093" mixes embedded with brokers; set either embedded alone or a list of host:port`}, false},
		{"sink type", []string{"sink.type", "s3"}, []string{`sink.type: "s3" is not a sink type; set kafka or stdout`}, false},
		{"offset topic name", []string{"-offset.storage.file.filename", "", "offset.storage.topic", "connect offsets"}, []string{`offset.storage.topic: "connect offsets" is not a valid topic name; use only A-Z, a-z, 0-9, '.', '_' and '-'`}, false},
		{"offset topic replication", []string{"-offset.storage.file.filename", "", "offset.storage.topic", "connect-offsets", "offset.storage.replication.factor", "0"}, []string{`offset.storage.replication.factor: "0" is not a replication factor; set a positive number, or -1 for the broker default`}, false},
		{"offset file missing", []string{"-offset.storage.file.filename", ""}, []string{`offset.storage.file.filename: is not set; pass the Kafka Connect worker properties with --worker connect-distributed.properties (its offset.storage.topic keeps offsets in Kafka, as Connect does), or set offset.storage.topic, or the path of an offsets file, such as /var/lib/rivulet/offsets.json`}, false},
		{"metrics listen", []string{"metrics.listen", "9404"}, []string{`metrics.listen: "9404" is not a listen address; set host:port or :port, such as ":9404"`}, false},
		{"log format", []string{"log.format", "logfmt"}, []string{`log.format: "logfmt" is not a log format; set text or json`}, false},

		// Known keys Rivulet implements only at Debezium's default.
		{"fixed with default", []string{"enable.time.adjuster", "false"}, []string{`enable.time.adjuster: "false" is not supported yet; remove enable.time.adjuster or set it to Debezium's default "true"`}, true},
		{"fixed without default", []string{"database.initial.statements", "SET x=1"}, []string{`database.initial.statements: "SET x=1" is not supported yet; remove database.initial.statements`}, true},
		{"snapshot progress negative", []string{"rivulet.snapshot.progress.interval.ms", "-1"}, []string{`rivulet.snapshot.progress.interval.ms: "-1" is not a number of milliseconds; set a non-negative integer`}, false},
		{"truststore unreadable", []string{"database.ssl.mode", "verify_ca", "database.ssl.truststore", "/nonexistent/trust.jks", "database.ssl.truststore.password", "changeit"}, []string{`database.ssl.truststore: "/nonexistent/trust.jks" cannot be read (no such file or directory); mount the truststore file at that path or fix the path`}, false},
		{"snapshot threads out of range", []string{"snapshot.max.threads", "0"}, []string{`snapshot.max.threads: "0" is not an integer in range; set an integer 1-64`}, false},
		{"snapshot override without statement", []string{"snapshot.select.statement.overrides", "db.t"}, []string{`snapshot.select.statement.overrides: "db.t" names db.t without a statement; set snapshot.select.statement.overrides.db.t to the SELECT to use for that table`}, false},
		{"column mask", []string{"column.mask.hash.MD2.with.salt.x", "inventory.customers.email"}, []string{`column.mask.hash.MD2.with.salt.x: "inventory.customers.email" names hash algorithm MD2, which Rivulet does not have; use one of MD5, SHA-1, SHA-224, SHA-256, SHA-384, SHA-512, SHA-512/224, SHA-512/256, SHA3-224, SHA3-256, SHA3-384, SHA3-512`}, false},
		{"kafka kerberos", []string{"producer.override.security.protocol", "SASL_SSL", "producer.override.sasl.mechanism", "GSSAPI"}, []string{`producer.override.sasl.mechanism: "GSSAPI" is not supported yet; Kerberos is not implemented; use SCRAM-SHA-512, OAUTHBEARER or AWS_MSK_IAM`}, true},
		{"kafka sasl without user", []string{"security.protocol", "SASL_SSL", "sasl.mechanism", "PLAIN", "sasl.jaas.config", "org.apache.kafka.common.security.plain.PlainLoginModule required password=\"x\";"}, []string{`sasl.jaas.config: "****" has no username or no password; write it as org.apache.kafka.common.security.plain.PlainLoginModule required username="..." password="...";`}, false},
		{"transforms", []string{"transforms", "unwrap, route", "transforms.unwrap.type", "io.debezium.transforms.ExtractNewRecordState", "transforms.unwrap.drop.tombstones", "false", "transforms.route.predicate", "p", "predicates", "p", "predicates.p.type", "x"},
			[]string{
				`transforms.unwrap.drop.tombstones: "false" was removed in Debezium 3.2 (DBZ-6068); 3.x ignores it; set delete.tombstone.handling.mode instead (drop.tombstones=false keeps tombstones: rewrite-with-tombstone)`,
				`transforms.route.type: is not set; set the transform class, e.g. io.debezium.transforms.ExtractNewRecordState`,
				`predicates: "p" is not supported yet; remove predicates and the transforms' predicate options`,
			}, true},
		{"converters", []string{"converters", "boolean", "boolean.type", "io.debezium.connector.binlog.converters.TinyIntOneToBooleanConverter", "boolean.selector", ".*\\.flag"},
			[]string{`converters: "boolean" (io.debezium.connector.binlog.converters.TinyIntOneToBooleanConverter) is not supported yet; remove it from converters; Rivulet emits Debezium's default column types`}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, err := FromMap(with(tt.kv...))
			if err == nil {
				t.Fatalf("FromMap succeeded, want errors:\n%s", strings.Join(tt.want, "\n"))
			}
			if c != nil {
				t.Errorf("Config = %v with an error, want nil", c)
			}
			if diff := cmp.Diff(strings.Join(tt.want, "\n"), err.Error()); diff != "" {
				t.Errorf("error (-want +got)\n%s", diff)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error does not match ErrInvalid")
			}
			if got := errors.Is(err, ErrUnsupported); got != tt.unsupported {
				t.Errorf("errors.Is(err, ErrUnsupported) = %v, want %v", got, tt.unsupported)
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Key == "" {
				t.Errorf("error is not a *FieldError with a key: %#v", err)
			}
		})
	}
}

func TestFromMap_AllErrorsAtOnce(t *testing.T) {
	_, _, err := FromMap(map[string]string{
		"database.port":      "abc",
		"database.server.id": "x",
		"value.converter":    "org.apache.kafka.connect.storage.StringConverter",
	})
	want := strings.Join([]string{
		`database.port: "abc" is not a port number; set an integer 1-65535`,
		`database.server.id: "x" is not a server id; set an integer 1-4294967295`,
		`database.hostname: is not set; set the host name or IP address of the MySQL or MariaDB server`,
		`database.user: is not set; set a user with REPLICATION SLAVE, REPLICATION CLIENT and SELECT privileges`,
		// no second database.server.id error: it already has one
		`topic.prefix: is not set; set the logical server name that prefixes every topic, such as dbserver1 (Debezium 1.x: database.server.name)`,
		`value.converter: "org.apache.kafka.connect.storage.StringConverter" is not supported yet; set org.apache.kafka.connect.json.JsonConverter or io.confluent.connect.avro.AvroConverter`,
		`schema.history.internal.kafka.topic: is not set; set the topic that keeps the schema history (one partition, infinite retention), such as schema-changes.inventory`,
		`bootstrap.servers: is not set; pass the Kafka Connect worker properties with --worker connect-distributed.properties, or set bootstrap.servers to a comma-separated list of host:port, such as kafka:9092`,
		`offset.storage.file.filename: is not set; pass the Kafka Connect worker properties with --worker connect-distributed.properties (its offset.storage.topic keeps offsets in Kafka, as Connect does), or set offset.storage.topic, or the path of an offsets file, such as /var/lib/rivulet/offsets.json`,
	}, "\n")
	if diff := cmp.Diff(want, fmt.Sprint(err)); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
}

func TestFromMap_Warnings(t *testing.T) {
	tests := []struct {
		name  string
		kv    []string
		want  []Warning
		check func(*Config) any
		value any
	}{
		{
			name: "unknown keys in one warning",
			kv: []string{"tasks.max", "1", "errors.log.enable", "true", "key.converter.schema.registries", "http://r",
				"tabel.include.list", "x", "Database.Hostname", "h", "include.schema.change", "false"},
			want: []Warning{{
				Keys: []string{"Database.Hostname", "errors.log.enable", "include.schema.change", "key.converter.schema.registries", "tabel.include.list", "tasks.max"},
				Message: "ignoring keys that have no effect in Rivulet: Database.Hostname (did you mean database.hostname?), errors.log.enable, " +
					"include.schema.change (did you mean include.schema.changes?), key.converter.schema.registries, " +
					"tabel.include.list (did you mean table.include.list?), tasks.max",
			}},
		},
		{
			name: "misspelled Kafka client and registry keys suggest the real one",
			kv:   []string{"producer.override.linger.msec", "5", "ssl.trustsore.location", "/x", "value.converter.basic.auth.user.inf", "u:p"},
			want: []Warning{{
				Keys: []string{"producer.override.linger.msec", "ssl.trustsore.location", "value.converter.basic.auth.user.inf"},
				Message: "ignoring keys that have no effect in Rivulet: producer.override.linger.msec (did you mean producer.override.linger.ms?), " +
					"ssl.trustsore.location (did you mean ssl.truststore.location?), value.converter.basic.auth.user.inf (did you mean value.converter.basic.auth.user.info?)",
			}},
		},
		{
			name: "Kafka client keys franz-go or Go already cover, prefixed or not",
			kv:   []string{"client.dns.lookup", "use_all_dns_ips", "consumer.sasl.login.refresh.buffer.seconds", "300"},
			want: []Warning{{
				Keys: []string{"client.dns.lookup", "consumer.sasl.login.refresh.buffer.seconds"},
				Message: "Kafka client keys with no effect in Rivulet: client.dns.lookup (Go's dialer tries every address a broker's name resolves to, as use_all_dns_ips does), " +
					"consumer.sasl.login.refresh.buffer.seconds (Rivulet fetches a new token at 80% of its lifetime, Kafka's default)",
			}},
		},
		{
			name:  "database.server.name alias",
			kv:    []string{"-topic.prefix", "", "database.server.name", "legacy"},
			want:  []Warning{{Keys: []string{"database.server.name"}, Message: "database.server.name is deprecated since Debezium 2.0; rename it to topic.prefix"}},
			check: func(c *Config) any { return c.TopicPrefix }, value: "legacy",
		},
		{
			name:  "database.server.name ignored",
			kv:    []string{"database.server.name", "legacy"},
			want:  []Warning{{Keys: []string{"database.server.name"}, Message: "database.server.name is ignored because topic.prefix is set (Debezium 2.0 renamed it); remove database.server.name"}},
			check: func(c *Config) any { return c.TopicPrefix }, value: "dbserver1",
		},
		{
			name: "database.history aliases",
			kv: []string{"-schema.history.internal.kafka.topic", "", "database.history", "io.debezium.relational.history.KafkaDatabaseHistory",
				"database.history.kafka.topic", "dbhistory.inventory", "database.history.kafka.bootstrap.servers", "old:9092", "database.history.skip.unparseable.ddl", "true"},
			want: []Warning{{
				Keys:    []string{"database.history", "database.history.kafka.bootstrap.servers", "database.history.kafka.topic", "database.history.skip.unparseable.ddl"},
				Message: "Debezium 1.x keys database.history.* are deprecated since 2.0; rename them to schema.history.internal.*",
			}},
			check: func(c *Config) any {
				h := c.SchemaHistory
				return fmt.Sprint(h.Store, " ", h.KafkaTopic, " ", h.KafkaBootstrapServers, " ", h.SkipUnparseableDDL)
			},
			value: "kafka dbhistory.inventory [old:9092] true",
		},
		{
			name:  "new history key wins",
			kv:    []string{"database.history.kafka.topic", "old"},
			want:  []Warning{{Keys: []string{"database.history.kafka.topic"}, Message: "Debezium 1.x keys database.history.* are deprecated since 2.0; rename them to schema.history.internal.*"}},
			check: func(c *Config) any { return c.SchemaHistory.KafkaTopic }, value: "schema-changes",
		},
		{
			name: "whitelist aliases",
			kv:   []string{"database.whitelist", "inventory", "table.blacklist", `inventory\.tmp`},
			want: []Warning{{
				Keys:    []string{"database.whitelist", "table.blacklist"},
				Message: "Debezium 1.x keys database.whitelist, table.blacklist are deprecated; rename *.whitelist to *.include.list and *.blacklist to *.exclude.list",
			}},
			check: func(c *Config) any { return c.Filters },
			value: Filters{DatabaseInclude: []string{"inventory"}, TableExclude: []string{`inventory\.tmp`}},
		},
		{
			name:  "schema_only",
			kv:    []string{"snapshot.mode", "schema_only"},
			want:  []Warning{{Keys: []string{"snapshot.mode"}, Message: "snapshot.mode schema_only is the pre-2.6 name of no_data (removed in Debezium 3.3); set snapshot.mode=no_data"}},
			check: func(c *Config) any { return c.SnapshotMode }, value: SnapshotNoData,
		},
		{
			name:  "offset topic beside file",
			kv:    []string{"offset.storage.topic", "connect-offsets"},
			want:  []Warning{{Keys: []string{"offset.storage.topic"}, Message: `offset.storage.topic "connect-offsets" is not used: offsets are stored in /var/lib/rivulet/offsets.json; remove offset.storage.topic`}},
			check: func(c *Config) any { return c.Offsets.Topic }, value: "connect-offsets",
		},
		{
			name: "predicates without transforms are noise",
			kv:   []string{"predicates", "p"},
			want: []Warning{{Keys: []string{"predicates"}, Message: "ignoring keys that have no effect in Rivulet: predicates"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, w := mustFromMap(t, with(tt.kv...))
			if diff := cmp.Diff(tt.want, w); diff != "" {
				t.Errorf("warnings (-want +got)\n%s", diff)
			}
			if tt.check != nil {
				if diff := cmp.Diff(tt.value, tt.check(c)); diff != "" {
					t.Errorf("(-want +got)\n%s", diff)
				}
			}
		})
	}
}

func TestFromMap_RandomServerID(t *testing.T) {
	m := with("-database.server.id", "")
	l := &loader{m: m, bad: map[string]bool{}, lookupEnv: os.LookupEnv, randIntN: func(n int) int {
		if n != 1000 {
			t.Errorf("randIntN(%d), want 1000", n)
		}
		return 999
	}}
	c, w, err := l.run()
	if err != nil {
		t.Fatal(err)
	}
	if c.Database.ServerID != 6399 {
		t.Errorf("ServerID = %d, want 6399", c.Database.ServerID)
	}
	want := []Warning{{Keys: []string{"database.server.id"}, Message: "database.server.id is not set; using 6399 (random in 5400-6399, as Debezium 1.x did); set database.server.id to a fixed id unique among the server's replicas"}}
	if diff := cmp.Diff(want, w); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	// The real generator stays in range.
	for range 50 {
		c, _ := mustFromMap(t, with("-database.server.id", ""))
		if id := c.Database.ServerID; id < 5400 || id > 6399 {
			t.Fatalf("ServerID = %d, want 5400-6399", id)
		}
	}
}

func TestParse_JSON(t *testing.T) {
	doc := `{
	  "name": "inventory-connector",
	  "config": {
	    "connector.class": "io.debezium.connector.mariadb.MariaDbConnector",
	    "database.hostname": "db", "database.port": 3307, "database.user": "u",
	    "database.server.id": 184054, "topic.prefix": "p",
	    "tombstones.on.delete": false, "include.schema.changes": true,
	    "max.queue.size.in.bytes": 1048576, "heartbeat.interval.ms": null,
	    "schema.history.internal.kafka.topic": "h",
	    "offset.storage.file.filename": "/o.json", "offset.flush.interval.ms": 1000,
	    "bootstrap.servers": "kafka:9092"
	  }
	}`
	c, w, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if len(w) != 0 {
		t.Errorf("warnings: %v", w)
	}
	got := fmt.Sprint(c.Name, " ", c.Flavor(), " ", c.Database.Port, " ", c.Database.ServerID, " ", c.TombstonesOnDelete, " ",
		c.IncludeSchemaChanges, " ", c.MaxQueueSizeInBytes, " ", c.HeartbeatInterval, " ", c.Offsets.FlushInterval)
	if want := "inventory-connector mariadb 3307 184054 false true 1048576 0s 1s"; got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
}

func TestParse_JSONFlat(t *testing.T) {
	// GET /connectors/<name>/config returns the flat map, name included.
	doc := "\ufeff" + `  {"name":"flat","database.hostname":"db","database.user":"u","database.server.id":"1","topic.prefix":"p",
	 "schema.history.internal.kafka.topic":"h","offset.storage.file.filename":"/o","bootstrap.servers":"kafka:9092"}`
	c, _, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "flat" {
		t.Errorf("Name = %q, want flat", c.Name)
	}
}

func TestParse_JSONErrors(t *testing.T) {
	tests := []struct {
		name, doc, want string
	}{
		{"syntax", `{"config": {`, "invalid configuration: JSON: unexpected EOF"},
		{"trailing data", `{"a":"b"} {"c":"d"}`, "invalid configuration: JSON: unexpected data after the top-level object"},
		{"object value", `{"name":"n","config":{"database.port":{"v":1},"table.include.list":["a"]}}`,
			"database.port: is a JSON object; write the value as a string, number or boolean\n" +
				"table.include.list: is a JSON array; write the value as a string, number or boolean"},
		{"name mismatch", `{"name":"a","config":{"name":"b"}}`, `name: "b" in config differs from the top-level name "a"; remove one or make them equal`},
		{"name not a string", `{"name":{},"config":{}}`, `name: is a JSON object; write the connector name as a string`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Parse([]byte(tt.doc))
			if err == nil {
				t.Fatal("Parse succeeded")
			}
			// Map iteration order: compare sorted lines.
			if diff := cmp.Diff(sortLines(tt.want), sortLines(err.Error())); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error does not match ErrInvalid")
			}
		})
	}
}

func sortLines(s string) []string {
	lines := strings.Split(s, "\n")
	for i := range lines {
		for j := i + 1; j < len(lines); j++ {
			if lines[j] < lines[i] {
				lines[i], lines[j] = lines[j], lines[i]
			}
		}
	}
	return lines
}

func TestExample(t *testing.T) {
	fromJSON, wJSON, err := Parse(Example())
	if err != nil {
		t.Fatalf("Example(): %v", err)
	}
	fromProps, wProps, err := Load("testdata/connector.properties")
	if err != nil {
		t.Fatalf("connector.properties: %v", err)
	}
	if diff := cmp.Diff(fromJSON, fromProps); diff != "" {
		t.Errorf("JSON and properties differ (-json +properties)\n%s", diff)
	}
	want := []Warning{{Keys: []string{"tasks.max"}, Message: "ignoring keys that have no effect in Rivulet: tasks.max"}}
	if diff := cmp.Diff(want, wJSON); diff != "" {
		t.Errorf("JSON warnings (-want +got)\n%s", diff)
	}
	if diff := cmp.Diff(want, wProps); diff != "" {
		t.Errorf("properties warnings (-want +got)\n%s", diff)
	}
	if fromJSON.Name != "inventory-connector" || fromJSON.TopicPrefix != "dbserver1" || fromJSON.Database.Password.Reveal() != "dbz" {
		t.Errorf("unexpected example config %+v", fromJSON)
	}
	c2, _, err := Load("testdata/connector.json")
	if err != nil || !cmp.Equal(c2, fromJSON) {
		t.Errorf("Load(connector.json) = %v, %v; want Example()", c2, err)
	}
}

func TestLoad_Merge(t *testing.T) {
	dir := t.TempDir()
	worker := filepath.Join(dir, "worker.properties")
	connector := filepath.Join(dir, "connector.json")
	writeFile(t, worker, "bootstrap.servers=k:9092\noffset.storage.file.filename=/w.json\nlog.level=debug\n")
	writeFile(t, connector, `{"name":"c","config":{"database.hostname":"db","database.user":"u","database.server.id":1,
		"topic.prefix":"p","schema.history.internal.kafka.topic":"h","offset.storage.file.filename":"/c.json"}}`)
	c, _, err := Load(worker, connector)
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(c.Kafka.BootstrapServers, c.Offsets.FileFilename, c.LogLevel, c.Name)
	if want := "[k:9092]/c.jsonDEBUGc"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestLoad_Errors(t *testing.T) {
	if _, _, err := Load(); !errors.Is(err, ErrInvalid) {
		t.Errorf("Load() = %v, want ErrInvalid", err)
	}
	_, _, err := Load(filepath.Join(t.TempDir(), "missing.json"))
	if !errors.Is(err, fs.ErrNotExist) || errors.Is(err, ErrInvalid) {
		t.Errorf("Load(missing) = %v, want fs.ErrNotExist and not ErrInvalid", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.properties")
	writeFile(t, bad, "a=\\u12")
	if _, _, err := Load(bad); !errors.Is(err, ErrInvalid) || !strings.HasPrefix(err.Error(), bad+": ") {
		t.Errorf("Load(bad) = %v, want ErrInvalid naming the file", err)
	}
}

func TestFromMap_Providers(t *testing.T) {
	dir := t.TempDir()
	secrets := filepath.Join(dir, "secrets.properties")
	writeFile(t, secrets, "mysql.password=s3cret\n")
	writeFile(t, filepath.Join(dir, "user"), "debezium")
	t.Setenv("RIVULET_TEST_HOST", "db.internal")

	c, _ := mustFromMap(t, with(
		"database.hostname", "${env:RIVULET_TEST_HOST}",
		"database.password", "${file:"+secrets+":mysql.password}",
		"database.user", "${directory:"+dir+":user}",
		"topic.prefix", "p-${env:RIVULET_TEST_HOST}",
	))
	got := fmt.Sprint(c.Database.Hostname, " ", c.Database.Password.Reveal(), " ", c.Database.User, " ", c.TopicPrefix)
	if want := "db.internal s3cret debezium p-db.internal"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}

	tests := []struct {
		name, value, want string
		unsupported       bool
	}{
		{"unset env", "${env:RIVULET_TEST_UNSET}", `database.password: "${env:RIVULET_TEST_UNSET}" refers to environment variable RIVULET_TEST_UNSET, which is not set; set RIVULET_TEST_UNSET in Rivulet's environment`, false},
		{"missing key", "${file:" + secrets + ":nope}", `database.password: "${file:` + secrets + `:nope}" refers to key nope, which ` + secrets + ` does not hold; add nope to ` + secrets, false},
		{"other provider", "${vault:secret/db:password}", `database.password: "${vault:secret/db:password}" uses config provider vault, which is not supported yet; use ${env:NAME}, ${file:PATH:KEY} or ${directory:PATH:FILE}, or write the value`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := FromMap(with("database.password", tt.value))
			if err == nil || err.Error() != tt.want {
				t.Fatalf("err = %v\nwant  %s", err, tt.want)
			}
			if errors.Is(err, ErrUnsupported) != tt.unsupported {
				t.Errorf("errors.Is(err, ErrUnsupported) = %v", !tt.unsupported)
			}
		})
	}
}

func TestSecret_NeverPrinted(t *testing.T) {
	c, _ := mustFromMap(t, with("database.password", "hunter2"))
	s := c.Database.Password
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	logger.Info("config", "password", s, "db", c.Database, "config", c)
	jlogger := slog.New(slog.NewJSONHandler(&logs, nil))
	jlogger.Info("config", "password", s, "db", c.Database)
	js, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"%v": fmt.Sprintf("%v", s), "%+v": fmt.Sprintf("%+v", s), "%#v": fmt.Sprintf("%#v", s),
		"%s": fmt.Sprintf("%s", s), "%q": fmt.Sprintf("%q", s), "%x": fmt.Sprintf("%x", s), "%d": fmt.Sprintf("%d", s),
		"Sprint": fmt.Sprint(s), "String": s.String(), "GoString": s.GoString(),
		"config %v": fmt.Sprintf("%v", c), "config %+v": fmt.Sprintf("%+v", c), "config %#v": fmt.Sprintf("%#v", c),
		"database %+v": fmt.Sprintf("%+v", c.Database), "database %#v": fmt.Sprintf("%#v", c.Database),
		"slog": logs.String(), "json": string(js),
	}
	for name, out := range outputs {
		if strings.Contains(out, "hunter2") {
			t.Errorf("%s reveals the password: %s", name, out)
		}
		if !strings.Contains(out, "****") {
			t.Errorf("%s does not show ****: %s", name, out)
		}
	}
	if s.Reveal() != "hunter2" || s.IsZero() || !s.Equal(NewSecret("hunter2")) || (Secret{}).IsZero() == false {
		t.Errorf("Reveal/IsZero/Equal misbehave")
	}
}

func TestOps(t *testing.T) {
	var s Ops
	if s.String() != "none" || s.Has('c') {
		t.Errorf("zero Ops = %s", s)
	}
	s = s.With('t').With('c').With('x')
	if s.String() != "c,t" || !s.Has('t') || !s.Has('c') || s.Has('u') || s.Has('x') {
		t.Errorf("Ops = %s", s)
	}
}

func TestSupportedKeys(t *testing.T) {
	keys := SupportedKeys()
	for i := 1; i < len(keys); i++ {
		if keys[i-1] >= keys[i] {
			t.Errorf("SupportedKeys not sorted and unique at %q", keys[i])
		}
	}
	// Every supported key is consumed: none of them is reported unknown.
	// Topic creation needs its two default keys whenever any of its keys
	// is present, as in Kafka Connect.
	m := validMap()
	m["topic.creation.default.partitions"] = "3"
	m["topic.creation.default.replication.factor"] = "-1"
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			m[k] = ""
		}
	}
	if _, w := mustFromMap(t, m); len(w) != 0 {
		t.Errorf("warnings for supported keys: %v", w)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestParse_DebeziumServer(t *testing.T) {
	doc := `
debezium.sink.type=kafka
debezium.sink.kafka.producer.bootstrap.servers=kafka:9092
debezium.sink.kafka.producer.key.serializer=org.apache.kafka.common.serialization.StringSerializer
debezium.sink.kafka.producer.compression.type=lz4
debezium.source.connector.class=io.debezium.connector.mysql.MySqlConnector
debezium.source.offset.storage.file.filename=/data/offsets.json
debezium.source.offset.flush.interval.ms=0
debezium.source.database.hostname=mysql
debezium.source.database.port=3306
debezium.source.database.user=debezium
debezium.source.database.password=dbz
debezium.source.database.server.id=184054
debezium.source.topic.prefix=tutorial
debezium.source.database.include.list=inventory
debezium.source.schema.history.internal=io.debezium.storage.file.history.FileSchemaHistory
debezium.source.schema.history.internal.file.filename=/data/history.dat
debezium.format.value=json
debezium.format.value.schemas.enable=false
quarkus.log.level=INFO
`
	_, _, err := Parse([]byte(doc))
	// Debezium Server allows flushing on every commit (0); Connect does not.
	want := `offset.flush.interval.ms: "0" is not a number of milliseconds; set an integer of at least 1`
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %s", err, want)
	}
	c, w, err := Parse([]byte(strings.Replace(doc, "flush.interval.ms=0", "flush.interval.ms=500", 1)))
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(c.Sink, c.Kafka.BootstrapServers, c.Kafka.Compression, c.Offsets.FileFilename, c.Offsets.FlushInterval,
		c.Database.Hostname, c.TopicPrefix, c.SchemaHistory.Store, c.SchemaHistory.FileFilename, c.ValueConverter.SchemasEnable, c.KeyConverter.SchemasEnable)
	if want := "kafka[kafka:9092]lz4/data/offsets.json500msmysqltutorialfile/data/history.datfalse true"; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	wantW := []Warning{{Keys: []string{"producer.key.serializer", "quarkus.log.level"}, Message: "ignoring keys that have no effect in Rivulet: producer.key.serializer, quarkus.log.level"}}
	if diff := cmp.Diff(wantW, w); diff != "" {
		t.Errorf("warnings (-want +got)\n%s", diff)
	}
	_, _, err = FromMap(with("debezium.format.value", "avro"))
	if want := `debezium.format.value: "avro" is not supported yet; set json`; err == nil || err.Error() != want || !errors.Is(err, ErrUnsupported) {
		t.Errorf("err = %v, want %s", err, want)
	}
}
