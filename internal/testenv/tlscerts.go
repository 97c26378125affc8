package testenv

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Certs is a throwaway certificate authority with a server and a client
// certificate it signed, generated at test time, in PEM and as files in a
// temporary directory.
type Certs struct {
	CAPEM, ServerCertPEM, ServerKeyPEM, ClientCertPEM, ClientKeyPEM string
	// CAFile holds CAPEM; ClientFile holds the client's key and chain (a
	// Kafka PEM keystore).
	CAFile, ClientFile string
	Server, Client     tls.Certificate
	Pool               *x509.CertPool
}

// TLSCerts makes a CA and a server certificate valid for hosts (names or
// IP addresses; default 127.0.0.1 and localhost) and a client certificate
// with common name "rivulet".
func TLSCerts(t testing.TB, hosts ...string) *Certs {
	t.Helper()
	if len(hosts) == 0 {
		hosts = []string{"127.0.0.1", "localhost"}
	}
	caKey, caCert, caDER := newCert(t, &x509.Certificate{
		Subject: pkix.Name{CommonName: "rivulet test CA"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}, nil, nil)
	srvTmpl := &x509.Certificate{Subject: pkix.Name{CommonName: hosts[0]}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			srvTmpl.IPAddresses = append(srvTmpl.IPAddresses, ip)
		} else {
			srvTmpl.DNSNames = append(srvTmpl.DNSNames, h)
		}
	}
	srvKey, _, srvDER := newCert(t, srvTmpl, caCert, caKey)
	cliKey, _, cliDER := newCert(t, &x509.Certificate{Subject: pkix.Name{CommonName: "rivulet"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature}, caCert, caKey)
	c := &Certs{
		CAPEM:         encodePEM("CERTIFICATE", caDER),
		ServerCertPEM: encodePEM("CERTIFICATE", srvDER),
		ServerKeyPEM:  encodeKey(t, srvKey),
		ClientCertPEM: encodePEM("CERTIFICATE", cliDER),
		ClientKeyPEM:  encodeKey(t, cliKey),
		Pool:          x509.NewCertPool(),
	}
	c.Pool.AddCert(caCert)
	var err error
	if c.Server, err = tls.X509KeyPair([]byte(c.ServerCertPEM), []byte(c.ServerKeyPEM)); err != nil {
		t.Fatal(err)
	}
	if c.Client, err = tls.X509KeyPair([]byte(c.ClientCertPEM), []byte(c.ClientKeyPEM)); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	c.CAFile, c.ClientFile = filepath.Join(dir, "ca.pem"), filepath.Join(dir, "client.pem")
	for name, data := range map[string]string{c.CAFile: c.CAPEM, c.ClientFile: c.ClientKeyPEM + c.ClientCertPEM} {
		if err := os.WriteFile(name, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// ServerTLS is a server configuration presenting the server certificate;
// with clientAuth the client must present one the CA signed.
func (c *Certs) ServerTLS(clientAuth bool) *tls.Config {
	cfg := &tls.Config{Certificates: []tls.Certificate{c.Server}, MinVersion: tls.VersionTLS12}
	if clientAuth {
		cfg.ClientAuth, cfg.ClientCAs = tls.RequireAndVerifyClientCert, c.Pool
	}
	return cfg
}

// ClientTLS is a client configuration trusting the CA, with the client
// certificate.
func (c *Certs) ClientTLS() *tls.Config {
	return &tls.Config{RootCAs: c.Pool, Certificates: []tls.Certificate{c.Client}, MinVersion: tls.VersionTLS12}
}

var serial int64

func newCert(t testing.TB, tmpl, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*ecdsa.PrivateKey, *x509.Certificate, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial++
	tmpl.SerialNumber = big.NewInt(time.Now().UnixNano() + serial)
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour)
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return key, cert, der
}

func encodePEM(typ string, der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}

func encodeKey(t testing.TB, k *ecdsa.PrivateKey) string {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return encodePEM("PRIVATE KEY", der)
}
