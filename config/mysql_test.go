package config_test

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"

	"github.com/rivulet-cdc/rivulet/config"
	"github.com/rivulet-cdc/rivulet/internal/testenv"
)

// tlsDB is a MariaDB server with TLS whose certificates were made for this
// test: the server's names localhost only (so 127.0.0.1 is a wrong host
// name), and client certificates must chain to ca.
type tlsDB struct {
	srv    *testenv.Server
	ca     *testenv.CA
	server *testenv.Issued
	client *testenv.Issued
	other  *testenv.CA // a CA that signed nothing the server presents
}

const x509User, x509Password = "x509user", "x509-pw-5f3k"

func startTLSMariaDB(t *testing.T, opts ...testenv.Option) *tlsDB {
	t.Helper()
	ca := testenv.NewCA(t, "mysql test CA")
	d := &tlsDB{
		ca:     ca,
		server: ca.Issue(t, "mariadb", testenv.CertOptions{Hosts: []string{"localhost"}}),
		client: ca.Issue(t, "rivulet-client", testenv.CertOptions{Client: true}),
		other:  testenv.NewCA(t, "unrelated CA"),
	}
	// The server reads the files as its own user; t.TempDir is 0700 of ours.
	opts = append([]testenv.Option{testenv.WithTLS(ca.CertPath, d.server.CertPath, d.server.KeyPath)}, opts...)
	d.srv = testenv.StartMariaDB(t, opts...)
	d.srv.Exec(t, "",
		"CREATE USER '"+x509User+"'@'%' IDENTIFIED BY '"+x509Password+"' REQUIRE X509",
		"GRANT ALL PRIVILEGES ON *.* TO '"+x509User+"'@'%'")
	return d
}

// mysqlFor loads kv (database.* keys) into a configuration for srv and
// builds its MySQL connection setting.
func mysqlFor(t *testing.T, srv *testenv.Server, kv ...string) *config.MySQL {
	t.Helper()
	m := map[string]string{
		"database.hostname":                   srv.Host,
		"database.port":                       strconv.Itoa(srv.Port),
		"database.user":                       srv.User,
		"database.password":                   srv.Password,
		"database.server.id":                  "1001",
		"topic.prefix":                        "tls",
		"schema.history.internal.kafka.topic": "h",
		"offset.storage.file.filename":        "/nonexistent/offsets.json",
		"bootstrap.servers":                   "kafka:9092",
	}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	cfg, _, err := config.FromMap(m)
	if err != nil {
		t.Fatalf("FromMap: %v", err)
	}
	my, err := cfg.MySQL()
	if err != nil {
		t.Fatalf("MySQL: %v", err)
	}
	return my
}

// sslCipher is what the server says about the session of c: its
// Ssl_cipher status ("" for a plaintext connection).
func sslCipher(t *testing.T, c *client.Conn) string {
	t.Helper()
	r, err := c.Execute("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	v, err := r.GetString(0, 1)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Clone(v)
}

func connect(t *testing.T, m *config.MySQL) (*client.Conn, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	c, err := m.Connect(ctx, nil)
	if err == nil {
		t.Cleanup(func() { _ = c.Close() })
	}
	return c, err
}

// mysqlCase is one connection attempt and what must come of it.
type mysqlCase struct {
	name string
	kv   []string
	// encrypted, verified: the outcome of a successful connection.
	encrypted, verified bool
	// errHas: the connection fails with a *config.ConnError whose message
	// holds every string.
	errHas []string
}

func (tc mysqlCase) run(t *testing.T, srv *testenv.Server, secrets ...string) {
	t.Helper()
	m := mysqlFor(t, srv, tc.kv...)
	c, err := connect(t, m)
	if len(tc.errHas) > 0 {
		if err == nil {
			t.Fatalf("connected (%s), want an error", m.Describe(c))
		}
		t.Logf("error: %v", err)
		var ce *config.ConnError
		if !errors.As(err, &ce) {
			t.Fatalf("error %T %q is not a *config.ConnError", err, err)
		}
		for _, s := range tc.errHas {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("error does not say %q:\n%v", s, err)
			}
		}
		for _, s := range secrets {
			if strings.Contains(err.Error(), s) {
				t.Errorf("error prints a secret:\n%v", err)
			}
		}
		return
	}
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	got := config.Security(c)
	cipher := sslCipher(t, c)
	if got.Encrypted != tc.encrypted || (cipher != "") != tc.encrypted {
		t.Fatalf("encrypted: client says %v, server's Ssl_cipher %q; want %v", got.Encrypted, cipher, tc.encrypted)
	}
	d := m.Describe(c)
	if tc.encrypted && (!strings.HasPrefix(d, "TLS 1.") || got.Version == "") {
		t.Errorf("Describe = %q, want the TLS version first", d)
	}
	if tc.verified != strings.Contains(d, "server certificate verified") {
		t.Errorf("Describe = %q, want verified=%v", d, tc.verified)
	}
	for _, s := range secrets {
		if strings.Contains(d, s) {
			t.Errorf("Describe prints a secret: %q", d)
		}
	}
}

