package engine

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/rivulet-cdc/rivulet/config"
	"github.com/rivulet-cdc/rivulet/internal/testenv"
)

// TestCheck_KafkaFixes: a Kafka connection that fails for a TLS or SASL
// reason makes check name the setting to change, with the key as written.
func TestCheck_KafkaFixes(t *testing.T) {
	certs := testenv.TLSCerts(t)
	other := testenv.TLSCerts(t, "broker.example")
	tlsBrokers := testenv.KafkaCluster(t, kfake.TLS(certs.ServerTLS(false))).ListenAddrs()
	otherBrokers := testenv.KafkaCluster(t, kfake.TLS(other.ServerTLS(false))).ListenAddrs()
	plainBrokers := testenv.KafkaCluster(t).ListenAddrs()
	scram256 := testenv.KafkaCluster(t, kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-256", "u", "pw"))
	scram256.ControlKey(int16(kmsg.SASLHandshake), func(req kmsg.Request) (kmsg.Response, error, bool) {
		scram256.KeepControl()
		r := req.(*kmsg.SASLHandshakeRequest)
		resp := r.ResponseKind().(*kmsg.SASLHandshakeResponse)
		resp.SupportedMechanisms = []string{"SCRAM-SHA-256"}
		if r.Mechanism != "SCRAM-SHA-256" {
			resp.ErrorCode = 33 // UNSUPPORTED_SASL_MECHANISM, as Apache Kafka answers
		}
		return resp, nil, true
	})
	refusing := testenv.KafkaCluster(t, kfake.EnableSASL(), kfake.Superuser("PLAIN", "u", "pw"))
	refusing.ControlKey(int16(kmsg.SASLAuthenticate), func(req kmsg.Request) (kmsg.Response, error, bool) {
		refusing.KeepControl()
		resp := req.(*kmsg.SASLAuthenticateRequest).ResponseKind().(*kmsg.SASLAuthenticateResponse)
		msg := "Authentication failed: Invalid username or password"
		resp.ErrorCode, resp.ErrorMessage = 58, &msg // SASL_AUTHENTICATION_FAILED, as Apache Kafka answers
		return resp, nil, true
	})
	closing := testenv.KafkaCluster(t, kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-512", "u", "pw")).ListenAddrs() // kfake closes on a wrong password
	plainJAAS := `org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="wrong-pw";`

	for _, tc := range []struct {
		name    string
		brokers []string
		kv      []string
		fix     string
	}{
		{"untrusted CA", tlsBrokers, []string{"producer.override.security.protocol", "SSL", "producer.override.ssl.truststore.location", other.CAFile},
			"not signed by a CA in producer.override.ssl.truststore.location"},
		{"host name", otherBrokers, []string{"security.protocol", "SSL", "ssl.truststore.location", other.CAFile},
			"does not name the host in bootstrap.servers; use the name it was issued for, or set ssl.endpoint.identification.algorithm= (empty)"},
		{"not a TLS listener", plainBrokers, []string{"security.protocol", "SSL"},
			"no TLS handshake with the broker: check that bootstrap.servers names the TLS listener's port (or set security.protocol to PLAINTEXT or SASL_PLAINTEXT"},
		{"refused login", refusing.ListenAddrs(), []string{"security.protocol", "SASL_PLAINTEXT", "sasl.mechanism", "PLAIN", "sasl.jaas.config", plainJAAS,
			"producer.sasl.jaas.config", plainJAAS},
			"the broker refused the SASL login; check the user and password (or token, or IAM policy) in producer.sasl.jaas.config and sasl.mechanism"},
		{"broker closes instead of answering", closing, []string{"security.protocol", "SASL_PLAINTEXT", "sasl.mechanism", "SCRAM-SHA-512",
			"sasl.jaas.config", strings.ReplaceAll(plainJAAS, "plain.PlainLoginModule", "scram.ScramLoginModule")},
			"the broker closed the connection, as some do after a failed SASL login: check the credentials in sasl.jaas.config"},
		{"mechanism not offered", scram256.ListenAddrs(), []string{"security.protocol", "SASL_PLAINTEXT", "sasl.mechanism", "PLAIN", "sasl.jaas.config", plainJAAS},
			"the listener does not offer PLAIN; set sasl.mechanism to one it offers"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := map[string]string{
				"database.hostname": "db", "database.user": "u", "database.server.id": "1", "topic.prefix": "p",
				"schema.history.internal.kafka.topic": "h", "offset.storage.file.filename": "/o",
				"bootstrap.servers": strings.Join(tc.brokers, ","),
			}
			for i := 0; i < len(tc.kv); i += 2 {
				m[tc.kv[i]] = tc.kv[i+1]
			}
			cfg, _, err := config.FromMap(m)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second) // a handshake that never ends waits this long
			defer cancel()
			r := kafkaCheck(ctx, cfg, "kafka producer", config.RoleProducer, tc.brokers)
			if r.OK || !strings.Contains(r.Fix, tc.fix) {
				t.Errorf("check = %+v\nwant a failure whose fix says %q", r, tc.fix)
			}
			if strings.Contains(r.Detail+r.Fix, "wrong-pw") {
				t.Errorf("the check prints the password: %+v", r)
			}
		})
	}
}

// TestKafkaLogin: before run opens its stores, a refused login stops it
// naming the key to fix; a broker that only closes the connection (down,
// or one that closes after a failed login) is left to the stages' retries
// with one warning saying what to check.
func TestKafkaLogin(t *testing.T) {
	refusing := testenv.KafkaCluster(t, kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-512", "u", "pw"))
	refusing.ControlKey(int16(kmsg.SASLAuthenticate), func(req kmsg.Request) (kmsg.Response, error, bool) {
		refusing.KeepControl()
		resp := req.(*kmsg.SASLAuthenticateRequest).ResponseKind().(*kmsg.SASLAuthenticateResponse)
		resp.ErrorCode = 58
		return resp, nil, true
	})
	closing := testenv.KafkaCluster(t, kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-512", "u", "pw"))
	load := func(brokers []string) *config.Config {
		cfg, _, err := config.FromMap(map[string]string{
			"database.hostname": "db", "database.user": "u", "database.server.id": "1", "topic.prefix": "p",
			"schema.history.internal.kafka.topic": "h", "offset.storage.file.filename": "/o", "bootstrap.servers": strings.Join(brokers, ","),
			"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "SCRAM-SHA-512",
			"sasl.jaas.config": `org.apache.kafka.common.security.scram.ScramLoginModule required username="u" password="not-pw";`,
		})
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	err := kafkaLogin(t.Context(), load(refusing.ListenAddrs()), log)
	if !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), "kafka cannot log in to") || !strings.Contains(err.Error(), "in sasl.jaas.config") {
		t.Errorf("refused login: %v", err)
	}
	if err := kafkaLogin(t.Context(), load(closing.ListenAddrs()), log); err != nil {
		t.Errorf("a closed connection stopped run: %v", err)
	}
	if !strings.Contains(logs.String(), "not reachable yet; retrying") || !strings.Contains(logs.String(), "as some do after a failed SASL login") {
		t.Errorf("no warning with the fix:\n%s", logs.String())
	}
	if strings.Contains(logs.String()+err.Error(), "not-pw") {
		t.Errorf("a password is printed")
	}
}
