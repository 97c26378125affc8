package config

import (
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"
)

// Connector classes Rivulet replaces (connector.class).
const (
	MySQLConnectorClass   = "io.debezium.connector.mysql.MySqlConnector"
	MariaDBConnectorClass = "io.debezium.connector.mariadb.MariaDbConnector"
)

// JSONConverterClass is Kafka's org.apache.kafka.connect.json.JsonConverter,
// the only converter Rivulet implements so far.
const JSONConverterClass = "org.apache.kafka.connect.json.JsonConverter"

// EmbeddedKafka as the whole of bootstrap.servers runs an in-process Kafka
// broker for development (see Kafka.Embedded).
const EmbeddedKafka = "embedded"

// Flavor is the source database kind, and Debezium's source.connector value.
type Flavor string

// Flavors, set from connector.class.
const (
	FlavorMySQL   Flavor = "mysql"
	FlavorMariaDB Flavor = "mariadb"
)

// SnapshotMode is Debezium's snapshot.mode.
type SnapshotMode string

// Snapshot modes Rivulet accepts (see also config/snapshot.go). Debezium's
// other modes (configuration_based, custom) are reported as not supported yet.
const (
	// SnapshotInitial (Debezium's default) snapshots schema and data when
	// no offsets exist, then streams (chunked, lock-free, resumable).
	SnapshotInitial SnapshotMode = "initial"
	// SnapshotNoData captures the schema only and streams from the current
	// position. "schema_only" (removed in Debezium 3.3) is read as no_data.
	SnapshotNoData SnapshotMode = "no_data"
	// SnapshotNever takes no snapshot and streams from the stored position,
	// or from the oldest binlog on the server when none is stored (Debezium
	// removed it in 3.6 in favour of configuration_based).
	SnapshotNever SnapshotMode = "never"
	// SnapshotRecovery rebuilds a lost or damaged schema history from the
	// live schema at the stored offset, then streams; no data is read.
	// Correct only if no DDL ran since that offset. "schema_only_recovery"
	// (removed in Debezium 3.3) is read as recovery.
	SnapshotRecovery SnapshotMode = "recovery"
)

// SSLMode is database.ssl.mode.
type SSLMode string

// SSL modes, as Debezium's SecureConnectionMode.
const (
	SSLDisabled       SSLMode = "disabled"
	SSLPreferred      SSLMode = "preferred"
	SSLRequired       SSLMode = "required"
	SSLVerifyCA       SSLMode = "verify_ca"
	SSLVerifyIdentity SSLMode = "verify_identity"
)

// SinkType is sink.type, Rivulet's own key: where change events go.
type SinkType string

// Sink types.
const (
	SinkKafka  SinkType = "kafka"
	SinkStdout SinkType = "stdout" // one JSON line per record, for trying Rivulet out
)

// LogFormat is log.format, Rivulet's own key.
type LogFormat string

// Log formats.
const (
	LogText LogFormat = "text"
	LogJSON LogFormat = "json"
)

// Compression is the Kafka producer compression.type.
type Compression string

// Compression codecs, as Kafka's compression.type.
const (
	CompressionNone   Compression = "none"
	CompressionGzip   Compression = "gzip"
	CompressionSnappy Compression = "snappy"
	CompressionLZ4    Compression = "lz4"
	CompressionZstd   Compression = "zstd"
)

// SchemaHistoryStore is where the internal schema history is kept, chosen
// by the schema.history.internal class name.
type SchemaHistoryStore string

// Schema history stores.
const (
	HistoryKafka SchemaHistoryStore = "kafka" // io.debezium.storage.kafka.history.KafkaSchemaHistory
	HistoryFile  SchemaHistoryStore = "file"  // io.debezium.storage.file.history.FileSchemaHistory
)

// Ops is a set of Debezium operation codes ('c', 'u', 'd', 't'), used for
// skipped.operations. The zero value is the empty set ("none").
type Ops uint8

const (
	opCreate Ops = 1 << iota
	opUpdate
	opDelete
	opTruncate
)

var opCodes = [...]struct {
	code byte
	bit  Ops
}{{'c', opCreate}, {'u', opUpdate}, {'d', opDelete}, {'t', opTruncate}}

