package config

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/pavlo-v-chernykh/keystore-go/v4"
	"software.sslmate.com/src/go-pkcs12"
)

// Store types, as Kafka's ssl.truststore.type / ssl.keystore.type values.
const (
	StoreJKS    = "JKS"
	StorePKCS12 = "PKCS12"
	StorePEM    = "PEM"
)

// TLSStore is one truststore or keystore as a Java client configures it:
// a file (Location, in JKS, PKCS12 or PEM) or inline PEM text. Each *Key
// field is the configuration key that set the value beside it, so that an
// error names what to change; an empty *Key leaves that part unnamed.
type TLSStore struct {
	Location    string // a file path
	LocationKey string // e.g. "ssl.truststore.location", "database.ssl.truststore"
	// Type is JKS, PKCS12 or PEM (case-insensitive); "" detects it from the
	// file's content (JKS magic, PEM armour, else PKCS12), which is what a
	// Debezium MySQL user's database.ssl.* files need (their type follows
	// the JVM default).
	Type     string
	TypeKey  string
	Password Secret // the store's password; PEM files have none
	// PasswordKey names the password key, e.g. "ssl.truststore.password".
	PasswordKey string
	// Certificates is inline PEM: the truststore's CA certificates
	// (ssl.truststore.certificates) or the keystore's certificate chain,
	// leaf first (ssl.keystore.certificate.chain).
	Certificates    string
	CertificatesKey string
	// Key is the keystore's inline PEM private key (ssl.keystore.key),
	// PKCS#8 (encrypted with KeyPassword when that is set), PKCS#1 or SEC 1.
	Key    string
	KeyKey string
	// KeyLocation is a PEM file holding the keystore's private key when
	// Location (a PEM file) holds only the certificate chain, as
	// database.ssl.cert and database.ssl.key (tls.crt, tls.key).
	KeyLocation    string
	KeyLocationKey string
}

// IsZero reports whether nothing is configured for the store.
func (s TLSStore) IsZero() bool {
	return s.Location == "" && s.Certificates == "" && s.Key == "" && s.KeyLocation == ""
}

// TLSFiles is the trust and identity material of one TLS client.
type TLSFiles struct {
	Truststore TLSStore
	Keystore   TLSStore
	// KeyPassword is ssl.key.password: the password of the private key when
	// it differs from the keystore's (JKS, PKCS12), or the one encrypting a
	// PEM key. Empty means the keystore password (or an unencrypted PEM key).
	KeyPassword    Secret
	KeyPasswordKey string
}

// TLSMaterial is what crypto/tls needs from TLSFiles.
type TLSMaterial struct {
	// RootCAs holds the truststore's certificates; nil when no truststore
	// is configured (the system roots apply).
	RootCAs *x509.CertPool
	// Certificates holds the client certificate from the keystore (at most
	// one); empty when no keystore is configured.
	Certificates []tls.Certificate
}

// LoadTLSMaterial reads f's truststore and keystore. Every problem comes
// back as a *FieldError naming the key, the file and the fix; no password
// ever appears in one.
func LoadTLSMaterial(f TLSFiles) (TLSMaterial, error) {
	var m TLSMaterial
	var errs []error
	if !f.Truststore.IsZero() {
		pool, err := loadTruststore(f.Truststore)
		if err != nil {
			errs = append(errs, err)
		}
		m.RootCAs = pool
	}
	if !f.Keystore.IsZero() {
		cert, err := loadKeystore(f.Keystore, f.KeyPassword, f.KeyPasswordKey)
		if err != nil {
			errs = append(errs, err)
		} else {
			m.Certificates = []tls.Certificate{cert}
		}
	}
	if len(errs) > 0 {
		return TLSMaterial{}, errors.Join(errs...)
	}
	return m, nil
}

// storeErr is a problem with one store, reported against key (the
// location's key unless another part is at fault).
func storeErr(key, value, problem, fix string) *FieldError {
	if key == "" {
		key = "ssl"
	}
	return invalid(key, value, problem, fix)
}

