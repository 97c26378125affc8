package main

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/rivulet-cdc/rivulet/config"
	"github.com/rivulet-cdc/rivulet/internal/srtest"
	"github.com/rivulet-cdc/rivulet/internal/testenv"
)

// Passwords of the Java stores the secret test makes; none may appear in
// any output.
const (
	trustStorePassword = "tr0st-St0re-S3cret"
	keyStorePassword   = "k3y-St0re-S3cret"
	privateKeyPassword = "pr1v-K3y-S3cret"
	registryPassword   = "sr-B4sic-S3cret" // the schema registry user's
)

// javaStores are the test CA and client certificate as Java keeps them:
// keytool truststores (JKS and PKCS12, password trustStorePassword) and
// client keystores (PKCS12 with keyStorePassword; JKS with keyStorePassword
// and a key of its own password, privateKeyPassword).
type javaStores struct {
	TrustJKS, TrustP12, KeyJKS, KeyP12 string
}

func makeJavaStores(t *testing.T, certs *testenv.Certs) javaStores {
	t.Helper()
	dir := t.TempDir()
	s := javaStores{
		TrustJKS: filepath.Join(dir, "truststore.jks"), TrustP12: filepath.Join(dir, "truststore.p12"),
		KeyJKS: filepath.Join(dir, "keystore.jks"), KeyP12: filepath.Join(dir, "keystore.p12"),
	}
	cert, key := filepath.Join(dir, "client.crt"), filepath.Join(dir, "client.key")
	for name, data := range map[string]string{cert: certs.ClientCertPEM + certs.CAPEM, key: certs.ClientKeyPEM} {
		if err := os.WriteFile(name, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for path, typ := range map[string]string{s.TrustJKS: "JKS", s.TrustP12: "PKCS12"} {
		testenv.Keytool(t, "-importcert", "-noprompt", "-alias", "ca", "-file", certs.CAFile,
			"-keystore", path, "-storetype", typ, "-storepass", trustStorePassword)
	}
	testenv.OpenSSL(t, "pkcs12", "-export", "-name", "client", "-in", cert, "-inkey", key,
		"-out", s.KeyP12, "-passout", "pass:"+keyStorePassword)
	testenv.Keytool(t, "-importkeystore", "-noprompt", "-srckeystore", s.KeyP12, "-srcstoretype", "PKCS12",
		"-srcstorepass", keyStorePassword, "-destkeystore", s.KeyJKS, "-deststoretype", "JKS", "-deststorepass", keyStorePassword)
	testenv.Keytool(t, "-keypasswd", "-alias", "client", "-keystore", s.KeyJKS, "-storepass", keyStorePassword,
		"-keypass", keyStorePassword, "-new", privateKeyPassword)
	return s
}

// TestSecrets_NowhereInOutput runs Rivulet the way a production setup has
// it, with every kind of secret in play: the database password, SASL
// SCRAM-SHA-512 over mutual TLS with a PKCS12 truststore and a JKS
// keystore whose key has a password of its own, and Avro through an https
// registry with worker-level basic auth, a JKS truststore and a PKCS12
// keystore. Snapshot, streaming, schema history, offsets topic and
// heartbeats go through, `verify` finds the topic equal; then `check` passes, and `check` with each
// credential wrong fails naming the setting to change. No secret (nor a
// wrong one, nor the client's private key) appears in the run's log at
// debug level, any check output or error, the metrics page or any record.
func TestSecrets_NowhereInOutput(t *testing.T) {
	if testing.Short() {
		t.Skip("starts MariaDB, a JVM for keytool and Rivulet")
	}
	srv := testenv.MariaDB(t)
	certs := testenv.TLSCerts(t)
	stores := makeJavaStores(t, certs)
	cluster := testenv.KafkaCluster(t, kfake.TLS(certs.ServerTLS(true)), kfake.EnableSASL(),
		kfake.Superuser("SCRAM-SHA-512", "carol", scramPassword))
	brokers := cluster.ListenAddrs()
	clientOpts := []kgo.Opt{kgo.DialTLSConfig(certs.ClientTLS()), kgo.SASL(scram.Auth{User: "carol", Pass: scramPassword}.AsSha512Mechanism())}
	registry, _ := srtest.Secure(t, certs.ServerTLS(true), func(h http.Header) bool {
		u, p, ok := (&http.Request{Header: h}).BasicAuth()
		return ok && u == "sruser" && p == registryPassword
	})

	db := srv.Database(t)
	prefix := testenv.TopicPrefix(t)
	srv.Exec(t, db, `CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20))`, `INSERT INTO t VALUES (1,'a'),(2,'b'),(3,'c')`)
	dir := t.TempDir()
	jaas := func(pw string) string {
		return `org.apache.kafka.common.security.scram.ScramLoginModule required username="carol" password="` + pw + `";`
	}
	worker := map[string]string{
		"bootstrap.servers": strings.Join(brokers, ","), "security.protocol": "SASL_SSL",
		"sasl.mechanism": "SCRAM-SHA-512", "sasl.jaas.config": jaas(scramPassword),
		"ssl.truststore.location": stores.TrustP12, "ssl.truststore.type": "PKCS12", "ssl.truststore.password": trustStorePassword,
		"ssl.keystore.location": stores.KeyJKS, "ssl.keystore.type": "JKS", "ssl.keystore.password": keyStorePassword,
		"ssl.key.password":     privateKeyPassword,
		"offset.storage.topic": prefix + "-offsets", "offset.storage.partitions": "1", "group.id": "connect-cluster",
		"key.converter": config.AvroConverterClass, "value.converter": config.AvroConverterClass,
		"key.converter.schema.registry.url": registry, "value.converter.schema.registry.url": registry,
		"schema.registry.basic.auth.credentials.source": "USER_INFO", "schema.registry.basic.auth.user.info": "sruser:" + registryPassword,
		"schema.registry.ssl.truststore.location": stores.TrustJKS, "schema.registry.ssl.truststore.password": trustStorePassword,
		"schema.registry.ssl.keystore.location": stores.KeyP12, "schema.registry.ssl.keystore.type": "PKCS12",
		"schema.registry.ssl.keystore.password": keyStorePassword,
	}
	metricsAddr := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
	connectorKeys := map[string]string{
		"connector.class":   "io.debezium.connector.mariadb.MariaDbConnector",
		"database.hostname": srv.Host, "database.port": strconv.Itoa(srv.Port),
		"database.user": srv.User, "database.password": srv.Password, "database.server.id": "5612",
		"topic.prefix": prefix, "database.include.list": db,
		"schema.history.internal.kafka.topic": prefix + ".history",
		"heartbeat.interval.ms":               "100", "offset.flush.interval.ms": "100",
		"metrics.listen": metricsAddr, "log.level": "debug",
	}
	workerFile := writeProperties(t, filepath.Join(dir, "worker.properties"), worker)
	connector := writeConnector(t, filepath.Join(dir, "connector.json"), connectorKeys)

	in := startWith(t, metricsAddr, "run", "--config", connector, "--worker", workerFile)
	topic := prefix + "." + db + ".t"
	consumeSecure(t, brokers, clientOpts, 3, topic)
	srv.Exec(t, db, `INSERT INTO t VALUES (4,'d')`)
	var records []byte
	for _, r := range consumeSecure(t, brokers, clientOpts, 4, topic) {
		if len(r.Value) < 5 || r.Value[0] != 0 {
			t.Errorf("record at offset %d is not Confluent Avro (magic byte 0): % x", r.Offset, r.Value[:min(len(r.Value), 8)])
		}
		records = append(records, r.Key...)
		records = append(records, r.Value...)
	}
	for _, tp := range []string{prefix + ".history", prefix + "-offsets", "__debezium-heartbeat." + prefix} {
		for _, r := range consumeSecure(t, brokers, clientOpts, 1, tp) {
			records = append(append(records, r.Key...), r.Value...)
			for _, h := range r.Headers {
				records = append(records, h.Value...)
			}
		}
	}
	metrics := scrape(t, metricsAddr)
	// verify reads the Avro topic back through the same https registry
	// (client certificate, basic auth) and SASL over TLS.
	vb, verr := exec.Command(rivuletBinary(t), "verify", "--config", connector, "--worker", workerFile).CombinedOutput()
	if verr != nil || !strings.Contains(string(vb), "): EQUAL") {
		t.Errorf("verify through the secured registry and brokers: %v\n%s", verr, vb)
	}
	in.stop()

	outputs := map[string]string{"run log": in.log.String(), "metrics": metrics, "records": string(records), "verify": string(vb)}
	check := func(name string, worker map[string]string, connector map[string]string, wantPass bool, want ...string) {
		t.Helper()
		wf := writeProperties(t, filepath.Join(dir, name+".properties"), worker)
		cf := writeConnector(t, filepath.Join(dir, name+".json"), connector)
		b, err := exec.Command(rivuletBinary(t), "check", "--config", cf, "--worker", wf).CombinedOutput()
		if wantPass != (err == nil) {
			t.Errorf("check %s: exit %v, want pass=%v\n%s", name, err, wantPass, b)
		}
		for _, w := range want {
			if !strings.Contains(string(b), w) {
				t.Errorf("check %s does not say %q:\n%s", name, w, b)
			}
		}
		outputs["check "+name] = string(b)
	}
	with := func(m map[string]string, kv ...string) map[string]string {
		out := map[string]string{}
		for k, v := range m {
			out[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			out[kv[i]] = kv[i+1]
		}
		return out
	}
	const wrong = "Wr0ng-Pa55word"
	// The stopped run's replica id may linger on the server for a moment.
	connectorKeys = with(connectorKeys, "database.server.id", "5613")
	check("ok", worker, connectorKeys, true, "PASS  kafka", "PASS  schema registry")
	check("wrong-sasl", with(worker, "sasl.jaas.config", jaas(wrong+"-sasl")), connectorKeys, false, "FAIL  kafka")
	check("wrong-keystore", with(worker, "ssl.keystore.password", wrong+"-ks"), connectorKeys, false, "ssl.keystore.password")
	check("wrong-key", with(worker, "ssl.key.password", wrong+"-key"), connectorKeys, false, "ssl.key.password")
	check("wrong-truststore", with(worker, "ssl.truststore.password", wrong+"-ts"), connectorKeys, false, "ssl.truststore.password")
	check("wrong-registry-keystore", with(worker, "schema.registry.ssl.keystore.password", wrong+"-srks"), connectorKeys, false, "schema.registry.ssl.keystore.password")
	check("wrong-registry", with(worker, "schema.registry.basic.auth.user.info", "sruser:"+wrong+"-sr"), connectorKeys, false, "FAIL  schema registry")
	check("wrong-database", worker, with(connectorKeys, "database.password", wrong+"-db"), false, "database.password")

	// A run whose SASL login the broker refuses (SASL_AUTHENTICATION_FAILED,
	// as Apache Kafka answers a wrong password) stops at once, naming the
	// key to fix and no secret.
	{
		refusing := testenv.KafkaCluster(t, kfake.TLS(certs.ServerTLS(true)), kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-512", "carol", scramPassword))
		refusing.ControlKey(int16(kmsg.SASLAuthenticate), func(req kmsg.Request) (kmsg.Response, error, bool) {
			refusing.KeepControl()
			resp := req.(*kmsg.SASLAuthenticateRequest).ResponseKind().(*kmsg.SASLAuthenticateResponse)
			msg := "Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512"
			resp.ErrorCode, resp.ErrorMessage = 58, &msg
			return resp, nil, true
		})
		wf := writeProperties(t, filepath.Join(dir, "run-wrong-sasl.properties"), with(worker,
			"sasl.jaas.config", jaas(wrong+"-run"), "bootstrap.servers", strings.Join(refusing.ListenAddrs(), ",")))
		cf := writeConnector(t, filepath.Join(dir, "run-wrong-sasl.json"), with(connectorKeys, "metrics.listen", "127.0.0.1:"+strconv.Itoa(testenv.FreePort(t))))
		ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
		b, err := exec.CommandContext(ctx, rivuletBinary(t), "run", "--config", cf, "--worker", wf).CombinedOutput()
		cancel()
		if err == nil || !strings.Contains(string(b), "the broker refused the SASL login; check the user and password (or token, or IAM policy) in sasl.jaas.config") {
			t.Errorf("the run with a refused SASL login: %v\n%s", err, b)
		}
		outputs["run with a refused SASL login"] = string(b)

	}

	secrets := []string{srv.Password, scramPassword, registryPassword, trustStorePassword, keyStorePassword, privateKeyPassword,
		wrong, certs.ClientKeyPEM[40:80]}
	for what, out := range outputs {
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Errorf("the %s holds a secret %q:\n%s", what, s, out)
			}
		}
	}
	if !strings.Contains(in.log.String(), "level=DEBUG") && !strings.Contains(in.log.String(), `"level":"DEBUG"`) {
		t.Errorf("the run did not log at debug level: the grep saw less than it could")
	}
}
