package config

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"
)

// MySQL is the one connection setting every MySQL connection Rivulet opens
// uses (binlog replication, snapshot readers, the schema loader, preflight
// checks, health checks, signals): the address, the user, the password or
// an RDS IAM token, and TLS as database.ssl.mode says. Build it once with
// Config.MySQL; it is safe for concurrent use.
//
// It implements the Connector interfaces the stages declare (binlog,
// snapshot, schema), so no stage imports config.
type MySQL struct {
	Host string
	Port int
	User string
	Mode SSLMode

	tls      *tls.Config // nil when Mode is disabled
	password func(ctx context.Context) (string, error)
	iam      bool
}

// Addr returns host:port.
func (m *MySQL) Addr() string { return net.JoinHostPort(m.Host, strconv.Itoa(m.Port)) }

// MySQL builds the connection setting from c.Database: it reads the
// truststore and keystore (database.ssl.*) and sets up IAM authentication.
// Errors are *FieldError values naming the key to change.
func (c *Config) MySQL() (*MySQL, error) {
	d := c.Database
	m := &MySQL{Host: d.Hostname, Port: d.Port, User: d.User, Mode: d.SSLMode}
	pw := d.Password
	m.password = func(context.Context) (string, error) { return pw.Reveal(), nil }
	if d.IAM.Enabled {
		tok, err := newRDSTokenSource(d)
		if err != nil {
			return nil, err
		}
		m.password, m.iam = tok, true
	}
	if m.Mode == SSLDisabled {
		return m, nil
	}
	mat, err := LoadTLSMaterial(d.TLSFiles())
	if err != nil {
		return nil, err
	}
	m.tls = mysqlTLSConfig(m.Mode, d.Hostname, mat)
	return m, nil
}

// TLSFiles returns the database.ssl.* store settings.
func (d Database) TLSFiles() TLSFiles {
	f := TLSFiles{
		Truststore: TLSStore{
			Location: d.SSLTruststore, LocationKey: keySSLTruststore,
			Password: d.SSLTruststorePassword, PasswordKey: keySSLTruststorePassword,
		},
		Keystore: TLSStore{
			Location: d.SSLKeystore, LocationKey: keySSLKeystore,
			Password: d.SSLKeystorePassword, PasswordKey: keySSLKeystorePassword,
		},
		KeyPassword: d.SSLKeyPassword, KeyPasswordKey: keySSLKeyPassword,
	}
	if d.SSLCA != "" {
		f.Truststore = TLSStore{Location: d.SSLCA, LocationKey: keySSLCA, Type: StorePEM}
	}
	if d.SSLCert != "" || d.SSLKey != "" {
		f.Keystore = TLSStore{Location: d.SSLCert, LocationKey: keySSLCert, Type: StorePEM, KeyLocation: d.SSLKey, KeyLocationKey: keySSLKey}
	}
	return f
}

// Keys of the database TLS settings. database.ssl.truststore/.keystore and
// their passwords are Debezium's; database.ssl.ca, .cert and .key (PEM
// files, as mysql --ssl-ca/--ssl-cert/--ssl-key and as Kubernetes TLS
// Secrets hold them: ca.crt, tls.crt, tls.key) and database.ssl.key.password
// are Rivulet's.
const (
	keySSLMode               = "database.ssl.mode"
	keySSLTruststore         = "database.ssl.truststore"
	keySSLTruststorePassword = "database.ssl.truststore.password"
	keySSLKeystore           = "database.ssl.keystore"
	keySSLKeystorePassword   = "database.ssl.keystore.password"
	keySSLCA                 = "database.ssl.ca"
	keySSLCert               = "database.ssl.cert"
	keySSLKey                = "database.ssl.key"
	keySSLKeyPassword        = "database.ssl.key.password"
)

