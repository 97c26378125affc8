package schema

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"
)

// defaultConnectTimeout bounds dialling and the handshake when the caller's
// context has no earlier deadline.
const defaultConnectTimeout = 10 * time.Second

// conn is one client connection used by one caller at a time. It dials on
// first use and again after the connection broke (network error, cancelled
// query); server errors (unknown table, denied) leave it in place. A query
// that fails on a connection that was already open is retried once on a fresh
// one, because the server may have closed an idle connection
// (wait_timeout) since the last use.
type conn struct {
	connector Connector
	addr      string
	user      string
	log       *slog.Logger

	mu      sync.Mutex
	c       *client.Conn
	version string // server version from the last handshake ("5.5.5-10.11.6-MariaDB-...")
}

// execute runs query (with args as a prepared statement when given) and
// returns its result. The caller must not keep the result past its own use;
// calls are serialised.
func (c *conn) execute(ctx context.Context, query string, args ...any) (*mysql.Result, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for attempt := 0; ; attempt++ {
		fresh := false
		if c.c == nil {
			cc, err := dial(ctx, c.connector, c.addr, c.user)
			if err != nil {
				return nil, err
			}
			c.c, fresh = cc, true
			c.version = cc.GetServerVersion()
		}
		var res *mysql.Result
		broken, err := withContext(ctx, c.c, func() error {
			var err error
			res, err = c.c.Execute(query, args...)
			return err
		})
		if err == nil && !broken {
			return res, nil
		}
		if err != nil && !broken && isServerError(err) {
			return nil, err
		}
		_ = c.c.Close()
		c.c = nil
		if err == nil {
			// The query finished just as ctx ended: the result is good, the
			// connection's deadline is not.
			return res, nil
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
		if fresh || attempt > 0 {
			return nil, err
		}
		c.log.DebugContext(ctx, "schema connection broken, reconnecting", "error", err)
	}
}

// serverVersion returns the version the server announced in the last
// handshake, or "" before the first connection.
func (c *conn) serverVersion() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.version
}

// close closes the connection if one is open.
func (c *conn) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.c == nil {
		return nil
	}
	err := c.c.Close()
	c.c = nil
	return err
}

// Connector opens client connections to the source server with the TLS
// setting and credentials of the configuration (config.MySQL implements it;
// PlainConnector is the unencrypted default of a zero configuration).
// dialer makes the TCP connection (nil: a net.Dialer); opts are applied
// after the connector's own. Connect may be called concurrently.
type Connector interface {
	Connect(ctx context.Context, dialer client.Dialer, opts ...client.Option) (*client.Conn, error)
}

// PlainConnector connects to Addr without TLS, with a fixed password: what
// stages use when their configuration names no Connector (tests, tools).
type PlainConnector struct {
	Addr, User, Password string
}

// Connect implements Connector.
func (p PlainConnector) Connect(ctx context.Context, dialer client.Dialer, opts ...client.Option) (*client.Conn, error) {
	if dialer == nil {
		var d net.Dialer
		dialer = d.DialContext
	}
	return client.ConnectWithDialer(ctx, "tcp", p.Addr, p.User, p.Password, "", dialer, opts...)
}

// dial opens a connection with Dial, bounded by ctx and
// defaultConnectTimeout; access denied is reported with the fix.
func dial(ctx context.Context, cn Connector, addr, user string) (*client.Conn, error) {
	c, err := Dial(ctx, cn, defaultConnectTimeout)
	if err != nil {
		if Explained(err) {
			return nil, err
		}
		if isServerError(err) {
			return nil, connectError(addr, user, err)
		}
		return nil, fmt.Errorf("connect to %s: %w", addr, err)
	}
	return c, nil
}

