package config_test

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rivulet-cdc/rivulet/config"
	"github.com/rivulet-cdc/rivulet/internal/testenv"
)

// pki is a CA with a server and a client certificate, and the stores a
// Java user would have made from them with keytool and openssl.
type pki struct {
	ca             *testenv.CA
	server, client *testenv.Issued
	dir            string
}

const (
	storePass = "store-pw-9x7q"   // never to be printed
	keyPass   = "key-pw-distinct" // a JKS key password different from the store's
)

func newPKI(t *testing.T) *pki {
	t.Helper()
	ca := testenv.NewCA(t, "tls material CA")
	return &pki{
		ca:     ca,
		server: ca.Issue(t, "server", testenv.CertOptions{Hosts: []string{"localhost", "127.0.0.1"}}),
		client: ca.Issue(t, "client", testenv.CertOptions{Client: true}),
		dir:    ca.Dir,
	}
}

func (p *pki) path(name string) string { return filepath.Join(p.dir, name) }

// clientP12 exports the client key and chain with openssl (AES-256, the
// OpenSSL 3 default).
func (p *pki) clientP12(t *testing.T) string {
	out := p.path("client.p12")
	if _, err := os.Stat(out); err == nil {
		return out
	}
	testenv.OpenSSL(t, "pkcs12", "-export", "-in", p.client.CertPath, "-inkey", p.client.KeyPath,
		"-certfile", p.ca.CertPath, "-name", "client", "-out", out, "-passout", "pass:"+storePass)
	return out
}

// handshake runs a TLS handshake against a server that presents p.server
// and requires a client certificate signed by p.ca when requireClient.
func (p *pki) handshake(t *testing.T, m config.TLSMaterial, requireClient bool) error {
	t.Helper()
	srvCert, err := tls.LoadX509KeyPair(p.server.CertPath, p.server.KeyPath)
	if err != nil {
		t.Fatal(err)
	}
	clientCAs := x509.NewCertPool()
	clientCAs.AddCert(p.ca.Cert)
	srvCfg := &tls.Config{Certificates: []tls.Certificate{srvCert}, ClientCAs: clientCAs}
	if requireClient {
		srvCfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	srvErr := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			srvErr <- err
			return
		}
		defer c.Close()
		srvErr <- tls.Server(c, srvCfg).Handshake()
	}()
	a, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	cli := tls.Client(a, &tls.Config{RootCAs: m.RootCAs, Certificates: m.Certificates, ServerName: "localhost", MinVersion: tls.VersionTLS12})
	cerr := cli.Handshake()
	if cerr == nil {
		// TLS 1.3: the server verifies the client certificate after the
		// client's handshake returned; a read sees its verdict.
		_ = a.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, _ = cli.Read(make([]byte, 1))
	}
	a.Close()
	serr := <-srvErr
	if cerr != nil {
		return cerr
	}
	return serr
}

func TestLoadTLSMaterial_Truststores(t *testing.T) {
	p := newPKI(t)
	jks := p.path("trust.jks")
	testenv.Keytool(t, "-importcert", "-noprompt", "-alias", "ca", "-file", p.ca.CertPath,
		"-keystore", jks, "-storetype", "JKS", "-storepass", storePass)
	javaP12 := p.path("trust.p12")
	testenv.Keytool(t, "-importcert", "-noprompt", "-alias", "ca", "-file", p.ca.CertPath,
		"-keystore", javaP12, "-storetype", "PKCS12", "-storepass", storePass)
	caPEM, err := os.ReadFile(p.ca.CertPath)
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name  string
		store config.TLSStore
	}{
		{"pem file", config.TLSStore{Location: p.ca.CertPath}},
		{"pem file typed", config.TLSStore{Location: p.ca.CertPath, Type: "pem"}},
		{"jks", config.TLSStore{Location: jks, Password: config.NewSecret(storePass)}},
		{"jks without password (as Java: no integrity check)", config.TLSStore{Location: jks}},
		{"jks typed PKCS12 (Java reads either)", config.TLSStore{Location: jks, Type: "PKCS12", Password: config.NewSecret(storePass)}},
		{"pkcs12 from keytool", config.TLSStore{Location: javaP12, Type: "PKCS12", Password: config.NewSecret(storePass)}},
		{"inline pem", config.TLSStore{Certificates: string(caPEM)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := config.LoadTLSMaterial(config.TLSFiles{Truststore: tc.store})
			if err != nil {
				t.Fatal(err)
			}
			if m.RootCAs == nil || len(m.Certificates) != 0 {
				t.Fatalf("got RootCAs %v, %d certificates", m.RootCAs, len(m.Certificates))
			}
			if err := p.handshake(t, m, false); err != nil {
				t.Fatalf("handshake with the loaded truststore: %v", err)
			}
		})
	}

	// Without the truststore the server's private CA is not trusted.
	if err := p.handshake(t, config.TLSMaterial{}, false); err == nil {
		t.Fatal("handshake without truststore succeeded; the test CA must not be in the system roots")
	}
}