// mysqlTLSConfig is the client TLS configuration of a mode other than
// disabled, with Debezium's semantics (MySqlConnectorConfig.SecureConnectionMode):
// preferred and required encrypt without checking the server certificate;
// verify_ca checks that a trusted CA signed it; verify_identity also checks
// that it names database.hostname.
func mysqlTLSConfig(mode SSLMode, host string, mat TLSMaterial) *tls.Config {
	cfg := &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: mat.Certificates,
		RootCAs:      mat.RootCAs,
		ServerName:   host,
	}
	switch mode {
	case SSLVerifyIdentity:
		// crypto/tls verifies the chain and the name.
	case SSLVerifyCA:
		cfg.InsecureSkipVerify = true // the chain is checked below, not the name
		roots := mat.RootCAs
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("the server sent no certificate")
			}
			inter := x509.NewCertPool()
			for _, c := range cs.PeerCertificates[1:] {
				inter.AddCert(c)
			}
			_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter})
			return err
		}
	default: // preferred, required
		cfg.InsecureSkipVerify = true
	}
	return cfg
}

// Verified reports whether connections check the server certificate.
func (m *MySQL) Verified() bool { return m.Mode == SSLVerifyCA || m.Mode == SSLVerifyIdentity }

// optional reports whether a server without TLS is accepted (preferred,
// unless IAM authentication sends a token that must not travel in clear).
func (m *MySQL) optional() bool { return m.Mode == SSLPreferred && !m.iam }

// Connect opens a client connection: dialer makes the TCP connection (nil:
// a net.Dialer), opts are applied after Rivulet's. Errors caused by TLS or
// by the server demanding it say so and name the setting to change
// (*ConnError).
func (m *MySQL) Connect(ctx context.Context, dialer client.Dialer, opts ...client.Option) (*client.Conn, error) {
	password, err := m.password(ctx)
	if err != nil {
		return nil, err
	}
	if dialer == nil {
		var d net.Dialer
		dialer = d.DialContext
	}
	var offered bool
	peek := func(ctx context.Context, network, addr string) (net.Conn, error) {
		nc, err := dialer(ctx, network, addr)
		if err != nil || m.tls == nil {
			return nc, err
		}
		pc, ssl, err := peekGreeting(nc)
		if err != nil {
			_ = nc.Close()
			return nil, err
		}
		offered = ssl
		return pc, nil
	}
	var used *tls.Config
	setTLS := func(c *client.Conn) error {
		used = m.tls
		if used != nil && !offered && m.optional() {
			used = nil // preferred: plaintext when the server offers no TLS
		}
		if used != nil {
			c.SetTLSConfig(used.Clone())
		}
		return nil
	}
	c, err := client.ConnectWithDialer(ctx, "tcp", m.Addr(), m.User, password, "", peek, append([]client.Option{setTLS}, opts...)...)
	if err != nil {
		return nil, m.connError(err, used != nil, offered)
	}
	return c, nil
}

// Replication returns what a go-mysql BinlogSyncer needs for one new
// replication connection: the user, the password (a fresh token with IAM
// authentication) and the TLS configuration (nil for plaintext). With
// preferred it opens a connection first to learn whether the server
// offers TLS.
func (m *MySQL) Replication(ctx context.Context) (user, password string, tlsConfig *tls.Config, err error) {
	password, err = m.password(ctx)
	if err != nil {
		return "", "", nil, err
	}
	tlsConfig = m.tls
	if tlsConfig != nil && m.optional() {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		c, err := m.Connect(ctx, nil)
		if err != nil {
			return "", "", nil, err
		}
		if !Security(c).Encrypted {
			tlsConfig = nil
		}
		_ = c.Close()
	}
	if tlsConfig != nil {
		tlsConfig = tlsConfig.Clone()
	}
	return m.User, password, tlsConfig, nil
}

// ConnSecurity is how one connection is protected, for `rivulet check`.
type ConnSecurity struct {
	Encrypted bool
	Version   string // "TLS 1.3"; "" when not encrypted
	Cipher    string
}

// Security reports whether c is encrypted and with what.
func Security(c *client.Conn) ConnSecurity {
	if c == nil || c.Conn == nil {
		return ConnSecurity{}
	}
	tc, ok := c.Conn.Conn.(*tls.Conn)
	if !ok {
		return ConnSecurity{}
	}
	st := tc.ConnectionState()
	return ConnSecurity{Encrypted: true, Version: tls.VersionName(st.Version), Cipher: tls.CipherSuiteName(st.CipherSuite)}
}

