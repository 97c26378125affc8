package snapshot

import (
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/rivulet-cdc/rivulet/schema"
)

// Defaults for zero Config fields.
const (
	DefaultChunkSize      = 8192
	DefaultThreads        = 1
	DefaultConnectTimeout = 10 * time.Second
)

// Config configures a Snapshotter; zero means the default named on the field.
type Config struct {
	// Host, Port, User and Password of the source server; the user needs
	// SELECT and REPLICATION CLIENT (BINLOG MONITOR on MariaDB ≥10.5) for
	// SHOW MASTER STATUS.
	Host     string
	Port     int
	User     string
	Password string
	// Connector, when set, opens the connections (TLS per
	// database.ssl.mode, IAM tokens); User and Password are then unused.
	// Default: plaintext with User and Password.
	Connector schema.Connector
	// ChunkSize is the number of rows per chunk (snapshot.fetch.size /
	// incremental.snapshot.chunk.size). Default DefaultChunkSize.
	ChunkSize int
	// Threads is the number of connections reading chunks in parallel
	// (snapshot.max.threads). Default DefaultThreads.
	Threads int
	// Overrides maps "db.table" to a SELECT replacing "SELECT * FROM
	// db.table" (snapshot.select.statement.overrides). The chunk condition
	// is applied to it as a derived table, so it must return every column.
	Overrides map[string]string
	// ConnectTimeout bounds dialling. Default DefaultConnectTimeout.
	ConnectTimeout time.Duration
	// Logger receives progress; default discard.
	Logger *slog.Logger
}

func (c Config) withDefaults() (Config, error) {
	if c.Host == "" {
		c.Host = "127.0.0.1"
	}
	if c.Port == 0 {
		c.Port = 3306
	}
	if c.ChunkSize == 0 {
		c.ChunkSize = DefaultChunkSize
	}
	if c.Threads == 0 {
		c.Threads = DefaultThreads
	}
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.Connector == nil {
		c.Connector = schema.PlainConnector{Addr: net.JoinHostPort(c.Host, strconv.Itoa(c.Port)), User: c.User, Password: c.Password}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	var problems []string
	if c.ChunkSize < 1 {
		problems = append(problems, fmt.Sprintf("ChunkSize %d is not positive", c.ChunkSize))
	}
	if c.Threads < 1 || c.Threads > 64 {
		problems = append(problems, fmt.Sprintf("Threads %d is not in 1..64", c.Threads))
	}
	if len(problems) > 0 {
		return c, fmt.Errorf("%w: %s", ErrConfig, strings.Join(problems, "; "))
	}
	return c, nil
}
