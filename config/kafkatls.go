package config

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
)

// kafkaTLS reads the ssl.* keys of one role and, when the role uses TLS,
// loads the trust and key material once so that a bad file is reported
// at load time with its key.
func (l *loader) kafkaTLS(kc *KafkaClient, p clientProps) {
	t := &kc.TLS
	str := func(k string) string { v, _ := p.get(k); return strings.TrimSpace(v) }
	secret := func(k string) Secret {
		if v, ok := p.get(k); ok {
			return NewSecret(v) // not trimmed: spaces may be part of a password
		}
		return Secret{}
	}
	t.TruststoreLocation, t.TruststoreType = str("ssl.truststore.location"), strings.ToUpper(str("ssl.truststore.type"))
	t.TruststorePassword, t.TruststoreCertificates = secret("ssl.truststore.password"), str("ssl.truststore.certificates")
	t.KeystoreLocation, t.KeystoreType = str("ssl.keystore.location"), strings.ToUpper(str("ssl.keystore.type"))
	t.KeystorePassword, t.KeyPassword = secret("ssl.keystore.password"), secret("ssl.key.password")
	t.KeystoreCertificateChain, t.KeystoreKey = str("ssl.keystore.certificate.chain"), secret("ssl.keystore.key")
	if v, ok := p.vals["ssl.endpoint.identification.algorithm"]; ok {
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "":
			t.NoHostnameCheck = true
		case "https":
		default:
			l.failOnce(invalid(kc.Source("ssl.endpoint.identification.algorithm"), v, "is not https or empty", `set https (check the broker's host name, the default) or "" (do not)`))
		}
	}
	t.MinVersion = tls.VersionTLS12
	for _, k := range []string{"ssl.protocol", "ssl.enabled.protocols"} {
		v, ok := p.get(k)
		if !ok {
			continue
		}
		lowest := uint16(0)
		for _, proto := range strings.Split(v, ",") {
			var ver uint16
			switch strings.TrimSpace(proto) {
			case "TLSv1.2", "TLS":
				ver = tls.VersionTLS12
			case "TLSv1.3":
				ver = tls.VersionTLS13
			default:
				l.failOnce(invalid(kc.Source(k), v, "names "+strings.TrimSpace(proto)+", which Rivulet does not offer", "set TLSv1.2 or TLSv1.3"))
				continue
			}
			if lowest == 0 || ver < lowest {
				lowest = ver
			}
		}
		if lowest != 0 && k == "ssl.enabled.protocols" {
			t.MinVersion = lowest
		}
	}
	if kc.Protocol.TLS() {
		if _, err := t.Config(); err != nil {
			var fe *FieldError
			if errors.As(err, &fe) {
				fe.Key = kc.Source(fe.Key)
				l.failOnce(fe)
			}
		}
	} else if t.TruststoreLocation != "" || t.KeystoreLocation != "" || t.TruststoreCertificates != "" {
		l.warn(fmt.Sprintf("the ssl.* keys of the %s client are not used: its security.protocol is %s; set SSL or SASL_SSL to use TLS", l.roleOf(kc), kc.Protocol), kc.Source("security.protocol"))
	}
}

// Config returns the crypto/tls client configuration: the truststore (or
// the system roots), the keystore's certificate for mutual TLS, and
// hostname checking unless NoHostnameCheck. The server name is left empty:
// franz-go sets it to each broker's host. Errors are *FieldError naming
// the worker-level key.
func (t KafkaTLS) Config() (*tls.Config, error) {
	c := &tls.Config{MinVersion: t.MinVersion}
	if c.MinVersion == 0 {
		c.MinVersion = tls.VersionTLS12
	}
	roots, err := t.roots()
	if err != nil {
		return nil, err
	}
	c.RootCAs = roots
	cert, ok, err := t.keyPair()
	if err != nil {
		return nil, err
	}
	if ok {
		c.Certificates = []tls.Certificate{cert}
	}
	if t.NoHostnameCheck {
		// Kafka's empty ssl.endpoint.identification.algorithm: the chain is
		// still verified against the roots, only the name is not.
		c.InsecureSkipVerify = true
		c.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("the broker sent no certificate")
			}
			opts := x509.VerifyOptions{Roots: roots, Intermediates: x509.NewCertPool()}
			for _, ic := range cs.PeerCertificates[1:] {
				opts.Intermediates.AddCert(ic)
			}
			_, err := cs.PeerCertificates[0].Verify(opts)
			return err
		}
	}
	return c, nil
}