// Describe renders the security of c for people: "TLS 1.3
// (TLS_AES_128_GCM_SHA256), server certificate verified (verify_identity)"
// or "not encrypted (database.ssl.mode=preferred: the server offers no TLS)".
func (m *MySQL) Describe(c *client.Conn) string {
	s := Security(c)
	if !s.Encrypted {
		why := "database.ssl.mode=" + string(m.Mode)
		if m.Mode == SSLPreferred {
			why += ": the server offers no TLS"
		}
		return "not encrypted (" + why + ")"
	}
	v := "server certificate not verified (database.ssl.mode=" + string(m.Mode) + ")"
	if m.Verified() {
		v = "server certificate verified (database.ssl.mode=" + string(m.Mode) + ")"
	}
	if m.iam {
		v += ", signed in with an IAM authentication token"
	}
	return s.Version + " (" + s.Cipher + "), " + v
}

// peekGreeting reads the server's initial handshake packet from nc and
// returns a connection that yields it again, and whether the server offers
// TLS (CLIENT_SSL in its capability flags). go-mysql decides on TLS before
// it reads the greeting; this lets preferred decide per connection without
// a second one.
func peekGreeting(nc net.Conn) (net.Conn, bool, error) {
	br := bufio.NewReaderSize(nc, 512)
	hdr, err := br.Peek(4)
	if err != nil {
		return nil, false, fmt.Errorf("read the server greeting: %w", err)
	}
	n := int(hdr[0]) | int(hdr[1])<<8 | int(hdr[2])<<16
	pkt, err := br.Peek(4 + min(n, 256))
	if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, false, fmt.Errorf("read the server greeting: %w", err)
	}
	return &peekedConn{Conn: nc, r: br}, greetingOffersTLS(pkt[4:]), nil
}

// greetingOffersTLS reads the capability flags of a HandshakeV10 packet:
// protocol version (1), server version (NUL-terminated), connection id (4),
// scramble (8), filler (1), capabilities (2, low half).
func greetingOffersTLS(p []byte) bool {
	if len(p) == 0 || p[0] != 10 {
		return false // an error packet or an old protocol: go-mysql reports it
	}
	end := 1
	for end < len(p) && p[end] != 0 {
		end++
	}
	pos := end + 1 + 4 + 8 + 1
	if pos+2 > len(p) {
		return false
	}
	return uint32(binary.LittleEndian.Uint16(p[pos:]))&mysql.CLIENT_SSL != 0
}

// peekedConn replays what was peeked, then reads the connection itself.
type peekedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *peekedConn) Read(p []byte) (int, error) {
	if c.r != nil {
		if c.r.Buffered() > 0 {
			return c.r.Read(p)
		}
		c.r = nil
	}
	return c.Conn.Read(p)
}

var _ io.Reader = (*peekedConn)(nil)

// ConnError is a failed MySQL connection with the setting to change.
type ConnError struct {
	Addr string
	// TLS reports that the failure was caused by TLS, or by the server
	// demanding TLS (or a client certificate) that Rivulet did not send.
	TLS  bool
	Hint string // what to change, naming the key
	Err  error
}

func (e *ConnError) Error() string {
	what := "connect to " + e.Addr
	if e.TLS {
		what += ": TLS"
	}
	msg := what + ": " + e.Err.Error()
	if e.Hint != "" {
		msg += ": " + e.Hint
	}
	return msg
}

func (e *ConnError) Unwrap() error { return e.Err }

// ConnHint returns Hint; stages test for it to add no hint of their own.
func (e *ConnError) ConnHint() string { return e.Hint }