func TestLoadTLSMaterial_Keystores(t *testing.T) {
	p := newPKI(t)
	p12 := p.clientP12(t)
	jks := p.path("client.jks")
	testenv.Keytool(t, "-importkeystore", "-noprompt", "-srckeystore", p12, "-srcstoretype", "PKCS12", "-srcstorepass", storePass,
		"-destkeystore", jks, "-deststoretype", "JKS", "-deststorepass", storePass)
	testenv.Keytool(t, "-keypasswd", "-alias", "client", "-keystore", jks, "-storepass", storePass, "-keypass", storePass, "-new", keyPass)
	// Kafka's PEM keystore: encrypted PKCS#8 key and the chain in one file.
	encKey := p.path("client-key-enc.pem")
	testenv.OpenSSL(t, "pkcs8", "-topk8", "-v2", "aes-256-cbc", "-in", p.client.KeyPath, "-out", encKey, "-passout", "pass:"+keyPass)
	pemStore := p.path("client-store.pem")
	writeConcat(t, pemStore, encKey, p.client.CertPath, p.ca.CertPath)
	certPEM, _ := os.ReadFile(p.client.CertPath)
	keyPEM, _ := os.ReadFile(p.client.KeyPath)
	encPEM, _ := os.ReadFile(encKey)
	trust := config.TLSStore{Location: p.ca.CertPath}

	for _, tc := range []struct {
		name   string
		files  config.TLSFiles
		wantCN string
	}{
		{"pkcs12 from openssl", config.TLSFiles{Keystore: config.TLSStore{Location: p12, Password: config.NewSecret(storePass)}}, "client"},
		{"jks with its own key password", config.TLSFiles{
			Keystore: config.TLSStore{Location: jks, Password: config.NewSecret(storePass)}, KeyPassword: config.NewSecret(keyPass),
		}, "client"},
		{"pem file with encrypted pkcs8 key", config.TLSFiles{
			Keystore: config.TLSStore{Location: pemStore, Type: "PEM"}, KeyPassword: config.NewSecret(keyPass),
		}, "client"},
		{"inline pem chain and key", config.TLSFiles{Keystore: config.TLSStore{Certificates: string(certPEM), Key: string(keyPEM)}}, "client"},
		{"inline pem encrypted key", config.TLSFiles{
			Keystore: config.TLSStore{Certificates: string(certPEM), Key: string(encPEM)}, KeyPassword: config.NewSecret(keyPass),
		}, "client"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.files.Truststore = trust
			m, err := config.LoadTLSMaterial(tc.files)
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Certificates) != 1 || m.Certificates[0].Leaf.Subject.CommonName != tc.wantCN {
				t.Fatalf("got %d certificates", len(m.Certificates))
			}
			if err := p.handshake(t, m, true); err != nil {
				t.Fatalf("mutual TLS handshake with the loaded keystore: %v", err)
			}
		})
	}
}