func (t KafkaTLS) roots() (*x509.CertPool, error) {
	switch {
	case t.TruststoreCertificates != "" && t.TruststoreLocation != "":
		return nil, invalid("ssl.truststore.certificates", "", "is set together with ssl.truststore.location", "set only one of them")
	case t.TruststoreCertificates != "":
		if t.TruststoreType != "" && t.TruststoreType != "PEM" {
			return nil, invalid("ssl.truststore.type", t.TruststoreType, "does not go with ssl.truststore.certificates", "set PEM or leave it unset")
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(t.TruststoreCertificates)) {
			return nil, invalid("ssl.truststore.certificates", "", "holds no PEM certificate", "paste the CA certificates, -----BEGIN CERTIFICATE----- included")
		}
		return pool, nil
	case t.TruststoreLocation != "":
		data, err := os.ReadFile(t.TruststoreLocation)
		if err != nil {
			return nil, invalid("ssl.truststore.location", t.TruststoreLocation, "cannot be read ("+err.Error()+")", "mount the truststore or fix the path")
		}
		certs, err := parseTrustStore(data, t.TruststoreType, t.TruststorePassword)
		if err != nil {
			return nil, invalid("ssl.truststore.location", t.TruststoreLocation, err.Error(), "check ssl.truststore.type and ssl.truststore.password")
		}
		pool := x509.NewCertPool()
		for _, c := range certs {
			pool.AddCert(c)
		}
		return pool, nil
	}
	return nil, nil // the system roots
}

func (t KafkaTLS) keyPair() (tls.Certificate, bool, error) {
	switch {
	case t.KeystoreCertificateChain != "" || !t.KeystoreKey.IsZero():
		if t.KeystoreLocation != "" {
			return tls.Certificate{}, false, invalid("ssl.keystore.certificate.chain", "", "is set together with ssl.keystore.location", "set only one of them")
		}
		if t.KeystoreCertificateChain == "" || t.KeystoreKey.IsZero() {
			return tls.Certificate{}, false, invalid("ssl.keystore.key", redacted, "needs ssl.keystore.certificate.chain and ssl.keystore.key together", "set both, in PEM")
		}
		cert, err := pemKeyPair([]byte(t.KeystoreCertificateChain+"\n"+t.KeystoreKey.Reveal()), t.KeyPassword)
		if err != nil {
			return tls.Certificate{}, false, invalid("ssl.keystore.key", redacted, err.Error(), "set the client certificate chain and its unencrypted private key in PEM")
		}
		return cert, true, nil
	case t.KeystoreLocation != "":
		data, err := os.ReadFile(t.KeystoreLocation)
		if err != nil {
			return tls.Certificate{}, false, invalid("ssl.keystore.location", t.KeystoreLocation, "cannot be read ("+err.Error()+")", "mount the keystore or fix the path")
		}
		cert, err := parseKeyStore(data, t.KeystoreType, t.KeystorePassword, t.KeyPassword)
		if err != nil {
			return tls.Certificate{}, false, invalid("ssl.keystore.location", t.KeystoreLocation, err.Error(), "check ssl.keystore.type, ssl.keystore.password and ssl.key.password")
		}
		return cert, true, nil
	}
	return tls.Certificate{}, false, nil
}

func isPEM(data []byte) bool {
	return strings.Contains(string(data), "-----BEGIN ")
}
