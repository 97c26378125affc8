package engine

import (
	"context"
	"crypto/tls"
	"sync"

	"github.com/go-mysql-org/go-mysql/client"

	"github.com/rivulet-cdc/rivulet/config"
)

// mysqlConns holds the one MySQL connection setting of each configuration,
// built on first use: every MySQL connection of a command (binlog,
// snapshot, schema loader, preflight, health, signals) goes through it.
var mysqlConns sync.Map // *config.Config -> mysqlConnector

// mysqlConnector is what the stages' Connector interfaces ask of
// config.MySQL (binlog.Connector is the widest).
type mysqlConnector interface {
	Connect(ctx context.Context, dialer client.Dialer, opts ...client.Option) (*client.Conn, error)
	Replication(ctx context.Context) (user, password string, tlsConfig *tls.Config, err error)
	Describe(c *client.Conn) string
}

// mysqlFor returns cfg's MySQL connection setting. When it cannot be built
// (an unreadable keystore, say) every connection fails with that error.
func mysqlFor(cfg *config.Config) mysqlConnector {
	if v, ok := mysqlConns.Load(cfg); ok {
		return v.(mysqlConnector)
	}
	var c mysqlConnector
	m, err := cfg.MySQL()
	if err != nil {
		c = failedConnector{err}
	} else {
		c = m
	}
	v, _ := mysqlConns.LoadOrStore(cfg, c)
	return v.(mysqlConnector)
}

// failedConnector reports why the connection setting could not be built.
type failedConnector struct{ err error }

func (f failedConnector) Connect(context.Context, client.Dialer, ...client.Option) (*client.Conn, error) {
	return nil, f.err
}

func (f failedConnector) Replication(context.Context) (string, string, *tls.Config, error) {
	return "", "", nil, f.err
}

func (f failedConnector) Describe(*client.Conn) string { return "" }
