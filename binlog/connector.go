package binlog

import (
	"context"
	"crypto/tls"

	"github.com/go-mysql-org/go-mysql/client"

	"github.com/rivulet-cdc/rivulet/schema"
)

// Connector opens the connections a Reader and the preflight checks make
// to the source server, with the TLS setting and credentials of the
// configuration (config.MySQL implements it). A zero Config uses a
// plaintext connector with Config.User and Config.Password.
type Connector interface {
	// Connect opens a client connection; dialer makes the TCP connection
	// (nil: a net.Dialer).
	Connect(ctx context.Context, dialer client.Dialer, opts ...client.Option) (*client.Conn, error)
	// Replication returns the user, password and TLS configuration (nil:
	// plaintext) for one new replication connection (a BinlogSyncer's),
	// called before each; a password may be a short-lived token.
	Replication(ctx context.Context) (user, password string, tlsConfig *tls.Config, err error)
}

// plainConnector is the default Connector: no TLS, a fixed password.
type plainConnector struct{ schema.PlainConnector }

func (p plainConnector) Replication(context.Context) (string, string, *tls.Config, error) {
	return p.User, p.Password, nil, nil
}

// describe says how c is protected: the connector's words when it has
// them (Describe), else whether c is encrypted.
func describe(cn Connector, c *client.Conn) string {
	if d, ok := cn.(interface{ Describe(*client.Conn) string }); ok {
		return d.Describe(c)
	}
	if c != nil && c.Conn != nil {
		if _, ok := c.Conn.Conn.(*tls.Conn); ok {
			return "encrypted (TLS)"
		}
	}
	return "not encrypted"
}