func opBit(code byte) Ops {
	for _, o := range opCodes {
		if o.code == code {
			return o.bit
		}
	}
	return 0
}

// Has reports whether the operation code op ('c', 'u', 'd', 't') is in s.
func (s Ops) Has(op byte) bool { b := opBit(op); return b != 0 && s&b != 0 }

// With returns s with op added; unknown codes are ignored.
func (s Ops) With(op byte) Ops { return s | opBit(op) }

// String returns the Debezium spelling: "c,t", or "none" for the empty set.
func (s Ops) String() string {
	var b strings.Builder
	for _, o := range opCodes {
		if s&o.bit != 0 {
			if b.Len() > 0 {
				b.WriteByte(',')
			}
			b.WriteByte(o.code)
		}
	}
	if b.Len() == 0 {
		return "none"
	}
	return b.String()
}

// Config is a whole Rivulet configuration. Field comments name the Debezium
// (or Kafka Connect, or Rivulet) key and the default. Build one with
// Default, Load, Parse or FromMap, and check it with Validate.
type Config struct {
	// Name is `name`, the connector name: the first element of every
	// offset key. Default "rivulet".
	Name string
	// ConnectorClass is `connector.class`. Default MySQLConnectorClass;
	// MariaDBConnectorClass is also accepted. Flavor derives from it.
	ConnectorClass string

	Database Database

	// TopicPrefix is `topic.prefix` (Debezium 1.x: `database.server.name`),
	// required: the logical server name that prefixes every topic and is
	// the "server" of the offset key. Only [A-Za-z0-9._-] are allowed.
	TopicPrefix string

	Filters Filters

	// TombstonesOnDelete is `tombstones.on.delete`: follow each delete
	// with a null-valued record for log compaction. Default true.
	TombstonesOnDelete bool
	// ExtendedHeaders is `extended.headers.enabled` (Debezium 3.2+, default
	// true): every change event record carries the
	// __debezium.context.{connectorLogicalName,taskId,connectorName} headers.
	ExtendedHeaders bool
	// SkippedOperations is `skipped.operations`: operations not emitted,
	// from c, u, d, t or "none". Default "t" (truncates skipped).
	SkippedOperations Ops
	// SnapshotMode is `snapshot.mode`. Default "initial".
	SnapshotMode SnapshotMode
	// Snapshot holds the other snapshot keys (threads, chunk size, overrides).
	Snapshot Snapshot
	// Signal holds the signalling keys (signal.*).
	Signal Signal
	// Transforms is Kafka Connect's `transforms` list with each
	// `transforms.<name>.*`: the single message transforms Rivulet applies
	// natively (config/transforms.go), in order.
	Transforms []Transform
	// ColumnMappers are the `column.truncate.to.N.chars` and `column.mask.*` keys.
	ColumnMappers []ColumnMapper
	// Encoding holds the value rendering keys (decimal, time, bigint and
	// binary handling modes, column/datatype.propagate.source.type).
	Encoding Encoding
	// SkipMessagesWithoutChange is `skip.messages.without.change`: an update
	// whose emitted columns did not change produces no record. Default false.
	SkipMessagesWithoutChange bool
	// IncludeSchemaChanges is `include.schema.changes`: publish DDL to the
	// schema change topic named TopicPrefix. Default true.
	IncludeSchemaChanges bool
	// HeartbeatInterval is `heartbeat.interval.ms`; 0 (the default)
	// disables heartbeats.
	HeartbeatInterval time.Duration
	// HeartbeatTopicPrefix is `topic.heartbeat.prefix`: heartbeats go to
	// <prefix>.<TopicPrefix>. Default "__debezium-heartbeat".
	HeartbeatTopicPrefix string
	// ProvideTransactionMetadata is `provide.transaction.metadata`: BEGIN
	// and END records of every transaction on the transaction topic, and a
	// transaction block in every streamed change event. Default false.
	ProvideTransactionMetadata bool
	// TransactionTopic is `topic.transaction`: transaction records go to
	// <TopicPrefix>.<TransactionTopic>. Default "transaction".
	TransactionTopic string

	// MaxBatchSize is `max.batch.size`: most events handed on at once.
	// Default 2048.
	MaxBatchSize int
	// MaxQueueSize is `max.queue.size`: most events buffered between the
	// binlog reader and the sink; must exceed MaxBatchSize. Default 8192.
	MaxQueueSize int
	// MaxQueueSizeInBytes is `max.queue.size.in.bytes`: most bytes buffered
	// between reader and sink; 0 (the default, as in Debezium) bounds the
	// buffer by MaxQueueSize events only. Suffixes KB, MB, GB, KiB, MiB,
	// GiB are accepted.
	MaxQueueSizeInBytes int64

	KeyConverter   Converter // `key.converter`, `key.converter.schemas.enable`
	ValueConverter Converter // `value.converter`, `value.converter.schemas.enable`
	Avro           Avro      // schema registry and name adjustment of the Avro converter (avro.go)

	SchemaHistory SchemaHistory
	Kafka         Kafka

	// Sink is `sink.type` (Rivulet): "kafka" (default) or "stdout".
	Sink SinkType

	Offsets Offsets

	// BinlogArchiveDir is `rivulet.binlog.archive.dir` (Rivulet): a
	// directory of binlog files copied from the server (mysqlbinlog
	// --read-from-remote-server --raw, a binlog server, a backup). A stored
	// position the archive holds is read from the files, then the server
	// continues where they end; `check` and `offsets show` explain a gap
	// neither covers. Default "": the server alone.
	BinlogArchiveDir string

	// MetricsListen is `metrics.listen` (Rivulet): the address of the HTTP
	// server for /metrics, /healthz and /readyz. Default ":9404".
	MetricsListen string
	// LogLevel is `log.level` (Rivulet): debug, info, warn or error.
	// Default info.
	LogLevel slog.Level
	// LogFormat is `log.format` (Rivulet): "text" (default) or "json".
	LogFormat LogFormat
	// ShutdownTimeout is `shutdown.timeout` (Rivulet, a Go duration such as
	// "30s"): how long a graceful stop may take before a hard stop.
	// Default 30s.
	ShutdownTimeout time.Duration
}

