package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/rivulet-cdc/rivulet/binlog"
	"github.com/rivulet-cdc/rivulet/config"
	"github.com/rivulet-cdc/rivulet/engine"
	"github.com/rivulet-cdc/rivulet/internal/testenv"
)

// Secrets of the secure Kafka tests: none may appear in any output.
const (
	plainPassword = "pl41n-S3cret-pw"
	scramPassword = "scr4m-S3cret-pw"
)

// secureCase is one way of securing the brokers: the cluster's options,
// the worker file's keys, and the options of an independent test client.
type secureCase struct {
	name    string
	cluster func(c *testenv.Certs) []kfake.Opt
	worker  func(c *testenv.Certs) map[string]string
	client  func(c *testenv.Certs) []kgo.Opt
}

func secureCases() []secureCase {
	jaas := func(module, user, pass string) string {
		return module + ` required username="` + user + `" password="` + pass + `";`
	}
	return []secureCase{
		{
			name:    "tls",
			cluster: func(c *testenv.Certs) []kfake.Opt { return []kfake.Opt{kfake.TLS(c.ServerTLS(false))} },
			worker: func(c *testenv.Certs) map[string]string {
				return map[string]string{"security.protocol": "SSL", "ssl.truststore.location": c.CAFile, "ssl.truststore.type": "PEM"}
			},
			client: func(c *testenv.Certs) []kgo.Opt { return []kgo.Opt{kgo.DialTLSConfig(c.ClientTLS())} },
		},
		{
			name:    "mtls",
			cluster: func(c *testenv.Certs) []kfake.Opt { return []kfake.Opt{kfake.TLS(c.ServerTLS(true))} },
			worker: func(c *testenv.Certs) map[string]string {
				return map[string]string{"security.protocol": "SSL", "ssl.truststore.location": c.CAFile,
					"ssl.keystore.location": c.ClientFile, "ssl.keystore.type": "PEM"}
			},
			client: func(c *testenv.Certs) []kgo.Opt { return []kgo.Opt{kgo.DialTLSConfig(c.ClientTLS())} },
		},
		{
			name: "sasl_ssl plain",
			cluster: func(c *testenv.Certs) []kfake.Opt {
				return []kfake.Opt{kfake.TLS(c.ServerTLS(false)), kfake.EnableSASL(), kfake.Superuser("PLAIN", "alice", plainPassword)}
			},
			worker: func(c *testenv.Certs) map[string]string {
				return map[string]string{"security.protocol": "SASL_SSL", "sasl.mechanism": "PLAIN",
					"sasl.jaas.config":            jaas("org.apache.kafka.common.security.plain.PlainLoginModule", "alice", plainPassword),
					"ssl.truststore.certificates": c.CAPEM, "ssl.truststore.type": "PEM"}
			},
			client: func(c *testenv.Certs) []kgo.Opt {
				return []kgo.Opt{kgo.DialTLSConfig(c.ClientTLS()), kgo.SASL(plain.Auth{User: "alice", Pass: plainPassword}.AsMechanism())}
			},
		},
		{
			name: "sasl_plaintext scram-sha-256",
			cluster: func(*testenv.Certs) []kfake.Opt {
				return []kfake.Opt{kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-256", "bob", scramPassword)}
			},
			worker: func(*testenv.Certs) map[string]string {
				return map[string]string{"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "SCRAM-SHA-256",
					"sasl.jaas.config": jaas("org.apache.kafka.common.security.scram.ScramLoginModule", "bob", scramPassword)}
			},
			client: func(*testenv.Certs) []kgo.Opt {
				return []kgo.Opt{kgo.SASL(scram.Auth{User: "bob", Pass: scramPassword}.AsSha256Mechanism())}
			},
		},
		{
			// The worker's SCRAM-SHA-512 login over mTLS, given with a
			// SASL_SSL:// bootstrap prefix and producer./consumer. copies
			// as a real Connect worker file has them.
			name: "sasl_ssl scram-sha-512 mtls",
			cluster: func(c *testenv.Certs) []kfake.Opt {
				return []kfake.Opt{kfake.TLS(c.ServerTLS(true)), kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-512", "carol", scramPassword)}
			},
			worker: func(c *testenv.Certs) map[string]string {
				m := map[string]string{"sasl.mechanism": "SCRAM-SHA-512",
					"sasl.jaas.config":        jaas("org.apache.kafka.common.security.scram.ScramLoginModule", "carol", scramPassword),
					"ssl.truststore.location": c.CAFile, "ssl.keystore.location": c.ClientFile, "ssl.keystore.type": "PEM",
				}
				for _, p := range []string{"producer.", "consumer."} {
					m[p+"security.protocol"] = "SASL_SSL"
					m[p+"sasl.mechanism"] = m["sasl.mechanism"]
					m[p+"sasl.jaas.config"] = m["sasl.jaas.config"]
				}
				return m
			},
			client: func(c *testenv.Certs) []kgo.Opt {
				return []kgo.Opt{kgo.DialTLSConfig(c.ClientTLS()), kgo.SASL(scram.Auth{User: "carol", Pass: scramPassword}.AsSha512Mechanism())}
			},
		},
	}
}

// TestKafkaSecurity_EndToEnd runs Rivulet against a kfake cluster secured
// each way, configured the way a Connect user has it: the connector JSON
// plus the worker file (--worker) with bootstrap.servers, the security keys
// and offset.storage.topic. Snapshot rows, a streamed insert, the schema
// history, the offsets topic, heartbeats and a Kafka signal (an incremental
// snapshot) all go through the secured listener; a client without the
// credentials is refused; no secret appears in Rivulet's output.
func TestKafkaSecurity_EndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts MariaDB and Rivulet")
	}
	srv := testenv.MariaDB(t)
	for _, tc := range secureCases() {
		t.Run(tc.name, func(t *testing.T) {
			certs := testenv.TLSCerts(t)
			cluster := testenv.KafkaCluster(t, tc.cluster(certs)...)
			worker := tc.worker(certs)
			if _, ok := worker["security.protocol"]; !ok {
				worker["bootstrap.servers"] = "SASL_SSL://" + strings.Join(cluster.ListenAddrs(), ",SASL_SSL://")
			}
			runSecure(t, srv, cluster.ListenAddrs(), worker, tc.client(certs), certs)
		})
	}
}

