package testenv

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// CA is a certificate authority made for one test: its key never leaves
// the test's temporary directory, nothing is committed.
type CA struct {
	Dir      string // where the PEM files are written
	CertPath string // the CA certificate, PEM
	Cert     *x509.Certificate
	key      *ecdsa.PrivateKey
	serial   int64
}

// CertOptions describe a certificate issued by CA.Issue.
type CertOptions struct {
	CommonName string
	// Hosts become DNS or IP subject alternative names (server certificates).
	Hosts []string
	// Client makes a client-authentication certificate (else server).
	Client bool
	// NotAfter defaults to one day from now; set it in the past for an
	// expired certificate.
	NotAfter  time.Time
	NotBefore time.Time
}

// Issued is a key pair written as PEM files.
type Issued struct {
	CertPath string // the certificate, PEM
	KeyPath  string // its private key, PKCS#8 PEM, unencrypted
	Cert     *x509.Certificate
	Key      *ecdsa.PrivateKey
}

// NewCA makes a self-signed CA named name in a new temporary directory.
func NewCA(t testing.TB, name string) *CA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name, Organization: []string{"Rivulet tests"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	dir := t.TempDir()
	ca := &CA{Dir: dir, CertPath: filepath.Join(dir, sanitizeName(name)+"-ca.pem"), Cert: cert, key: key, serial: 1}
	writePEM(t, ca.CertPath, "CERTIFICATE", der)
	return ca
}

// Issue signs a new key pair and writes it as <name>.pem and <name>-key.pem.
func (ca *CA) Issue(t testing.TB, name string, o CertOptions) *Issued {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ca.serial++
	if o.CommonName == "" {
		o.CommonName = name
	}
	if o.NotBefore.IsZero() {
		o.NotBefore = time.Now().Add(-time.Hour)
	}
	if o.NotAfter.IsZero() {
		o.NotAfter = time.Now().Add(24 * time.Hour)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(ca.serial),
		Subject:      pkix.Name{CommonName: o.CommonName},
		NotBefore:    o.NotBefore,
		NotAfter:     o.NotAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if o.Client {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	for _, h := range o.Hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	is := &Issued{CertPath: filepath.Join(ca.Dir, name+".pem"), KeyPath: filepath.Join(ca.Dir, name+"-key.pem"), Cert: cert, Key: key}
	writePEM(t, is.CertPath, "CERTIFICATE", der)
	writePEM(t, is.KeyPath, "PRIVATE KEY", pk)
	return is
}

func writePEM(t testing.TB, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// Keytool runs the JDK's keytool with args and fails the test on error.
// A missing keytool fails with the install command.
func Keytool(t testing.TB, args ...string) {
	t.Helper()
	runTool(t, "keytool", "keytool not found: apt-get install -y openjdk-17-jdk-headless", args...)
}

// OpenSSL runs openssl with args and fails the test on error.
func OpenSSL(t testing.TB, args ...string) {
	t.Helper()
	runTool(t, "openssl", "openssl not found: apt-get install -y openssl", args...)
}

func runTool(t testing.TB, name, hint string, args ...string) {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Fatal(hint)
	}
	out, err := exec.Command(path, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}
