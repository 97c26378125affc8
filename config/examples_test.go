package config

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/rivulet-cdc/rivulet/internal/testenv"
)

// TestExamples_KafkaWorkerFiles loads the worker files README shows for
// Amazon MSK (IAM, SCRAM, mutual TLS), Strimzi (its CA and KafkaUser
// Secrets as mounted directories) and Confluent Cloud, with
// deploy/kafka/connector.json, as `rivulet check --worker` does, with the
// secrets in the environment and the keystore where the Helm chart mounts
// it; then connects with the resulting settings to a broker secured that
// way. The test brokers present a certificate of a test CA instead of
// Amazon's or Confluent's public ones, so the test adds that CA as the
// truststore (Strimzi's file names its own) and points bootstrap.servers
// at them; the Secrets are where the files say, under a temporary root.
func TestExamples_KafkaWorkerFiles(t *testing.T) {
	const (
		keystorePassword = "ks-pass-1"
		keyPassword      = "key-pass-2"
	)
	certs := testenv.TLSCerts(t)
	secrets := t.TempDir() // as Helm's secretMounts mounts kafka-tls
	cert, key := filepath.Join(secrets, "client.crt"), filepath.Join(secrets, "client.key")
	writeFile(t, cert, certs.ClientCertPEM+certs.CAPEM)
	writeFile(t, key, certs.ClientKeyPEM)
	p12 := filepath.Join(secrets, "client.p12")
	jks := filepath.Join(secrets, "kafka.client.keystore.jks")
	testenv.OpenSSL(t, "pkcs12", "-export", "-name", "client", "-in", cert, "-inkey", key, "-out", p12, "-passout", "pass:"+keystorePassword)
	testenv.Keytool(t, "-importkeystore", "-noprompt", "-srckeystore", p12, "-srcstoretype", "PKCS12", "-srcstorepass", keystorePassword,
		"-destkeystore", jks, "-deststoretype", "JKS", "-deststorepass", keystorePassword)
	testenv.Keytool(t, "-keypasswd", "-alias", "client", "-keystore", jks, "-storepass", keystorePassword, "-keypass", keystorePassword, "-new", keyPassword)

	// Strimzi's Secrets: the cluster CA (ca.crt) and the KafkaUser's
	// user.p12 with its password in user.password.
	const strimziPassword = "strimzi-Us3r-pass"
	strimzi := t.TempDir()
	for _, d := range []string{"my-cluster-cluster-ca-cert", "rivulet-user"} {
		if err := os.Mkdir(filepath.Join(strimzi, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(strimzi, "my-cluster-cluster-ca-cert", "ca.crt"), certs.CAPEM)
	writeFile(t, filepath.Join(strimzi, "rivulet-user", "user.password"), strimziPassword)
	testenv.OpenSSL(t, "pkcs12", "-export", "-name", "rivulet", "-in", cert, "-inkey", key,
		"-out", filepath.Join(strimzi, "rivulet-user", "user.p12"), "-passout", "pass:"+strimziPassword)

	for k, v := range map[string]string{
		"DATABASE_PASSWORD": "db-pw", "KAFKA_PASSWORD": "scram-pw", "KEYSTORE_PASSWORD": keystorePassword, "KEY_PASSWORD": keyPassword,
		"CC_API_KEY": "CCKEY123", "CC_API_SECRET": "cc-secret", "SR_API_KEY": "SRKEY456", "SR_API_SECRET": "sr-secret",
	} {
		t.Setenv(k, v)
	}
	tests := []struct {
		file    string
		cluster func(t *testing.T) *kfake.Cluster
		check   func(t *testing.T, c *Config)
	}{
		{"msk-iam.properties", func(t *testing.T) *kfake.Cluster {
			// EKS IRSA: the role and the projected token file EKS injects,
			// exchanged at a local STS stub.
			dir := awsEnv(t)
			sts, _ := stsStub(t, "projected-service-account-jwt", "")
			tokenFile := filepath.Join(dir, "token")
			writeFile(t, tokenFile, "projected-service-account-jwt")
			t.Setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/irsa")
			t.Setenv("AWS_WEB_IDENTITY_TOKEN_FILE", tokenFile)
			t.Setenv("AWS_ENDPOINT_URL_STS", sts.URL)
			return saslStub(t, "AWS_MSK_IAM", func(b []byte) error {
				return checkMSKSignature(b, "ASIAWEBIDENTITY", "web-identity-S3cret", "web-identity-session", "127.0.0.1")
			}, kfake.TLS(certs.ServerTLS(false)))
		}, func(t *testing.T, c *Config) {
			if s := c.Kafka.Client(RoleProducer).SASL; s.Mechanism != MechanismMSKIAM {
				t.Errorf("mechanism %s", s.Mechanism)
			}
		}},
		{"msk-scram.properties", func(t *testing.T) *kfake.Cluster {
			return testenv.KafkaCluster(t, kfake.TLS(certs.ServerTLS(false)), kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-512", "rivulet", "scram-pw"))
		}, func(t *testing.T, c *Config) {
			if s := c.Kafka.Client(RoleConsumer).SASL; s.Mechanism != MechanismSCRAM512 || s.User != "rivulet" {
				t.Errorf("consumer SASL %s as %q", s.Mechanism, s.User)
			}
		}},
		{"msk-tls.properties", func(t *testing.T) *kfake.Cluster {
			return testenv.KafkaCluster(t, kfake.TLS(certs.ServerTLS(true)))
		}, func(t *testing.T, c *Config) {
			if p := c.Kafka.Client(RoleHistoryConsumer).Protocol; p != SSL {
				t.Errorf("history consumer protocol %s", p)
			}
		}},
		{"strimzi-tls.properties", func(t *testing.T) *kfake.Cluster {
			return testenv.KafkaCluster(t, kfake.TLS(certs.ServerTLS(true)))
		}, func(t *testing.T, c *Config) {
			if tc := c.Kafka.Client(RoleSignalConsumer).TLS; tc.KeystoreType != "PKCS12" || tc.KeystorePassword.Reveal() != strimziPassword {
				t.Errorf("keystore %s with the password from user.password: %v", tc.KeystoreType, tc.KeystorePassword.Reveal() == strimziPassword)
			}
		}},
		{"confluent-cloud.properties", func(t *testing.T) *kfake.Cluster {
			return testenv.KafkaCluster(t, kfake.TLS(certs.ServerTLS(false)), kfake.EnableSASL(), kfake.Superuser("PLAIN", "CCKEY123", "cc-secret"))
		}, func(t *testing.T, c *Config) {
			if strings.Join(c.Avro.RegistryURLs, ",") != "https://psrc-abc12.eu-west-1.aws.confluent.cloud" || c.Avro.User != "SRKEY456" || c.Avro.Password.Reveal() != "sr-secret" {
				t.Errorf("registry %s as %q/%q", c.Avro.RegistryURLs, c.Avro.User, c.Avro.Password.Reveal())
			}
		}},
	}
	bootstrap := regexp.MustCompile(`(?m)^bootstrap\.servers=.*$`)
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("..", "deploy", "kafka", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			// Loaded as written first: the file alone is a valid worker file.
			c, w, err := LoadWithWorker(filepath.Join("..", "deploy", "kafka", tc.file), filepath.Join("..", "deploy", "kafka", "connector.json"))
			if err != nil && !strings.Contains(err.Error(), "/etc/rivulet-secrets/") {
				t.Fatalf("as written: %v", err)
			}
			cluster := tc.cluster(t)
			doc := bootstrap.ReplaceAllString(string(data), "bootstrap.servers="+strings.Join(cluster.ListenAddrs(), ","))
			doc = strings.ReplaceAll(doc, "/etc/rivulet-secrets/kafka-tls/", secrets+"/")
			doc = strings.ReplaceAll(doc, "/etc/rivulet-secrets/", strimzi+"/")
			if !strings.Contains(doc, "ssl.truststore.location") {
				doc += "\nssl.truststore.location=" + certs.CAFile + "\n"
			}
			worker := filepath.Join(t.TempDir(), tc.file)
			writeFile(t, worker, doc)
			c, w, err = LoadWithWorker(worker, filepath.Join("..", "deploy", "kafka", "connector.json"))
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range w {
				if !strings.HasPrefix(x.Message, "Kafka client keys with no effect in Rivulet: client.dns.lookup") {
					t.Errorf("warning: %s", x.Message)
				}
			}
			if g := c.Kafka.TopicCreation.Groups; c.Offsets.Topic != "rivulet-offsets" || c.Offsets.TopicReplicationFactor != 3 || len(g) != 1 || g[0].ReplicationFactor != 3 || g[0].Partitions != 6 {
				t.Errorf("offsets topic %q rf %d, topic.creation %+v", c.Offsets.Topic, c.Offsets.TopicReplicationFactor, g)
			}
			tc.check(t, c)
			if err := ping(t, c, cluster.ListenAddrs()); err != nil {
				t.Fatalf("connect with the example's settings: %v", err)
			}
		})
	}
}