// readStore reads the store's file and tells its type.
func readStore(s TLSStore, what string) (data []byte, typ string, err error) {
	data, rerr := os.ReadFile(s.Location)
	if rerr != nil {
		return nil, "", storeErr(s.LocationKey, s.Location, "cannot be read ("+pathErrText(rerr)+")",
			"mount the "+what+" file at that path or fix the path")
	}
	detected := detectStoreType(data)
	typ = strings.ToUpper(strings.TrimSpace(s.Type))
	switch typ {
	case "":
		typ = detected
	case StoreJKS, StorePKCS12, StorePEM:
		// Java reads a PKCS12 file given type JKS (keystore.type.compat), and
		// the reverse; PEM must be PEM.
		if (typ == StorePEM) != (detected == StorePEM) {
			return nil, "", storeErr(s.LocationKey, s.Location, "is not a "+typ+" file (its content looks like "+detected+")",
				"set "+orKey(s.TypeKey, "the store type")+" to "+detected+", or point "+orKey(s.LocationKey, "the location")+" at a "+typ+" file")
		}
		if typ != StorePEM {
			typ = detected
		}
	default:
		return nil, "", storeErr(s.TypeKey, s.Type, "is not a store type", "set JKS, PKCS12 or PEM")
	}
	return data, typ, nil
}

func orKey(key, fallback string) string {
	if key == "" {
		return fallback
	}
	return key
}