// runSecure runs Rivulet with the worker file's keys against brokers (the
// secured listener) and checks every client it opens got through: snapshot
// and streamed rows, the schema history, the offsets topic, heartbeats, a
// Kafka signal, `check`. A client without credentials must be refused, and
// no secret may appear in Rivulet's output, its metrics or its records.
func runSecure(t *testing.T, srv *testenv.Server, brokers []string, worker map[string]string, clientOpts []kgo.Opt, certs *testenv.Certs) {
	t.Helper()
	db := srv.Database(t)
	prefix := testenv.TopicPrefix(t)
	srv.Exec(t, db, `CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20))`, `INSERT INTO t VALUES (1,'a'),(2,'b'),(3,'c')`)

	dir := t.TempDir()
	if worker["bootstrap.servers"] == "" {
		worker["bootstrap.servers"] = strings.Join(brokers, ",")
	}
	worker["offset.storage.topic"] = prefix + "-offsets"
	worker["offset.storage.partitions"] = "1"
	worker["group.id"] = "connect-cluster"
	workerFile := writeProperties(t, filepath.Join(dir, "connect-distributed.properties"), worker)
	metricsAddr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	connector := writeConnector(t, filepath.Join(dir, "connector.json"), map[string]string{
		"connector.class":   "io.debezium.connector.mariadb.MariaDbConnector",
		"database.hostname": srv.Host, "database.port": strconv.Itoa(srv.Port),
		"database.user": srv.User, "database.password": srv.Password, "database.server.id": "5611",
		"topic.prefix": prefix, "database.include.list": db,
		"schema.history.internal.kafka.topic": prefix + ".history",
		"signal.enabled.channels":             "source,kafka", "signal.kafka.topic": prefix + "-signal",
		"heartbeat.interval.ms": "100", "offset.flush.interval.ms": "100",
		"key.converter.schemas.enable": "false", "value.converter.schemas.enable": "false",
		"metrics.listen": metricsAddr,
		// Connect's topic creation and producer keys, with the connector's names.
		"topic.creation.default.partitions": "2", "topic.creation.default.replication.factor": "1",
		"topic.creation.groups": "history", "topic.creation.history.include": `.*\.history`,
		"topic.creation.history.partitions": "1", "topic.creation.default.cleanup.policy": "compact",
		"producer.override.acks": "all", "producer.override.linger.ms": "0", "producer.override.delivery.timeout.ms": "120000",
		"producer.override.client.id": prefix + "-producer",
	})

	in := startWith(t, metricsAddr, "run", "--config", connector, "--worker", workerFile)
	topic := prefix + "." + db + ".t"
	consumeSecure(t, brokers, clientOpts, 3, topic)
	srv.Exec(t, db, `INSERT INTO t VALUES (4,'d')`)
	consumeSecure(t, brokers, clientOpts, 4, topic)
	produceSecure(t, brokers, clientOpts, prefix+"-signal", prefix,
		`{"type":"execute-snapshot","data":{"data-collections":["`+db+`.t"],"type":"incremental"}}`)
	waitLog(t, in, "incremental snapshot complete", 1)
	var records strings.Builder
	for _, tp := range []string{topic, prefix + ".history", prefix + "-offsets", "__debezium-heartbeat." + prefix} {
		for _, r := range consumeSecure(t, brokers, clientOpts, 1, tp) {
			records.Write(r.Key)
			records.Write(r.Value)
			for _, h := range r.Headers {
				records.Write(h.Value)
			}
		}
	}
	metrics := scrape(t, metricsAddr)
	in.stop()

	// The change topic was created by topic.creation.default.*.
	adm, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(brokers...)}, clientOpts...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	ka := kadm.NewClient(adm)
	details, err := ka.ListTopics(t.Context(), topic)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(details[topic].Partitions); n != 2 {
		t.Errorf("%s has %d partitions, want topic.creation.default.partitions=2", topic, n)
	}
	rcs, err := ka.DescribeTopicConfigs(t.Context(), topic)
	if err != nil {
		t.Fatal(err)
	}
	policy := ""
	for _, rc := range rcs {
		for _, c := range rc.Configs {
			if c.Key == "cleanup.policy" && c.Value != nil {
				policy = *c.Value
			}
		}
	}
	if policy != "compact" {
		t.Errorf("%s cleanup.policy = %q, want topic.creation.default.cleanup.policy=compact", topic, policy)
	}

	// The listener really is secured: a client without the credentials
	// gets nothing.
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	bare, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DialTimeout(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer bare.Close()
	if err := bare.Ping(ctx); err == nil {
		t.Errorf("a client without TLS/SASL reached the cluster: the test proves nothing")
	}

	// check goes through the admin client with the same settings.
	chk := exec.Command(rivuletBinary(t), "check", "--config", connector, "--worker", workerFile)
	b, _ := chk.CombinedOutput()
	if !strings.Contains(string(b), "PASS  kafka") {
		t.Errorf("check did not pass kafka:\n%s", b)
	}
	for what, out := range map[string]string{"log": in.log.String(), "check output": string(b), "metrics": metrics, "records": records.String()} {
		for _, s := range []string{plainPassword, scramPassword, certs.ClientKeyPEM[40:80]} {
			if strings.Contains(out, s) {
				t.Errorf("the %s holds a secret %q", what, s)
			}
		}
	}
}