// Flavor is "mariadb" for the MariaDB connector class, else "mysql": the
// server dialect (GTID format, binlog flavor) and Debezium's
// source.connector value.
func (c *Config) Flavor() Flavor {
	if c.ConnectorClass == MariaDBConnectorClass {
		return FlavorMariaDB
	}
	return FlavorMySQL
}

// Database is the source connection.
type Database struct {
	// Hostname is `database.hostname`, required.
	Hostname string
	// Port is `database.port`. Default 3306.
	Port int
	// User is `database.user`, required; it needs REPLICATION SLAVE,
	// REPLICATION CLIENT and SELECT.
	User string
	// Password is `database.password`.
	Password Secret
	// ServerID is `database.server.id`: the replica id Rivulet presents,
	// unique among the server's replicas, 1-4294967295. Debezium 2.x
	// requires it; when absent Load picks a random id in 5400-6399 as
	// Debezium 1.x did, and warns.
	ServerID uint32
	// SSLMode is `database.ssl.mode`. Default "preferred". The MariaDB
	// connector's spellings are read as their equivalents: disable
	// (disabled), trust (required), verify-ca (verify_ca), verify-full
	// (verify_identity).
	SSLMode SSLMode
	// SSLTruststore and SSLTruststorePassword are `database.ssl.truststore`
	// and `.password`: the CA certificates that verify_ca and
	// verify_identity check the server certificate against, in a JKS,
	// PKCS12 or PEM file (told apart by content). Unset: the system roots.
	SSLTruststore         string
	SSLTruststorePassword Secret
	// SSLKeystore and SSLKeystorePassword are `database.ssl.keystore` and
	// `.password`: the client certificate and key (JKS, PKCS12 or PEM), for
	// users that REQUIRE X509.
	SSLKeystore         string
	SSLKeystorePassword Secret
	// SSLCA, SSLCert and SSLKey are `database.ssl.ca`, `database.ssl.cert`
	// and `database.ssl.key` (Rivulet): PEM files, the alternative to the
	// Java stores that a Kubernetes TLS Secret mounts (ca.crt, tls.crt,
	// tls.key). SSLCA replaces SSLTruststore, SSLCert and SSLKey replace
	// SSLKeystore.
	SSLCA, SSLCert, SSLKey string
	// SSLKeyPassword is `database.ssl.key.password` (Rivulet): the password
	// of an encrypted PEM key, or of a JKS key entry whose password differs
	// from the keystore's.
	SSLKeyPassword Secret
	// IAM is RDS/Aurora IAM database authentication (database.iam.*).
	IAM IAM
	// ConnectTimeout is `connect.timeout.ms`. Default 30s.
	ConnectTimeout time.Duration
}

