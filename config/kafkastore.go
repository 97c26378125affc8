package config

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// parseTrustStore returns the CA certificates of a Kafka truststore file.
// typ is ssl.truststore.type ("" means JKS, as in Kafka, unless the file
// is PEM).
func parseTrustStore(data []byte, typ string, password Secret) ([]*x509.Certificate, error) {
	switch {
	case typ == "PEM" || (typ == "" && isPEM(data)):
		var certs []*x509.Certificate
		for rest := data; ; {
			var b *pem.Block
			b, rest = pem.Decode(rest)
			if b == nil {
				break
			}
			if b.Type != "CERTIFICATE" {
				continue
			}
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("holds a certificate that does not parse (%v)", err)
			}
			certs = append(certs, c)
		}
		if len(certs) == 0 {
			return nil, errors.New("holds no PEM certificate")
		}
		return certs, nil
	case typ == "JKS" || typ == "PKCS12" || typ == "":
		return nil, fmt.Errorf("is a %s truststore, which Rivulet cannot read yet", storeType(typ))
	}
	return nil, fmt.Errorf("has ssl.truststore.type %s, which is not JKS, PKCS12 or PEM", typ)
}

// parseKeyStore returns the client certificate and key of a Kafka keystore.
func parseKeyStore(data []byte, typ string, password, keyPassword Secret) (tls.Certificate, error) {
	switch {
	case typ == "PEM" || (typ == "" && isPEM(data)):
		return pemKeyPair(data, keyPassword)
	case typ == "JKS" || typ == "PKCS12" || typ == "":
		return tls.Certificate{}, fmt.Errorf("is a %s keystore, which Rivulet cannot read yet", storeType(typ))
	}
	return tls.Certificate{}, fmt.Errorf("has ssl.keystore.type %s, which is not JKS, PKCS12 or PEM", typ)
}

func storeType(typ string) string {
	if typ == "" {
		return "JKS"
	}
	return typ
}

// pemKeyPair reads a certificate chain and its private key from PEM, as
// Kafka's PEM keystore holds them (key first or last).
func pemKeyPair(data []byte, keyPassword Secret) (tls.Certificate, error) {
	var certPEM, keyPEM []byte
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		switch {
		case b.Type == "CERTIFICATE":
			certPEM = append(certPEM, pem.EncodeToMemory(b)...)
		case b.Type == "ENCRYPTED PRIVATE KEY" || b.Headers["Proc-Type"] != "":
			return tls.Certificate{}, errors.New("holds an encrypted private key, which Rivulet cannot decrypt yet (ssl.key.password); store the key unencrypted in a Kubernetes Secret (openssl pkcs8 -topk8 -nocrypt)")
		case strings.HasSuffix(b.Type, "PRIVATE KEY"):
			keyPEM = pem.EncodeToMemory(b)
		}
	}
	if len(certPEM) == 0 || keyPEM == nil {
		return tls.Certificate{}, errors.New("needs a PEM certificate chain and a PEM private key")
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("holds a certificate and key that do not match (%v)", err)
	}
	return cert, nil
}