// connError explains a failed connection. encrypted tells whether TLS was
// requested on it; offered whether the server offered TLS.
func (m *MySQL) connError(err error, encrypted, offered bool) error {
	ce := &ConnError{Addr: m.Addr(), Err: err}
	var (
		me       *mysql.MyError
		unknown  x509.UnknownAuthorityError
		hostErr  x509.HostnameError
		invalid  x509.CertificateInvalidError
		alert    tls.AlertError
		recordHd tls.RecordHeaderError
	)
	msg := err.Error()
	switch {
	case errors.As(err, &unknown) || strings.Contains(msg, "certificate signed by unknown authority"):
		ce.TLS = true
		ce.Hint = "the server certificate is not signed by a CA in " + m.trustSource() + "; set " + keySSLTruststore + " (or " + keySSLCA + ") to the CA that signed the server's certificate, or database.ssl.mode=required to encrypt without verifying"
	case errors.As(err, &hostErr):
		ce.TLS = true
		ce.Hint = "the server certificate is not valid for " + m.Host + " (" + hostErr.Error() + "); set database.hostname to a name the certificate holds, or database.ssl.mode=verify_ca to check the CA only"
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		ce.TLS = true
		ce.Hint = "the server certificate has expired or is not yet valid; renew the server's certificate (or check this machine's clock); database.ssl.mode=required would encrypt without verifying"
	case errors.As(err, &invalid):
		ce.TLS = true
		ce.Hint = "the server certificate is not acceptable; fix the server's certificate or " + keySSLTruststore
	case strings.Contains(msg, "does not support TLS required by the client"):
		ce.TLS = true
		ce.Err = errors.New("the server does not offer TLS")
		if m.iam {
			ce.Hint = "IAM authentication sends its token only over TLS; enable TLS on the server"
		} else {
			ce.Hint = "enable TLS on the server (ssl_cert, ssl_key), or set database.ssl.mode=preferred to accept an unencrypted connection"
		}
	case errors.As(err, &alert) || strings.Contains(msg, "remote error: tls:"):
		ce.TLS = true
		ce.Hint = "the server rejected the TLS handshake"
		if strings.Contains(msg, "certificate") {
			ce.Hint += " (client certificate): set " + keySSLKeystore + " (or " + keySSLCert + " and " + keySSLKey + ") to a certificate signed by a CA the server trusts (ssl_ca)"
		}
	case encrypted && (errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, io.EOF) ||
		strings.Contains(msg, "connection reset by peer") || strings.Contains(msg, "broken pipe")):
		// With TLS 1.3 the server checks the client certificate after the
		// client's handshake returned: a rejection shows as a reset on the
		// first write or read, not as an alert.
		ce.TLS = true
		ce.Hint = "the server closed the TLS connection during the handshake"
		if m.tls != nil && len(m.tls.Certificates) > 0 {
			ce.Hint += ": it most likely rejected the client certificate; set " + keySSLKeystore + " (or " + keySSLCert + " and " + keySSLKey + ") to a certificate signed by a CA the server trusts (ssl_ca)"
		} else {
			ce.Hint += "; check the server's TLS settings and database.ssl.*"
		}
	case errors.As(err, &recordHd) || strings.Contains(msg, "tls: "):
		ce.TLS = true
		ce.Hint = "the TLS handshake failed; check the server's TLS settings and database.ssl.*"
	case errors.As(err, &me) && (me.Code == erSecureTransport || me.Code == erMariaDBSecureTransport):
		ce.TLS = true
		ce.Hint = "the server requires an encrypted connection (require_secure_transport); set database.ssl.mode=required, verify_ca or verify_identity"
	case errors.As(err, &me) && me.Code == mysql.ER_ACCESS_DENIED_ERROR:
		switch {
		case m.iam:
			ce.Hint = "check that database.user is the IAM-enabled user (IDENTIFIED WITH AWSAuthenticationPlugin) and that the AWS identity may rds-db:connect to it, in database.iam.region"
		case !encrypted:
			ce.TLS = !offered || m.Mode == SSLDisabled
			ce.Hint = "check database.user and database.password; the connection was not encrypted (database.ssl.mode=" + string(m.Mode) + "): if the server requires secure transport (require_secure_transport=ON, as RDS and Aurora can; MariaDB answers access denied) or the user must connect with TLS (REQUIRE SSL or X509), set database.ssl.mode=required or stricter"
		case m.tls != nil && len(m.tls.Certificates) == 0:
			ce.Hint = "check database.user and database.password; no client certificate was sent: if the user is REQUIRE X509 or ISSUER/SUBJECT, set " + keySSLKeystore + " (or " + keySSLCert + " and " + keySSLKey + ")"
		default:
			ce.Hint = "check database.user and database.password (and that the client certificate in " + keySSLKeystore + " is the one the user REQUIREs)"
		}
	}
	if ce.Hint == "" {
		return err
	}
	return ce
}

// ER_SECURE_TRANSPORT_REQUIRED of MySQL and of MariaDB.
const (
	erSecureTransport        = 3159
	erMariaDBSecureTransport = 4151
)

func (m *MySQL) trustSource() string {
	if m.tls != nil && m.tls.RootCAs != nil {
		return "the configured truststore"
	}
	return "the system's roots (no " + keySSLTruststore + " is set)"
}