// TestMySQL_SSLModesRequireSecureTransport runs every database.ssl.mode
// (Debezium's and the MariaDB connector's spellings) against a server with
// require_secure_transport=ON, each with the outcome Debezium documents:
// disabled is refused by the server with a hint to enable TLS; preferred
// and required encrypt without checking the certificate; verify_ca checks
// the CA only; verify_identity also checks the host name.
func TestMySQL_SSLModesRequireSecureTransport(t *testing.T) {
	d := startTLSMariaDB(t, testenv.WithRequireSecureTransport())
	jks := d.ca.Dir + "/trust.jks"
	testenv.Keytool(t, "-importcert", "-noprompt", "-alias", "ca", "-file", d.ca.CertPath,
		"-keystore", jks, "-storetype", "JKS", "-storepass", "trust-pw-77aa")
	secrets := []string{d.srv.Password, "trust-pw-77aa"}

	for _, tc := range []mysqlCase{
		{name: "disabled", kv: []string{"database.ssl.mode", "disabled"},
			errHas: []string{"require_secure_transport", "database.ssl.mode=required"}},
		{name: "disable (MariaDB)", kv: []string{"database.ssl.mode", "disable"},
			errHas: []string{"require_secure_transport", "database.ssl.mode=required"}},
		{name: "preferred", kv: []string{"database.ssl.mode", "preferred"}, encrypted: true},
		{name: "default is preferred", encrypted: true},
		{name: "required", kv: []string{"database.ssl.mode", "required"}, encrypted: true},
		{name: "trust (MariaDB)", kv: []string{"database.ssl.mode", "trust"}, encrypted: true},
		{name: "required ignores a wrong CA", kv: []string{"database.ssl.mode", "required", "database.ssl.ca", d.other.CertPath}, encrypted: true},
		{name: "verify_ca", kv: []string{"database.ssl.mode", "verify_ca", "database.ssl.ca", d.ca.CertPath}, encrypted: true, verified: true},
		{name: "verify-ca (MariaDB) with a JKS truststore", kv: []string{"database.ssl.mode", "verify-ca",
			"database.ssl.truststore", jks, "database.ssl.truststore.password", "trust-pw-77aa"}, encrypted: true, verified: true},
		{name: "verify_ca wrong CA", kv: []string{"database.ssl.mode", "verify_ca", "database.ssl.ca", d.other.CertPath},
			errHas: []string{"TLS", "not signed by a CA in the configured truststore", "database.ssl.truststore"}},
		{name: "verify_ca without truststore", kv: []string{"database.ssl.mode", "verify_ca"},
			errHas: []string{"TLS", "system's roots", "database.ssl.truststore"}},
		{name: "verify_identity", kv: []string{"database.hostname", "localhost", "database.ssl.mode", "verify_identity", "database.ssl.ca", d.ca.CertPath}, encrypted: true, verified: true},
		{name: "verify-full (MariaDB)", kv: []string{"database.hostname", "localhost", "database.ssl.mode", "verify-full",
			"database.ssl.truststore", jks, "database.ssl.truststore.password", "trust-pw-77aa"}, encrypted: true, verified: true},
		{name: "verify_identity wrong host name", kv: []string{"database.ssl.mode", "verify_identity", "database.ssl.ca", d.ca.CertPath},
			errHas: []string{"TLS", "not valid for 127.0.0.1", "database.hostname", "verify_ca"}},
		{name: "verify_identity wrong CA", kv: []string{"database.hostname", "localhost", "database.ssl.mode", "verify_identity", "database.ssl.ca", d.other.CertPath},
			errHas: []string{"TLS", "database.ssl.truststore"}},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, d.srv, secrets...) })
	}

	// A REQUIRE X509 user: refused without a client certificate, with the
	// key to set; accepted with one as PEM files or a PKCS12 keystore.
	p12 := d.ca.Dir + "/client.p12"
	testenv.OpenSSL(t, "pkcs12", "-export", "-in", d.client.CertPath, "-inkey", d.client.KeyPath,
		"-certfile", d.ca.CertPath, "-name", "client", "-out", p12, "-passout", "pass:key-pw-0q9w")
	x509 := []string{"database.user", x509User, "database.password", x509Password}
	secrets = append(secrets, x509Password, "key-pw-0q9w")
	for _, tc := range []mysqlCase{
		{name: "x509 user without certificate", kv: append([]string{"database.ssl.mode", "required"}, x509...),
			errHas: []string{"no client certificate was sent", "database.ssl.keystore"}},
		{name: "x509 user with PEM certificate", kv: append([]string{"database.ssl.mode", "verify_ca", "database.ssl.ca", d.ca.CertPath,
			"database.ssl.cert", d.client.CertPath, "database.ssl.key", d.client.KeyPath}, x509...), encrypted: true, verified: true},
		{name: "x509 user with PKCS12 keystore", kv: append([]string{"database.ssl.mode", "required",
			"database.ssl.keystore", p12, "database.ssl.keystore.password", "key-pw-0q9w"}, x509...), encrypted: true},
		{name: "x509 user with a certificate of another CA", kv: append([]string{"database.ssl.mode", "required",
			"database.ssl.cert", d.other.Issue(t, "stranger", testenv.CertOptions{Client: true}).CertPath,
			"database.ssl.key", d.other.Dir + "/stranger-key.pem"}, x509...),
			errHas: []string{"TLS"}},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, d.srv, secrets...) })
	}

	// An expired server certificate: refused by verify_ca and
	// verify_identity, naming the cause; required still encrypts.
	expired := d.ca.Issue(t, "expired", testenv.CertOptions{Hosts: []string{"localhost"},
		NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})
	replaceFile(t, expired.CertPath, d.server.CertPath)
	replaceFile(t, expired.KeyPath, d.server.KeyPath)
	d.srv.Exec(t, "", "FLUSH SSL")
	for _, tc := range []mysqlCase{
		{name: "expired verify_identity", kv: []string{"database.hostname", "localhost", "database.ssl.mode", "verify_identity", "database.ssl.ca", d.ca.CertPath},
			errHas: []string{"TLS", "expired", "renew the server's certificate"}},
		{name: "expired verify_ca", kv: []string{"database.ssl.mode", "verify_ca", "database.ssl.ca", d.ca.CertPath},
			errHas: []string{"TLS", "expired"}},
		{name: "expired required", kv: []string{"database.ssl.mode", "required"}, encrypted: true},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, d.srv, secrets...) })
	}
}

func replaceFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestMySQL_SSLModesPlaintextServer: against a server without TLS,
// disabled and preferred connect in clear (preferred says why), required
// and stricter refuse with the setting to change.
func TestMySQL_SSLModesPlaintextServer(t *testing.T) {
	srv := testenv.MariaDB(t)
	for _, tc := range []mysqlCase{
		{name: "disabled", kv: []string{"database.ssl.mode", "disabled"}},
		{name: "preferred", kv: []string{"database.ssl.mode", "preferred"}},
		{name: "required", kv: []string{"database.ssl.mode", "required"},
			errHas: []string{"TLS", "the server does not offer TLS", "database.ssl.mode=preferred"}},
		{name: "verify_identity", kv: []string{"database.ssl.mode", "verify_identity"},
			errHas: []string{"TLS", "the server does not offer TLS"}},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, srv, srv.Password) })
	}
	m := mysqlFor(t, srv, "database.ssl.mode", "preferred")
	c, err := connect(t, m)
	if err != nil {
		t.Fatal(err)
	}
	if d := m.Describe(c); d != "not encrypted (database.ssl.mode=preferred: the server offers no TLS)" {
		t.Errorf("Describe = %q", d)
	}
	_, _, tlsCfg, err := m.Replication(context.Background())
	if err != nil || tlsCfg != nil {
		t.Errorf("Replication with preferred against a server without TLS: tls %v, err %v; want plaintext", tlsCfg != nil, err)
	}
}

// TestMySQL_ReplicationPreferred: with preferred, the replication
// connection uses TLS when the server offers it.
func TestMySQL_ReplicationPreferred(t *testing.T) {
	d := startTLSMariaDB(t)
	m := mysqlFor(t, d.srv, "database.ssl.mode", "preferred")
	user, pw, tlsCfg, err := m.Replication(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if user != d.srv.User || pw != d.srv.Password || tlsCfg == nil {
		t.Fatalf("Replication = %q, password ok %v, tls %v; want the user, its password and TLS", user, pw == d.srv.Password, tlsCfg != nil)
	}
}