// IAM configures RDS/Aurora IAM database authentication: instead of
// database.password, each new connection sends a short-lived token (valid
// 15 minutes) signed with the AWS credentials of the standard chain
// (environment, shared config and profile, EKS IRSA web identity, ECS and
// EC2 instance roles), over TLS only.
type IAM struct {
	// Enabled is `database.iam.authentication.enabled` (Rivulet). Default false.
	Enabled bool
	// Region is `database.iam.region`: the database's AWS region. Default:
	// taken from an RDS host name (<name>.<id>.<region>.rds.amazonaws.com),
	// else AWS_REGION or the profile's region.
	Region string
	// Profile is `database.iam.profile`: the shared config profile whose
	// credentials sign the token. Default: AWS_PROFILE, else "default".
	Profile string
}

// Filters select what is captured. Each list holds regular expressions
// (comma-separated in the configuration, `\,` for a literal comma), matched
// case-insensitively against the whole name, as Debezium does: database
// names, then "db.table", then "db.table.column". Include and exclude of
// the same level cannot both be set. Debezium's built-in databases (mysql,
// performance_schema, sys, information_schema) are never captured
// (table.ignore.builtin=true).
type Filters struct {
	DatabaseInclude []string // `database.include.list` (1.x `database.whitelist`)
	DatabaseExclude []string // `database.exclude.list` (1.x `database.blacklist`)
	TableInclude    []string // `table.include.list` (1.x `table.whitelist`)
	TableExclude    []string // `table.exclude.list` (1.x `table.blacklist`)
	ColumnInclude   []string // `column.include.list` (1.x `column.whitelist`)
	ColumnExclude   []string // `column.exclude.list` (1.x `column.blacklist`)
	// GTIDSourceInclude and GTIDSourceExclude are `gtid.source.includes` and
	// `gtid.source.excludes`: regexes matched against the source of each
	// transaction's GTID (MySQL: the server UUID, and "<uuid>:<tag>" for a
	// tagged GTID of 8.3+, which a pattern naming the UUID alone matches
	// too; MariaDB, a Rivulet equivalent: "<domain>-<server>", so "2-.*" is
	// GTID domain 2). Rows of
	// transactions from other sources are not emitted; the position still
	// moves past them.
	GTIDSourceInclude []string
	GTIDSourceExclude []string
	// MessageKeyColumns is `message.key.columns`: entries
	// "<table regex>:<column>[,<column>...]" separated by ';' that replace
	// the primary key as the change events' key (and serve as the snapshot's
	// chunk key for a table without a primary or non-null unique key).
	MessageKeyColumns string
}

// Converter is a Kafka Connect converter setting for record keys or values.
type Converter struct {
	// Class is `key.converter` / `value.converter`. Default (and the only
	// one implemented) JSONConverterClass.
	Class string
	// SchemasEnable is `*.converter.schemas.enable`: wrap each record in
	// {"schema":..., "payload":...}. Default true, as Kafka's JsonConverter.
	SchemasEnable bool
}