// pathErrText drops the path from a file error: the message names it already.
func pathErrText(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// jksMagic opens every JKS file (and JCEKS is 0xCECECECE).
var jksMagic = []byte{0xFE, 0xED, 0xFE, 0xED}

func detectStoreType(data []byte) string {
	switch {
	case bytes.HasPrefix(data, jksMagic):
		return StoreJKS
	case bytes.Contains(data, []byte("-----BEGIN ")):
		return StorePEM
	}
	return StorePKCS12
}

func loadTruststore(s TLSStore) (*x509.CertPool, error) {
	var certs []*x509.Certificate
	if s.Location != "" && s.Certificates != "" {
		return nil, storeErr(s.CertificatesKey, "", "cannot be used together with "+orKey(s.LocationKey, "a truststore file"),
			"set only one of "+orKey(s.LocationKey, "the file")+" and "+orKey(s.CertificatesKey, "the inline certificates"))
	}
	if s.Certificates != "" {
		c, err := parsePEMCerts([]byte(s.Certificates))
		if err != nil || len(c) == 0 {
			return nil, storeErr(s.CertificatesKey, "", "holds no PEM certificate"+errSuffix(err),
				"set the CA certificates as -----BEGIN CERTIFICATE----- blocks")
		}
		certs = c
	} else {
		data, typ, err := readStore(s, "truststore")
		if err != nil {
			return nil, err
		}
		switch typ {
		case StorePEM:
			certs, err = parsePEMCerts(data)
			if err != nil || len(certs) == 0 {
				return nil, storeErr(s.LocationKey, s.Location, "holds no PEM certificate"+errSuffix(err),
					"point it at a file of -----BEGIN CERTIFICATE----- blocks (the CA that signed the server certificate)")
			}
		case StoreJKS:
			if certs, err = jksTrusted(data, s); err != nil {
				return nil, err
			}
		case StorePKCS12:
			if certs, err = pkcs12Trusted(data, s); err != nil {
				return nil, err
			}
		}
		if len(certs) == 0 {
			return nil, storeErr(s.LocationKey, s.Location, "holds no certificate",
				"import the CA certificate that signed the server's certificate (keytool -importcert)")
		}
	}
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool, nil
}

func errSuffix(err error) string {
	if err == nil {
		return ""
	}
	return " (" + err.Error() + ")"
}

// wrongPassword is the error for a store that a password does not open.
func wrongPassword(s TLSStore, kind string) *FieldError {
	key := s.PasswordKey
	if key == "" {
		key = s.LocationKey
	}
	problem := "does not open " + s.Location + " (wrong password, or the " + kind + " file is damaged)"
	if s.Password.IsZero() {
		problem = "is not set, and " + s.Location + " needs one"
	}
	return storeErr(key, "", problem, "set the password the "+kind+" was created with")
}

// jksTrusted returns the certificates of a JKS file: trusted certificate
// entries and the chains of key entries, as Java's TrustManagerFactory
// trusts. Java reads a truststore without a password, skipping only the
// integrity check; so does this.
func jksTrusted(data []byte, s TLSStore) ([]*x509.Certificate, error) {
	ks := keystore.New()
	pw := []byte(s.Password.Reveal())
	if err := ks.Load(bytes.NewReader(data), pw); err != nil {
		// keystore-go has read every entry before it compares the digest.
		if !(s.Password.IsZero() && strings.Contains(err.Error(), "invalid digest")) {
			if strings.Contains(err.Error(), "invalid digest") {
				return nil, wrongPassword(s, "truststore")
			}
			return nil, storeErr(s.LocationKey, s.Location, "is not a readable JKS file ("+err.Error()+")", "export the truststore again with keytool")
		}
	}
	var certs []*x509.Certificate
	aliases := ks.Aliases()
	sort.Strings(aliases)
	for _, a := range aliases {
		var raw [][]byte
		if ks.IsTrustedCertificateEntry(a) {
			e, err := ks.GetTrustedCertificateEntry(a)
			if err == nil {
				raw = append(raw, e.Certificate.Content)
			}
		} else if chain, err := ks.GetPrivateKeyEntryCertificateChain(a); err == nil {
			for _, c := range chain {
				raw = append(raw, c.Content)
			}
		}
		for _, der := range raw {
			c, err := x509.ParseCertificate(der)
			if err != nil {
				return nil, storeErr(s.LocationKey, s.Location, fmt.Sprintf("holds a certificate under alias %q that does not parse (%v)", a, err), "re-import that certificate")
			}
			certs = append(certs, c)
		}
	}
	return certs, nil
}

// pkcs12Trusted returns the certificates of a PKCS12 truststore: Java's
// trusted-certificate bags (keytool -importcert -storetype PKCS12), or the
// certificates of a PKCS12 that openssl wrote (with or without a key).
func pkcs12Trusted(data []byte, s TLSStore) ([]*x509.Certificate, error) {
	pw := s.Password.Reveal()
	certs, err := pkcs12.DecodeTrustStore(data, pw)
	if err == nil {
		return certs, nil
	}
	if isPKCS12PasswordErr(err) {
		return nil, wrongPassword(s, "truststore")
	}
	_, leaf, cas, err2 := pkcs12.DecodeChain(data, pw)
	if err2 == nil {
		return append([]*x509.Certificate{leaf}, cas...), nil
	}
	if isPKCS12PasswordErr(err2) {
		return nil, wrongPassword(s, "truststore")
	}
	if strings.Contains(err.Error(), "not marked as trusted") {
		// openssl pkcs12 -export -nokeys (before 3.2's -jdktrust): Java
		// loads no trusted entry from such a file either.
		return nil, storeErr(s.LocationKey, s.Location, "holds certificates that are not marked as trusted (as openssl pkcs12 -nokeys writes them; Java ignores them too)",
			"create the truststore with keytool -importcert -storetype PKCS12, or give the CA certificates as a PEM file")
	}
	return nil, storeErr(s.LocationKey, s.Location, "is not a readable JKS, PKCS12 or PEM file ("+err.Error()+")",
		"convert it with keytool -importkeystore -deststoretype PKCS12, or give a PEM file of CA certificates")
}

func isPKCS12PasswordErr(err error) bool {
	return errors.Is(err, pkcs12.ErrIncorrectPassword)
}

func loadKeystore(s TLSStore, keyPassword Secret, keyPasswordKey string) (tls.Certificate, error) {
	inline := s.Certificates != "" || s.Key != ""
	switch {
	case inline && s.Location != "":
		return tls.Certificate{}, storeErr(s.CertificatesKey, "", "cannot be used together with "+orKey(s.LocationKey, "a keystore file"),
			"set either the keystore file or the inline certificate chain and key")
	case inline && (s.Certificates == "" || s.Key == ""):
		missing, have := s.KeyKey, s.CertificatesKey
		if s.Certificates == "" {
			missing, have = s.CertificatesKey, s.KeyKey
		}
		return tls.Certificate{}, storeErr(missing, "", "is not set, but "+orKey(have, "the other half")+" is",
			"set both the certificate chain and the private key in PEM")
	case inline:
		return pemKeyPair([]byte(s.Certificates), []byte(s.Key), keyPassword, keyPasswordKey, s.CertificatesKey, s.KeyKey, "")
	}
	if s.Location == "" {
		return tls.Certificate{}, storeErr(s.LocationKey, "", "is not set, but "+orKey(s.KeyLocationKey, "the key file")+" is",
			"set both the certificate and the private key")
	}
	data, typ, err := readStore(s, "keystore")
	if err != nil {
		return tls.Certificate{}, err
	}
	if s.KeyLocation != "" {
		if typ != StorePEM {
			return tls.Certificate{}, storeErr(s.KeyLocationKey, s.KeyLocation, "needs a PEM certificate file beside it, but "+s.Location+" is "+typ,
				"give the certificate as PEM, or the key and certificate together in a JKS or PKCS12 keystore")
		}
		keyData, rerr := os.ReadFile(s.KeyLocation)
		if rerr != nil {
			return tls.Certificate{}, storeErr(s.KeyLocationKey, s.KeyLocation, "cannot be read ("+pathErrText(rerr)+")", "mount the private key file at that path or fix the path")
		}
		return pemKeyPair(data, keyData, keyPassword, keyPasswordKey, s.LocationKey, s.KeyLocationKey, s.Location)
	}
	kpw := keyPassword
	if kpw.IsZero() {
		kpw = s.Password
	}
	switch typ {
	case StorePEM:
		// A Kafka PEM keystore file holds the key and the chain together.
		return pemKeyPair(data, data, keyPassword, keyPasswordKey, s.LocationKey, s.LocationKey, s.Location)
	case StoreJKS:
		return jksKeyPair(data, s, kpw, keyPasswordKey)
	default:
		priv, leaf, cas, err := pkcs12.DecodeChain(data, s.Password.Reveal())
		if err != nil {
			if isPKCS12PasswordErr(err) {
				return tls.Certificate{}, wrongPassword(s, "keystore")
			}
			return tls.Certificate{}, storeErr(s.LocationKey, s.Location, "is not a readable PKCS12 keystore with one private key ("+err.Error()+")",
				"export the client key and certificate with openssl pkcs12 -export or keytool")
		}
		return certFrom(priv, append([]*x509.Certificate{leaf}, cas...), s.LocationKey, s.Location)
	}
}

// jksKeyPair reads the first private key entry of a JKS keystore.
func jksKeyPair(data []byte, s TLSStore, keyPassword Secret, keyPasswordKey string) (tls.Certificate, error) {
	ks := keystore.New()
	if err := ks.Load(bytes.NewReader(data), []byte(s.Password.Reveal())); err != nil {
		if strings.Contains(err.Error(), "invalid digest") {
			return tls.Certificate{}, wrongPassword(s, "keystore")
		}
		return tls.Certificate{}, storeErr(s.LocationKey, s.Location, "is not a readable JKS file ("+err.Error()+")", "export the keystore again with keytool")
	}
	aliases := ks.Aliases()
	sort.Strings(aliases)
	var keyAliases []string
	for _, a := range aliases {
		if ks.IsPrivateKeyEntry(a) {
			keyAliases = append(keyAliases, a)
		}
	}
	if len(keyAliases) != 1 {
		return tls.Certificate{}, storeErr(s.LocationKey, s.Location, fmt.Sprintf("holds %d private keys (aliases %s)", len(keyAliases), strings.Join(keyAliases, ", ")),
			"keep exactly one key entry, the client certificate's (keytool -delete -alias ...)")
	}
	e, err := ks.GetPrivateKeyEntry(keyAliases[0], []byte(keyPassword.Reveal()))
	if err != nil {
		key := orKey(keyPasswordKey, s.PasswordKey)
		return tls.Certificate{}, storeErr(key, "", fmt.Sprintf("does not decrypt the key %q in %s", keyAliases[0], s.Location),
			"set the key's password (keytool -keypass); it is the keystore password unless the key was given its own")
	}
	priv, err := parseDERKey(e.PrivateKey)
	if err != nil {
		return tls.Certificate{}, storeErr(s.LocationKey, s.Location, fmt.Sprintf("holds a key %q that does not parse (%v)", keyAliases[0], err), "create the key with keytool -genkeypair (RSA or EC)")
	}
	var chain []*x509.Certificate
	for _, c := range e.CertificateChain {
		x, err := x509.ParseCertificate(c.Content)
		if err != nil {
			return tls.Certificate{}, storeErr(s.LocationKey, s.Location, fmt.Sprintf("holds a certificate for %q that does not parse (%v)", keyAliases[0], err), "re-import the signed certificate")
		}
		chain = append(chain, x)
	}
	return certFrom(priv, chain, s.LocationKey, s.Location)
}

// certFrom checks that chain[0] belongs to priv and builds the certificate.
func certFrom(priv any, chain []*x509.Certificate, key, location string) (tls.Certificate, error) {
	if len(chain) == 0 || chain[0] == nil {
		return tls.Certificate{}, storeErr(key, location, "holds a private key without a certificate", "import the signed client certificate for the key")
	}
	signer, ok := priv.(crypto.Signer)
	if !ok || !publicKeyEqual(signer.Public(), chain[0].PublicKey) {
		return tls.Certificate{}, storeErr(key, location, "holds a private key that does not match its certificate ("+chain[0].Subject.String()+")",
			"give the key and the certificate issued for it")
	}
	cert := tls.Certificate{PrivateKey: priv, Leaf: chain[0]}
	for _, c := range chain {
		cert.Certificate = append(cert.Certificate, c.Raw)
	}
	return cert, nil
}

func publicKeyEqual(a, b crypto.PublicKey) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	e, ok := a.(equaler)
	return ok && e.Equal(b)
}

