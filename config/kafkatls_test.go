package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/rivulet-cdc/rivulet/internal/testenv"
)

// TestKafkaTLS_Connections connects to TLS brokers with each way of giving
// the trust and key material and checks what Kafka's Java client would do:
// the broker's host name is checked unless
// ssl.endpoint.identification.algorithm is empty, and then the chain still
// is; a client certificate given inline (ssl.keystore.certificate.chain and
// ssl.keystore.key) or as a PEM keystore whose key is encrypted with
// ssl.key.password passes mutual TLS, and none does not.
func TestKafkaTLS_Connections(t *testing.T) {
	other := testenv.TLSCerts(t, "broker.example") // a certificate not valid for 127.0.0.1
	otherBrokers := testenv.KafkaCluster(t, kfake.TLS(other.ServerTLS(false))).ListenAddrs()
	certs := testenv.TLSCerts(t)
	mtlsBrokers := testenv.KafkaCluster(t, kfake.TLS(certs.ServerTLS(true))).ListenAddrs()
	stranger := testenv.TLSCerts(t) // another CA

	const keyPassword = "pem-K3y-pass"
	dir := t.TempDir()
	key := filepath.Join(dir, "client.key")
	writeFile(t, key, certs.ClientKeyPEM)
	encKey := filepath.Join(dir, "client-enc.key")
	testenv.OpenSSL(t, "pkcs8", "-topk8", "-v2", "aes-256-cbc", "-in", key, "-out", encKey, "-passout", "pass:"+keyPassword)
	encPEM := readFile(t, encKey)
	encKeystore := filepath.Join(dir, "keystore.pem")
	writeFile(t, encKeystore, encPEM+certs.ClientCertPEM)

	for _, tc := range []struct {
		name    string
		brokers []string
		kv      []string
		wantErr string // "" connects
	}{
		{"host name checked by default", otherBrokers, []string{"ssl.truststore.location", other.CAFile}, "cannot validate certificate for 127.0.0.1"},
		{"empty identification algorithm skips the host name", otherBrokers, []string{"ssl.truststore.location", other.CAFile,
			"ssl.endpoint.identification.algorithm", ""}, ""},
		{"but not the chain", otherBrokers, []string{"ssl.truststore.location", stranger.CAFile,
			"ssl.endpoint.identification.algorithm", ""}, "signed by unknown authority"},
		{"inline client certificate", mtlsBrokers, []string{"ssl.truststore.certificates", certs.CAPEM,
			"ssl.keystore.certificate.chain", certs.ClientCertPEM, "ssl.keystore.key", certs.ClientKeyPEM}, ""},
		{"encrypted PEM keystore key", mtlsBrokers, []string{"ssl.truststore.location", certs.CAFile,
			"ssl.keystore.location", encKeystore, "ssl.keystore.type", "PEM", "ssl.key.password", keyPassword}, ""},
		{"inline encrypted key", mtlsBrokers, []string{"ssl.truststore.location", certs.CAFile,
			"ssl.keystore.certificate.chain", certs.ClientCertPEM, "ssl.keystore.key", encPEM, "ssl.key.password", keyPassword}, ""},
		{"no client certificate", mtlsBrokers, []string{"ssl.truststore.location", certs.CAFile}, "certificate required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := mustFromMap(t, with(append([]string{"security.protocol", "SSL"}, tc.kv...)...))
			err := ping(t, c, tc.brokers)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("ping: %v", err)
			case tc.wantErr != "" && err == nil:
				t.Fatal("connected, want a refusal")
			case tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr):
				t.Errorf("err = %v, want it to mention %q", err, tc.wantErr)
			}
		})
	}

	// A wrong key password is a load error naming ssl.key.password, and
	// prints no password.
	_, _, err := FromMap(with("security.protocol", "SSL", "ssl.keystore.location", encKeystore, "ssl.keystore.type", "PEM",
		"ssl.key.password", "wr0ng-pem-pass"))
	if err == nil || !strings.Contains(err.Error(), "ssl.key.password") || strings.Contains(err.Error(), "wr0ng-pem-pass") {
		t.Errorf("wrong key password: %v", err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