// SchemaHistory is Debezium's internal schema history (schema.history.internal.*,
// 1.x database.history.*).
type SchemaHistory struct {
	// Store follows the class name in `schema.history.internal`. Default
	// kafka (io.debezium.storage.kafka.history.KafkaSchemaHistory).
	Store SchemaHistoryStore
	// KafkaTopic is `schema.history.internal.kafka.topic`, required for the
	// kafka store: one partition, infinite retention.
	KafkaTopic string
	// KafkaBootstrapServers is `schema.history.internal.kafka.bootstrap.servers`.
	// When the key is absent Load copies Kafka.BootstrapServers (Debezium
	// requires the key; Rivulet defaults to the worker's brokers).
	KafkaBootstrapServers []string
	// FileFilename is `schema.history.internal.file.filename`, required for
	// the file store.
	FileFilename string
	// SkipUnparseableDDL is `schema.history.internal.skip.unparseable.ddl`.
	// Default false.
	SkipUnparseableDDL bool
	// FailUnparseableDDL is `schema.history.internal.unparseable.ddl.fallback=fail`
	// (Rivulet): a statement the parser cannot read that may change the
	// columns of a captured table stops the stream at once. The default,
	// `auto` (`reload` is its older name), resolves it first: (1) the
	// table as the next TABLE_MAP's full row metadata describes it, (2) the
	// server's definition when no later statement in the binlog names the
	// table, (3) the last known definition when a later statement drops or
	// renames the table before any row of it; it stops only when none
	// holds. A TABLE_MAP of a table the history lacks goes through (1) and
	// (2) as well. Every later table map is checked against the model.
	FailUnparseableDDL bool
	// StoreOnlyCapturedTablesDDL is
	// `schema.history.internal.store.only.captured.tables.ddl`. Default false.
	StoreOnlyCapturedTablesDDL bool
	// StoreOnlyCapturedDatabasesDDL is
	// `schema.history.internal.store.only.captured.databases.ddl`. Default
	// true for the binlog connectors (BinlogConnectorConfig).
	StoreOnlyCapturedDatabasesDDL bool
}

// Kafka is the producer side (Kafka Connect worker keys).
type Kafka struct {
	// BootstrapServers is `bootstrap.servers` (comma-separated host:port),
	// usually from the Connect worker file (--worker). Required with the
	// Kafka sink or a Kafka store: no default, so that a missing worker file
	// is not mistaken for a broker on localhost. A listener prefix such as
	// "SASL_SSL://" is removed (see ServerProtocol). The single value
	// "embedded" (or "embedded:PORT") starts an in-process broker for
	// development.
	BootstrapServers []string
	// ServerProtocol is the security protocol named by a listener prefix
	// of bootstrap.servers, used by clients whose security.protocol is
	// not set (Kafka clients ignore the prefix; Rivulet warns). "" if none.
	ServerProtocol SecurityProtocol
	// Clients are the connection and authentication settings of each client
	// role (security.protocol, sasl.*, ssl.*, client.id,
	// request.timeout.ms), resolved with Kafka Connect's precedence: see
	// KafkaRole and Client.
	Clients [numKafkaRoles]KafkaClient
	// Producer holds the change-event producer's tuning keys.
	Producer Producer
	// TopicCreation is Kafka Connect's topic.creation.* for the topics
	// change events go to.
	TopicCreation TopicCreation
	// Compression is `producer.override.compression.type`, else
	// `producer.compression.type`, else `compression.type`: none (default),
	// gzip, snappy, lz4 or zstd.
	Compression Compression
	// MaxRequestSize is `producer.override.max.request.size`, else
	// `producer.max.request.size`, else `max.request.size`: the largest
	// record batch the producer sends, so the largest record. 0 means the
	// producer's default (1,000,012 bytes, the broker's default
	// message.max.bytes).
	MaxRequestSize int
}

// Client returns the setting of the client role r.
func (k Kafka) Client(r KafkaRole) KafkaClient {
	if r >= numKafkaRoles {
		return KafkaClient{Protocol: Plaintext}
	}
	c := k.Clients[r]
	if c.Protocol == "" {
		c.Protocol = Plaintext
	}
	return c
}

// Embedded reports whether bootstrap.servers asks for the in-process broker:
// "embedded" (port 9092) or "embedded:PORT".
func (k Kafka) Embedded() bool {
	_, ok := k.EmbeddedPort()
	return ok
}