// pemKeyPair builds a certificate from PEM text: certs holds the chain (leaf
// first), keyPEM the private key (the two may be the same text).
func pemKeyPair(certs, keyPEM []byte, keyPassword Secret, keyPasswordKey, certKey, keyKey, location string) (tls.Certificate, error) {
	chain, err := parsePEMCerts(certs)
	if err != nil || len(chain) == 0 {
		return tls.Certificate{}, storeErr(certKey, location, "holds no PEM certificate"+errSuffix(err), "give the client certificate (and its intermediates) as -----BEGIN CERTIFICATE----- blocks")
	}
	priv, ferr := parsePEMKey(keyPEM, keyPassword, keyPasswordKey, keyKey, location)
	if ferr != nil {
		return tls.Certificate{}, ferr
	}
	return certFrom(priv, chain, certKey, location)
}

func parsePEMCerts(data []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return out, nil
		}
		if b.Type != "CERTIFICATE" && b.Type != "TRUSTED CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
}

// parsePEMKey finds the private key block in data and decrypts it when it
// is encrypted (PKCS#8 PBES2, as Kafka's PEM keystores require, or the
// legacy "Proc-Type: 4,ENCRYPTED" armour).
func parsePEMKey(data []byte, password Secret, passwordKey, key, location string) (any, *FieldError) {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil, storeErr(key, location, "holds no PEM private key", "give the client's private key as a -----BEGIN PRIVATE KEY----- block")
		}
		var der []byte
		switch {
		case b.Type == "ENCRYPTED PRIVATE KEY":
			if password.IsZero() {
				return nil, storeErr(orKey(passwordKey, key), "", "is not set, but the PEM private key is encrypted", "set the password the key was encrypted with")
			}
			d, err := decryptPKCS8(b.Bytes, []byte(password.Reveal()))
			if errors.Is(err, errPKCS8Password) {
				return nil, storeErr(orKey(passwordKey, key), "", "does not decrypt the PEM private key", "set the password the key was encrypted with")
			}
			if err != nil {
				return nil, storeErr(key, location, "holds an encrypted private key Rivulet cannot read ("+err.Error()+")",
					"encrypt it with PBES2 (openssl pkcs8 -topk8 -v2 aes-256-cbc), or store it unencrypted in a Kubernetes Secret")
			}
			der = d
		case strings.HasSuffix(b.Type, "PRIVATE KEY"):
			der = b.Bytes
			//lint:ignore SA1019 legacy encrypted PEM keys are still what openssl rsa -aes256 writes
			if x509.IsEncryptedPEMBlock(b) { //nolint:staticcheck
				if password.IsZero() {
					return nil, storeErr(orKey(passwordKey, key), "", "is not set, but the PEM private key is encrypted", "set the password the key was encrypted with")
				}
				d, err := x509.DecryptPEMBlock(b, []byte(password.Reveal())) //nolint:staticcheck
				if err != nil {
					return nil, storeErr(orKey(passwordKey, key), "", "does not decrypt the PEM private key", "set the password the key was encrypted with")
				}
				der = d
			}
		default:
			continue
		}
		priv, err := parseDERKey(der)
		if err != nil {
			return nil, storeErr(key, location, "holds a private key that does not parse ("+err.Error()+")", "give an RSA, EC or Ed25519 key in PKCS#8, PKCS#1 or SEC 1 form")
		}
		return priv, nil
	}
}

