package binlog

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/rivulet-cdc/rivulet/schema"
)

// Tables supplies the definition of a table when its TABLE_MAP event is seen.
// It is called from the Reader's loop only (never concurrently), once per
// table id and again after a DDL statement. It returns nil, nil for a table
// that is not captured; its rows are then skipped without decoding. An error
// stops the stream (network errors are retried like any other).
//
// If the implementation caches (schema.Loader does), it may also have an
// InvalidateAll() method: the Reader calls it after every DDL statement in the
// binlog so that the next TABLE_MAP reloads the definition.
type Tables interface {
	Table(ctx context.Context, db, name string) (*schema.Table, error)
}

// invalidator is the optional cache-dropping side of Tables.
type invalidator interface{ InvalidateAll() }

// Observer receives what the Reader does, for metrics. Calls come from the
// Reader's loop goroutine, must not block and must not retain arguments.
// A nil Observer in Config means no-op.
type Observer interface {
	// Connected is called each time a replication connection is established.
	Connected()
	// Disconnected is called when a connection is lost; err is the cause.
	Disconnected(err error)
	// RowsDecoded counts the change events decoded for table ("db.table").
	RowsDecoded(table string, n int)
	// Filtered counts one rows event skipped without decoding because its
	// table ("db.table") is excluded or not captured.
	Filtered(table string)
	// Committed is called once per transaction read to its commit, with the
	// commit's binlog timestamp (seconds since the epoch).
	Committed(tsSec int64)
}

// Flavors.
const (
	FlavorMySQL   = "mysql"
	FlavorMariaDB = "mariadb"
)

// Defaults for zero Config fields.
const (
	DefaultHost             = "127.0.0.1"
	DefaultPort             = 3306
	DefaultMaxBatchSize     = 2048
	DefaultReconnectMin     = 250 * time.Millisecond
	DefaultReconnectMax     = 30 * time.Second
	DefaultHeartbeatPeriod  = 5 * time.Second
	DefaultReadTimeout      = 2 * DefaultHeartbeatPeriod // two missed heartbeats: a silent network is noticed in 10 s (RELIABILITY §3 #9)
	DefaultPositionInterval = time.Second
	DefaultEventBuffer      = 1024
	DefaultConnectTimeout   = 10 * time.Second
)

// Config configures a Reader. The zero value of every field means its
// default, documented on the field.
type Config struct {
	// Host and Port of the source server. Defaults: DefaultHost, DefaultPort.
	Host string
	Port int
	// User and Password of a user with REPLICATION SLAVE, REPLICATION CLIENT
	// and SELECT (MariaDB ≥10.5: also BINLOG MONITOR).
	User     string
	Password string
	// Connector, when set, opens every connection to the server, the
	// replication connection included (TLS per database.ssl.mode, IAM
	// tokens refreshed on each reconnect); User and Password then only name
	// the account in messages. Default: plaintext with User and Password.
	Connector Connector
	// ServerID is the id this replica registers with; it must differ from
	// the server's and from every other replica's (Debezium:
	// database.server.id). Default: a random id in [5400, 6400), as Debezium.
	ServerID uint32
	// Flavor is FlavorMySQL or FlavorMariaDB. Default "": detected with
	// SELECT VERSION() (containing "MariaDB").
	Flavor string
	// Tables supplies table definitions (required), typically the live
	// schema loader.
	Tables Tables
	// DDL, when set, receives every DDL statement in binlog order and keeps
	// the schema model Tables reads (schema.Tracker, which is both); the
	// changes travel in Batch.Schema. Default nil: Tables is asked again
	// after each DDL (InvalidateAll).
	DDL DDLApplier
	// Include reports whether rows of db.table are captured. Default nil:
	// all tables. Rows of excluded tables are skipped without decoding and
	// Tables is not asked for them.
	Include func(db, table string) bool
	// GTIDSource, when set, reports whether the rows of a transaction from
	// GTID source src are emitted (gtid.source.includes/excludes): src is
	// the server UUID of a MySQL GTID ("<uuid>:<tag>" of a tagged one, MySQL
	// 8.3+), and "<domain>-<server>" of a MariaDB
	// GTID (so "2-.*" names every transaction of domain 2). A transaction
	// whose source is rejected emits no change events, but its DDL is
	// applied and the position (and GTID set) moves past it, as Debezium's
	// GTID source filter does. Default nil: every transaction is emitted.
	GTIDSource func(src string) bool
	// MaxBatchSize is the number of change events after which a batch is
	// handed out inside a large transaction (at the next rows-event
	// boundary). Default DefaultMaxBatchSize.
	MaxBatchSize int
	// Observer receives counts and connection state. Default nil: no-op.
	Observer Observer
	// Logger receives state changes (connected, disconnected, resolved
	// start). Default: discard.
	Logger *slog.Logger
	// ReconnectMin and ReconnectMax bound the exponential backoff between
	// reconnection attempts after a retryable error. Defaults
	// DefaultReconnectMin, DefaultReconnectMax.
	ReconnectMin time.Duration
	ReconnectMax time.Duration
	// HeartbeatPeriod asks the server to send a heartbeat when the binlog is
	// idle for this long; it bounds how late an idle position is handed out.
	// Default DefaultHeartbeatPeriod.
	HeartbeatPeriod time.Duration
	// ReadTimeout is how long the connection may stay silent (no event, no
	// heartbeat) before it is considered dead and re-established. Must be
	// larger than HeartbeatPeriod. Default DefaultReadTimeout.
	ReadTimeout time.Duration
	// PositionInterval is the longest a position reached by transactions
	// that produced no events (excluded tables, DDL, empty transactions) is
	// held back before it is handed out as an empty Batch. Default
	// DefaultPositionInterval.
	PositionInterval time.Duration
	// EventBuffer is the number of binlog events read ahead of decoding.
	// Default DefaultEventBuffer.
	EventBuffer int
	// ConnectTimeout bounds dialing and the start-up queries. Default
	// DefaultConnectTimeout.
	ConnectTimeout time.Duration
	// TxMetadata (provide.transaction.metadata) describes transactions in
	// Batch.Tx: every transaction is handed out, also one without events,
	// and after Run starts inside a transaction (a stored position with
	// events to skip) the events emitted before are handed out again,
	// marked event.ChangeEvent.Replayed, so that the transaction's orders
	// can be counted on. Default false: skipped events are dropped.
	TxMetadata bool
}