func writeConcat(t *testing.T, dst string, srcs ...string) {
	t.Helper()
	var all []byte
	for _, s := range srcs {
		b, err := os.ReadFile(s)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	if err := os.WriteFile(dst, all, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestLoadTLSMaterial_Errors checks that each mistake is reported against
// the key to change, with the file and the fix, and never shows a password.
func TestLoadTLSMaterial_Errors(t *testing.T) {
	p := newPKI(t)
	p12 := p.clientP12(t)
	jks := p.path("trust.jks")
	testenv.Keytool(t, "-importcert", "-noprompt", "-alias", "ca", "-file", p.ca.CertPath,
		"-keystore", jks, "-storetype", "JKS", "-storepass", storePass)
	opensslP12 := p.path("trust-openssl.p12")
	testenv.OpenSSL(t, "pkcs12", "-export", "-nokeys", "-in", p.ca.CertPath, "-out", opensslP12, "-passout", "pass:"+storePass)
	other := testenv.NewCA(t, "other CA").Issue(t, "other", testenv.CertOptions{Client: true})
	certPEM, _ := os.ReadFile(p.client.CertPath)
	otherKey, _ := os.ReadFile(other.KeyPath)
	wrong := config.NewSecret("not-the-" + storePass)
	ts := func(s config.TLSStore) config.TLSStore {
		s.LocationKey, s.TypeKey, s.PasswordKey, s.CertificatesKey = "ssl.truststore.location", "ssl.truststore.type", "ssl.truststore.password", "ssl.truststore.certificates"
		return s
	}
	ks := func(s config.TLSStore) config.TLSStore {
		s.LocationKey, s.TypeKey, s.PasswordKey, s.CertificatesKey, s.KeyKey = "ssl.keystore.location", "ssl.keystore.type", "ssl.keystore.password", "ssl.keystore.certificate.chain", "ssl.keystore.key"
		return s
	}
	for _, tc := range []struct {
		name  string
		files config.TLSFiles
		want  []string
	}{
		{"missing file", config.TLSFiles{Truststore: ts(config.TLSStore{Location: p.path("nope.jks")})},
			[]string{"ssl.truststore.location", "nope.jks", "cannot be read", "no such file", "mount"}},
		{"jks wrong password", config.TLSFiles{Truststore: ts(config.TLSStore{Location: jks, Password: wrong})},
			[]string{"ssl.truststore.password", "does not open", "trust.jks", "set the password"}},
		{"pkcs12 wrong password", config.TLSFiles{Keystore: ks(config.TLSStore{Location: p12, Password: wrong})},
			[]string{"ssl.keystore.password", "does not open", "client.p12"}},
		{"pkcs12 password missing", config.TLSFiles{Keystore: ks(config.TLSStore{Location: p12})},
			[]string{"ssl.keystore.password", "is not set", "client.p12"}},
		{"pem typed but jks", config.TLSFiles{Truststore: ts(config.TLSStore{Location: jks, Type: "PEM"})},
			[]string{"ssl.truststore.location", "is not a PEM file", "JKS", "ssl.truststore.type"}},
		{"pkcs12 of untrusted certificates (openssl -nokeys)", config.TLSFiles{Truststore: ts(config.TLSStore{Location: opensslP12, Password: config.NewSecret(storePass)})},
			[]string{"ssl.truststore.location", "not marked as trusted", "keytool -importcert"}},
		{"unknown type", config.TLSFiles{Truststore: ts(config.TLSStore{Location: jks, Type: "BKS"})},
			[]string{"ssl.truststore.type", `"BKS"`, "JKS, PKCS12 or PEM"}},
		{"pem without certificate", config.TLSFiles{Truststore: ts(config.TLSStore{Location: p.client.KeyPath})},
			[]string{"ssl.truststore.location", "holds no PEM certificate"}},
		{"inline chain without key", config.TLSFiles{Keystore: ks(config.TLSStore{Certificates: string(certPEM)})},
			[]string{"ssl.keystore.key", "is not set", "ssl.keystore.certificate.chain"}},
		{"key of another certificate", config.TLSFiles{Keystore: ks(config.TLSStore{Certificates: string(certPEM), Key: string(otherKey)})},
			[]string{"ssl.keystore.certificate.chain", "does not match its certificate"}},
		{"file and inline", config.TLSFiles{Truststore: ts(config.TLSStore{Location: jks, Certificates: string(certPEM)})},
			[]string{"ssl.truststore.certificates", "cannot be used together with ssl.truststore.location"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.LoadTLSMaterial(tc.files)
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, config.ErrInvalid) {
				t.Errorf("error does not match ErrInvalid: %v", err)
			}
			msg := err.Error()
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
			for _, secret := range []string{storePass, keyPass} {
				if strings.Contains(msg, secret) {
					t.Errorf("error shows a password: %q", msg)
				}
			}
		})
	}
}