// Dial opens a go-mysql connection with cn whose handshake is bounded by ctx
// and timeout: go-mysql applies a context to the TCP dial only, so a server
// that accepts and then stalls would hang it. The returned connection has no
// deadline. Errors are the server's (*mysql.MyError), the connector's or
// ctx's, so that callers can word them for their users.
func Dial(ctx context.Context, cn Connector, timeout time.Duration) (*client.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var (
		rawMu sync.Mutex
		raw   net.Conn // the dialled connection, for the AfterFunc below
	)
	dialer := func(ctx context.Context, network, address string) (net.Conn, error) {
		var d net.Dialer
		nc, err := d.DialContext(ctx, network, address)
		if err != nil {
			return nil, err
		}
		if dl, ok := ctx.Deadline(); ok {
			_ = nc.SetDeadline(dl)
		}
		rawMu.Lock()
		raw = nc
		rawMu.Unlock()
		return nc, nil
	}
	stop := context.AfterFunc(ctx, func() {
		rawMu.Lock()
		defer rawMu.Unlock()
		if raw != nil {
			_ = raw.SetDeadline(time.Unix(1, 0))
		}
	})
	c, err := cn.Connect(ctx, dialer)
	stopped := stop()
	if err != nil {
		if ctxErr := context.Cause(ctx); ctxErr != nil && !isServerError(err) {
			return nil, ctxErr
		}
		return nil, err
	}
	if !stopped {
		_ = c.Close()
		return nil, context.Cause(ctx)
	}
	if err := c.SetDeadline(time.Time{}); err != nil {
		_ = c.Close()
		return nil, err
	}
	return c, nil
}

// Explained reports whether err already names its cause and the setting to
// change (the connector's errors, such as TLS failures, do: a
// `ConnHint() string` method), so callers add no hint of their own.
func Explained(err error) bool {
	var h interface{ ConnHint() string }
	return errors.As(err, &h) && h.ConnHint() != ""
}

// connectError maps a failed connection to a message that names the fix.
func connectError(addr, user string, err error) error {
	var me *mysql.MyError
	if errors.As(err, &me) && me.Code == mysql.ER_ACCESS_DENIED_ERROR {
		return fmt.Errorf("connect to %s: access denied for user %q: check database.user and database.password: %w", addr, user, err)
	}
	return fmt.Errorf("connect to %s: %w", addr, err)
}

// withContext runs f with ctx's deadline on the connection and interrupts it
// (by moving the deadline to the past) when ctx is cancelled. broken reports
// that ctx ended while f ran, which leaves the connection unusable.
func withContext(ctx context.Context, c *client.Conn, f func() error) (broken bool, err error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	dl, hasDeadline := ctx.Deadline()
	if hasDeadline {
		if err := c.SetDeadline(dl); err != nil {
			return true, err
		}
	}
	stop := context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Unix(1, 0)) })
	err = f()
	if !stop() {
		return true, err
	}
	if hasDeadline {
		if derr := c.SetDeadline(time.Time{}); derr != nil {
			return true, err
		}
	}
	return false, err
}

// isServerError reports whether err is an error packet from the server after
// which the connection is still usable: not one of the errors the server sends
// as it closes the connection.
func isServerError(err error) bool {
	var me *mysql.MyError
	if !errors.As(err, &me) {
		return false
	}
	switch me.Code {
	case 1053, // ER_SERVER_SHUTDOWN
		1077, 1078, 1079, // ER_NORMAL_SHUTDOWN, ER_GOT_SIGNAL, ER_SHUTDOWN_COMPLETE
		1152,       // ER_ABORTING_CONNECTION
		1927,       // ER_CONNECTION_KILLED (MariaDB)
		4031,       // ER_CLIENT_INTERACTION_TIMEOUT (MySQL 8.0.24+: idle past wait_timeout)
		2006, 2013: // CR_SERVER_GONE_ERROR, CR_SERVER_LOST
		return false
	}
	return true
}

// serverErrorCode returns the server error code in err, or 0.
func serverErrorCode(err error) uint16 {
	var me *mysql.MyError
	if errors.As(err, &me) {
		return me.Code
	}
	return 0
}

// hostPort joins host and port for dialling (IPv6 literals get brackets).
func hostPort(host string, port int) string {
	return net.JoinHostPort(host, strconv.Itoa(port))
}