// withDefaults returns c with defaults applied, or an error naming every
// invalid field.
func (c Config) withDefaults() (Config, error) {
	if c.Host == "" {
		c.Host = DefaultHost
	}
	if c.Port == 0 {
		c.Port = DefaultPort
	}
	if c.ServerID == 0 {
		c.ServerID = 5400 + rand.Uint32N(1000)
	}
	if c.MaxBatchSize == 0 {
		c.MaxBatchSize = DefaultMaxBatchSize
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.ReconnectMin == 0 {
		c.ReconnectMin = DefaultReconnectMin
	}
	if c.ReconnectMax == 0 {
		c.ReconnectMax = DefaultReconnectMax
	}
	if c.HeartbeatPeriod == 0 {
		c.HeartbeatPeriod = DefaultHeartbeatPeriod
	}
	if c.ReadTimeout == 0 {
		c.ReadTimeout = DefaultReadTimeout
		if c.ReadTimeout <= c.HeartbeatPeriod {
			c.ReadTimeout = 3 * c.HeartbeatPeriod
		}
	}
	if c.PositionInterval == 0 {
		c.PositionInterval = DefaultPositionInterval
	}
	if c.EventBuffer == 0 {
		c.EventBuffer = DefaultEventBuffer
	}
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.Connector == nil {
		c.Connector = plainConnector{schema.PlainConnector{Addr: net.JoinHostPort(c.Host, strconv.Itoa(c.Port)), User: c.User, Password: c.Password}}
	}
	c.Flavor = strings.ToLower(c.Flavor)

	var problems []string
	if c.Tables == nil {
		problems = append(problems, "Tables is required")
	}
	if c.Port < 0 || c.Port > 65535 {
		problems = append(problems, fmt.Sprintf("Port %d is not a TCP port", c.Port))
	}
	if c.Flavor != "" && c.Flavor != FlavorMySQL && c.Flavor != FlavorMariaDB {
		problems = append(problems, fmt.Sprintf("Flavor %q is not %q or %q", c.Flavor, FlavorMySQL, FlavorMariaDB))
	}
	if c.MaxBatchSize < 0 {
		problems = append(problems, fmt.Sprintf("MaxBatchSize %d is negative", c.MaxBatchSize))
	}
	if c.ReconnectMin < 0 || c.ReconnectMax < c.ReconnectMin {
		problems = append(problems, fmt.Sprintf("reconnect backoff %v..%v is not a valid range", c.ReconnectMin, c.ReconnectMax))
	}
	if c.HeartbeatPeriod < 0 || c.ReadTimeout <= c.HeartbeatPeriod {
		problems = append(problems, fmt.Sprintf("ReadTimeout %v must exceed HeartbeatPeriod %v", c.ReadTimeout, c.HeartbeatPeriod))
	}
	if c.PositionInterval < 0 || c.EventBuffer < 0 || c.ConnectTimeout < 0 {
		problems = append(problems, "PositionInterval, EventBuffer and ConnectTimeout must not be negative")
	}
	if len(problems) > 0 {
		return c, fmt.Errorf("%w: %s", ErrConfig, strings.Join(problems, "; "))
	}
	return c, nil
}

type nopObserver struct{}

func (nopObserver) Connected()              {}
func (nopObserver) Disconnected(error)      {}
func (nopObserver) RowsDecoded(string, int) {}
func (nopObserver) Filtered(string)         {}
func (nopObserver) Committed(int64)         {}