// EmbeddedPort returns the port of the in-process broker, when bootstrap.servers asks for it.
func (k Kafka) EmbeddedPort() (int, bool) {
	if len(k.BootstrapServers) != 1 {
		return 0, false
	}
	s := k.BootstrapServers[0]
	if s == EmbeddedKafka {
		return 9092, true
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil || host != EmbeddedKafka {
		return 0, false
	}
	n, err := strconv.Atoi(port)
	return n, err == nil && n > 0 && n < 65536
}

// Offsets is where the binlog position is stored (Kafka Connect worker keys).
type Offsets struct {
	// FileFilename is `offset.storage.file.filename`: a JSON file keyed
	// like Connect's offsets, or a Connect standalone worker's own offsets
	// file, kept in its form (offsets.FileStore). It wins when Topic is
	// set too. One of the two is required.
	FileFilename string
	// Topic is `offset.storage.topic` (Kafka Connect worker key): offsets
	// are kept in this compacted Kafka topic on bootstrap.servers, in
	// Kafka Connect's exact record format (offsets.KafkaStore), so Rivulet
	// continues from a Debezium connector's offsets in place.
	Topic string
	// TopicPartitions is `offset.storage.partitions`: partitions of Topic
	// when Rivulet creates it. Default 25, as Kafka Connect.
	TopicPartitions int
	// TopicReplicationFactor is `offset.storage.replication.factor`: the
	// replication factor when Rivulet creates Topic. Default -1 (the
	// broker's default.replication.factor).
	TopicReplicationFactor int
	// FlushInterval is `offset.flush.interval.ms`: how often acknowledged
	// positions are committed. Default 60s, as Kafka Connect.
	FlushInterval time.Duration
	// ExactlyOnce is `exactly.once.support=required` (Kafka Connect's
	// source key; "requested", the default, is false): each batch of change
	// events and its offset record are written in one Kafka transaction, so
	// a read_committed consumer sees every change once across crashes.
	// Requires the Kafka sink and offset.storage.topic.
	ExactlyOnce bool
}

// Defaults, as Debezium 3.x, Kafka Connect and Kafka's JsonConverter define them.
const (
	DefaultName                 = "rivulet"
	DefaultPort                 = 3306
	DefaultMaxBatchSize         = 2048
	DefaultMaxQueueSize         = 8192
	DefaultConnectTimeout       = 30 * time.Second
	DefaultOffsetFlushInterval  = 60 * time.Second
	DefaultShutdownTimeout      = 30 * time.Second
	DefaultMetricsListen        = ":9404"
	DefaultHeartbeatTopicPrefix = "__debezium-heartbeat"
)

// Default returns a Config holding every default. Required values
// (Database.Hostname, Database.User, Database.ServerID, TopicPrefix,
// SchemaHistory.KafkaTopic, Offsets.FileFilename) are left empty.
func Default() *Config {
	return &Config{
		Name:           DefaultName,
		ConnectorClass: MySQLConnectorClass,
		Database: Database{
			Port:           DefaultPort,
			SSLMode:        SSLPreferred,
			ConnectTimeout: DefaultConnectTimeout,
		},
		TombstonesOnDelete:   true,
		ExtendedHeaders:      true,
		SkippedOperations:    opTruncate,
		SnapshotMode:         SnapshotInitial,
		Snapshot:             Snapshot{MaxThreads: 1, ProgressInterval: DefaultProgressInterval},
		IncludeSchemaChanges: true,
		HeartbeatTopicPrefix: DefaultHeartbeatTopicPrefix,
		TransactionTopic:     "transaction",
		MaxBatchSize:         DefaultMaxBatchSize,
		MaxQueueSize:         DefaultMaxQueueSize,
		KeyConverter:         Converter{Class: JSONConverterClass, SchemasEnable: true},
		ValueConverter:       Converter{Class: JSONConverterClass, SchemasEnable: true},
		SchemaHistory: SchemaHistory{
			Store:                         HistoryKafka,
			StoreOnlyCapturedDatabasesDDL: true,
		},
		Kafka: Kafka{
			Compression: CompressionNone,
			Producer:    Producer{Acks: -1, Idempotent: true},
			Clients:     defaultClients(),
		},
		Sink:            SinkKafka,
		Offsets:         Offsets{FlushInterval: DefaultOffsetFlushInterval, TopicPartitions: 25, TopicReplicationFactor: -1},
		MetricsListen:   DefaultMetricsListen,
		LogLevel:        slog.LevelInfo,
		LogFormat:       LogText,
		ShutdownTimeout: DefaultShutdownTimeout,
	}
}