// scrape returns the /metrics page.
func scrape(t *testing.T, addr string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "rivulet_") {
		t.Fatalf("/metrics holds no rivulet metric")
	}
	return string(b)
}

// TestKafkaSecurity_ApacheKafka is the same run against the real Apache
// Kafka broker, with a SASL_SSL listener (SCRAM-SHA-512 users created
// through the admin API, PLAIN users in the broker's JAAS) and an SSL
// listener that requires client certificates.
func TestKafkaSecurity_ApacheKafka(t *testing.T) {
	srv := testenv.MariaDB(t)
	certs := testenv.TLSCerts(t)
	dir := t.TempDir()
	serverPEM := filepath.Join(dir, "server.pem")
	if err := os.WriteFile(serverPEM, []byte(certs.ServerKeyPEM+certs.ServerCertPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	saslPort, sslPort := testenv.FreePort(t), testenv.FreePort(t)
	listeners := fmt.Sprintf("PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller.port},SASL_SSL://127.0.0.1:%d,SSL://127.0.0.1:%d", saslPort, sslPort)
	opt := testenv.KafkaProperty
	k := testenv.StartApacheKafka(t,
		opt("listeners", listeners),
		opt("advertised.listeners", fmt.Sprintf("PLAINTEXT://127.0.0.1:{port},SASL_SSL://127.0.0.1:%d,SSL://127.0.0.1:%d", saslPort, sslPort)),
		opt("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL,SSL:SSL"),
		opt("sasl.enabled.mechanisms", "PLAIN,SCRAM-SHA-512"),
		opt("listener.name.sasl_ssl.plain.sasl.jaas.config", `org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-pw" user_alice="`+plainPassword+`";`),
		opt("listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config", `org.apache.kafka.common.security.scram.ScramLoginModule required;`),
		opt("ssl.keystore.type", "PEM"), opt("ssl.keystore.location", serverPEM),
		opt("ssl.truststore.type", "PEM"), opt("ssl.truststore.location", certs.CAFile),
		opt("listener.name.ssl.ssl.client.auth", "required"),
	)
	adm, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers()...))
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	if _, err := kadm.NewClient(adm).AlterUserSCRAMs(t.Context(), nil, []kadm.UpsertSCRAM{{
		User: "carol", Mechanism: kadm.ScramSha512, Iterations: 4096, Password: scramPassword,
	}}); err != nil {
		t.Fatal(err)
	}
	sasl := []string{fmt.Sprintf("127.0.0.1:%d", saslPort)}
	ssl := []string{fmt.Sprintf("127.0.0.1:%d", sslPort)}
	for _, tc := range []struct {
		name    string
		brokers []string
		worker  map[string]string
		client  []kgo.Opt
	}{
		{"sasl_ssl scram-sha-512", sasl, map[string]string{"security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-512",
			"sasl.jaas.config":        `org.apache.kafka.common.security.scram.ScramLoginModule required username="carol" password="` + scramPassword + `";`,
			"ssl.truststore.location": certs.CAFile, "ssl.truststore.type": "PEM"},
			[]kgo.Opt{kgo.DialTLSConfig(certs.ClientTLS()), kgo.SASL(scram.Auth{User: "carol", Pass: scramPassword}.AsSha512Mechanism())}},
		{"sasl_ssl plain", sasl, map[string]string{"security.protocol": "SASL_SSL", "sasl.mechanism": "PLAIN",
			"sasl.jaas.config":            `org.apache.kafka.common.security.plain.PlainLoginModule required username="alice" password="` + plainPassword + `";`,
			"ssl.truststore.certificates": certs.CAPEM},
			[]kgo.Opt{kgo.DialTLSConfig(certs.ClientTLS()), kgo.SASL(plain.Auth{User: "alice", Pass: plainPassword}.AsMechanism())}},
		{"mtls", ssl, map[string]string{"security.protocol": "SSL", "ssl.truststore.location": certs.CAFile,
			"ssl.keystore.location": certs.ClientFile, "ssl.keystore.type": "PEM"},
			[]kgo.Opt{kgo.DialTLSConfig(certs.ClientTLS())}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runSecure(t, srv, tc.brokers, tc.worker, tc.client, certs)
		})
	}

	// A wrong password: the real broker answers SASL_AUTHENTICATION_FAILED
	// and check says which key to fix, without the password. (The database
	// is a closed port: its lines fail at once and are not looked at.)
	cfg, _, err := config.FromMap(map[string]string{
		"database.hostname": "127.0.0.1", "database.port": strconv.Itoa(testenv.FreePort(t)), "database.user": "u", "database.server.id": "1", "topic.prefix": "p",
		"schema.history.internal.kafka.topic": "h", "offset.storage.file.filename": "/o", "bootstrap.servers": sasl[0],
		"security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-512", "ssl.truststore.location": certs.CAFile,
		"sasl.jaas.config": `org.apache.kafka.common.security.scram.ScramLoginModule required username="carol" password="not-` + scramPassword + `";`,
	})
	if err != nil {
		t.Fatal(err)
	}
	var r binlog.CheckResult
	for _, c := range engine.Check(t.Context(), cfg) {
		if c.Name == "kafka" {
			r = c
		}
	}
	if r.OK || !strings.Contains(r.Fix, "the broker refused the SASL login; check the user and password (or token, or IAM policy) in sasl.jaas.config") ||
		strings.Contains(r.Detail+r.Fix, scramPassword) {
		t.Errorf("check with a wrong SCRAM password = %+v", r)
	}
}