func parseDERKey(der []byte) (any, error) {
	if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		switch k.(type) {
		case *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey:
			return k, nil
		}
		return nil, fmt.Errorf("unsupported key type %T", k)
	}
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return k, nil
	}
	if k, err := x509.ParseECPrivateKey(der); err == nil {
		return k, nil
	}
	return nil, errors.New("not a PKCS#8, PKCS#1 or SEC 1 private key")
}

// kafkaTLSFiles consumes Kafka's client TLS keys under prefix ("" for the
// worker's, "producer.", "schema.history.internal.producer.", ...):
// ssl.truststore.{location,type,password,certificates},
// ssl.keystore.{location,type,password,certificate.chain,key} and
// ssl.key.password. Passwords are kept verbatim (spaces may be part of
// them); the other values are trimmed. Types are left as written (""
// detects from the content; Kafka's default JKS also reads PKCS12).
func (l *loader) kafkaTLSFiles(prefix string) TLSFiles {
	k := func(name string) string { return prefix + "ssl." + name }
	str := func(name string) (v, key string) {
		key = k(name)
		v, _ = l.take(key)
		return v, key
	}
	secret := func(name string) (Secret, string) {
		key := k(name)
		v, ok := l.m[key]
		delete(l.m, key)
		if !ok {
			return Secret{}, key
		}
		return NewSecret(v), key
	}
	var f TLSFiles
	t, ks := &f.Truststore, &f.Keystore
	t.Location, t.LocationKey = str("truststore.location")
	t.Type, t.TypeKey = str("truststore.type")
	t.Password, t.PasswordKey = secret("truststore.password")
	t.Certificates, t.CertificatesKey = str("truststore.certificates")
	ks.Location, ks.LocationKey = str("keystore.location")
	ks.Type, ks.TypeKey = str("keystore.type")
	ks.Password, ks.PasswordKey = secret("keystore.password")
	ks.Certificates, ks.CertificatesKey = str("keystore.certificate.chain")
	ks.Key, ks.KeyKey = str("keystore.key")
	f.KeyPassword, f.KeyPasswordKey = secret("key.password")
	return f
}
