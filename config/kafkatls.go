package config

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
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
			errs := []error{err}
			if j, ok := err.(interface{ Unwrap() []error }); ok {
				errs = j.Unwrap()
			}
			for _, err := range errs {
				var fe *FieldError
				if !errors.As(err, &fe) {
					fe = invalid(kc.Source("ssl.truststore.location"), "", err.Error(), "check the ssl.* keys of this client")
				} else {
					fe.Key = kc.Source(fe.Key)
				}
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
	m, err := LoadTLSMaterial(t.files())
	if err != nil {
		return nil, err
	}
	roots := m.RootCAs // nil: the system roots
	c.RootCAs, c.Certificates = roots, m.Certificates
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

// files is the one TLS material loader's view of these keys (LoadTLSMaterial:
// JKS, PKCS12 and PEM files, inline PEM, encrypted keys), named by their
// worker-level keys.
func (t KafkaTLS) files() TLSFiles {
	return TLSFiles{
		Truststore: TLSStore{
			Location: t.TruststoreLocation, LocationKey: "ssl.truststore.location",
			Type: t.TruststoreType, TypeKey: "ssl.truststore.type",
			Password: t.TruststorePassword, PasswordKey: "ssl.truststore.password",
			Certificates: t.TruststoreCertificates, CertificatesKey: "ssl.truststore.certificates",
		},
		Keystore: TLSStore{
			Location: t.KeystoreLocation, LocationKey: "ssl.keystore.location",
			Type: t.KeystoreType, TypeKey: "ssl.keystore.type",
			Password: t.KeystorePassword, PasswordKey: "ssl.keystore.password",
			Certificates: t.KeystoreCertificateChain, CertificatesKey: "ssl.keystore.certificate.chain",
			Key: t.KeystoreKey.Reveal(), KeyKey: "ssl.keystore.key",
		},
		KeyPassword: t.KeyPassword, KeyPasswordKey: "ssl.key.password",
	}
}