// startWith starts rivulet with args and waits until it is ready.
func startWith(t *testing.T, metricsAddr string, args ...string) *instance {
	t.Helper()
	in := &instance{t: t, log: &testenv.LogBuffer{}, metrics: metricsAddr, exited: make(chan struct{})}
	in.cmd = exec.Command(rivuletBinary(t), args...)
	in.cmd.Stdout, in.cmd.Stderr = in.log, in.log
	if err := in.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { in.err = in.cmd.Wait(); close(in.exited) }()
	t.Cleanup(func() {
		_ = in.cmd.Process.Kill()
		<-in.exited
		if t.Failed() {
			t.Logf("rivulet log:\n%s", in.log.String())
		}
	})
	in.waitReady()
	return in
}

func writeProperties(t *testing.T, name string, m map[string]string) string {
	t.Helper()
	var b strings.Builder
	for _, k := range slicesSorted(m) {
		v := strings.ReplaceAll(m[k], `\`, `\\`)
		v = strings.ReplaceAll(v, "\n", `\n`)
		fmt.Fprintf(&b, "%s=%s\n", k, v)
	}
	if err := os.WriteFile(name, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return name
}

func writeConnector(t *testing.T, name string, cfg map[string]string) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{"name": "it-connector", "config": cfg})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return name
}

func slicesSorted(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range maps.Keys(m) {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// consumeSecure reads topics from the start with opts until want records
// arrived (or 60s).
func consumeSecure(t *testing.T, brokers []string, opts []kgo.Opt, want int, topics ...string) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topics...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100 * time.Millisecond)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	var out []*kgo.Record
	for len(out) < want && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) { out = append(out, r) })
	}
	if len(out) < want {
		t.Fatalf("consumed %d records from %v, want %d", len(out), topics, want)
	}
	return out
}

func produceSecure(t *testing.T, brokers []string, opts []kgo.Opt, topic, key, value string) {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(brokers...), kgo.AllowAutoTopicCreation()}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Key: []byte(key), Value: []byte(value)}).FirstErr(); err != nil {
		t.Fatal(err)
	}
}
