package config

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rivulet-cdc/rivulet/internal/testenv"
)

const scramJAAS = `org.apache.kafka.common.security.scram.ScramLoginModule required username="app" password="pa ss\"word";`

func TestParseJAAS(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     jaasEntry
		err      string
	}{
		{"plain", `org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="p";`,
			jaasEntry{module: plainLoginModule, flag: "required", options: map[string]string{"username": "u", "password": "p"}}, ""},
		{"escapes and spaces", "  " + scramJAAS + "  \n",
			jaasEntry{module: scramLoginModule, flag: "required", options: map[string]string{"username": "app", "password": `pa ss"word`}}, ""},
		{"bare values", `software.amazon.msk.auth.iam.IAMLoginModule required awsRoleArn=arn:aws:iam::123:role/r awsDebugCreds=true;`,
			jaasEntry{module: mskIAMLoginModule, flag: "required", options: map[string]string{"awsRoleArn": "arn:aws:iam::123:role/r", "awsDebugCreds": "true"}}, ""},
		{"no options", `software.amazon.msk.auth.iam.IAMLoginModule required;`,
			jaasEntry{module: mskIAMLoginModule, flag: "required", options: map[string]string{}}, ""},
		{"no semicolon", `org.apache.kafka.common.security.plain.PlainLoginModule required username="u"`, jaasEntry{}, "does not end with ';'"},
		{"no flag", `org.apache.kafka.common.security.plain.PlainLoginModule username="u";`, jaasEntry{}, "has no control flag"},
		{"unterminated", `x required a="b;`, jaasEntry{}, "unterminated"},
		{"two modules", `a required; b required;`, jaasEntry{}, "more than one login module"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseJAAS(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(jaasEntry{})); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

// TestFromMap_KafkaClientPrecedence: worker keys apply to every client,
// producer./consumer./admin. and the Debezium prefixes override them per
// role, and producer.override. wins over producer.
func TestFromMap_KafkaClientPrecedence(t *testing.T) {
	c, _ := mustFromMap(t, with(
		"security.protocol", "SASL_PLAINTEXT",
		"sasl.mechanism", "PLAIN",
		"sasl.jaas.config", `org.apache.kafka.common.security.plain.PlainLoginModule required username="worker" password="w";`,
		"producer.sasl.mechanism", "SCRAM-SHA-256",
		"producer.sasl.jaas.config", `org.apache.kafka.common.security.scram.ScramLoginModule required username="producer" password="p";`,
		"producer.override.sasl.mechanism", "SCRAM-SHA-512",
		"producer.override.sasl.jaas.config", `org.apache.kafka.common.security.scram.ScramLoginModule required username="connector" password="c";`,
		"schema.history.internal.consumer.sasl.jaas.config", `org.apache.kafka.common.security.plain.PlainLoginModule required username="history" password="h";`,
		"signal.consumer.client.id", "sig",
		"admin.request.timeout.ms", "5000",
		"admin.override.sasl.jaas.config", `org.apache.kafka.common.security.plain.PlainLoginModule required username="admin-override" password="a";`,
	))
	for _, tc := range []struct {
		role       KafkaRole
		mech, user string
		source     string
	}{
		{RoleProducer, "SCRAM-SHA-512", "connector", "producer.override.sasl.jaas.config"},
		{RoleConsumer, "PLAIN", "worker", "sasl.jaas.config"},
		{RoleAdmin, "PLAIN", "admin-override", "admin.override.sasl.jaas.config"},
		{RoleHistoryProducer, "PLAIN", "worker", "sasl.jaas.config"},
		{RoleHistoryConsumer, "PLAIN", "history", "schema.history.internal.consumer.sasl.jaas.config"},
		{RoleSignalConsumer, "PLAIN", "worker", "sasl.jaas.config"},
	} {
		kc := c.Kafka.Client(tc.role)
		if kc.Protocol != SASLPlaintext || kc.SASL.Mechanism != tc.mech || kc.SASL.User != tc.user || kc.Source("sasl.jaas.config") != tc.source {
			t.Errorf("%s: %s %s user %s from %s, want SASL_PLAINTEXT %s user %s from %s", tc.role, kc.Protocol, kc.SASL.Mechanism, kc.SASL.User, kc.Source("sasl.jaas.config"), tc.mech, tc.user, tc.source)
		}
	}
	if id := c.Kafka.Client(RoleSignalConsumer).ClientID; id != "sig" {
		t.Errorf("signal client.id = %q", id)
	}
	if d := c.Kafka.Client(RoleAdmin).RequestTimeout; d != 5*time.Second {
		t.Errorf("admin request timeout = %v", d)
	}
	if d := c.Kafka.Client(RoleProducer).RequestTimeout; d != 0 {
		t.Errorf("producer request timeout = %v, want unset", d)
	}
}

func TestFromMap_KafkaClientErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		kv   []string
		want string
	}{
		{"protocol", []string{"security.protocol", "TLS"}, `security.protocol: "TLS" is not a security protocol; set PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL`},
		{"mechanism missing", []string{"security.protocol", "SASL_SSL", "sasl.jaas.config", scramJAAS}, "sasl.mechanism: is not set (Kafka's default GSSAPI, Kerberos, is not implemented)"},
		{"module mismatch", []string{"security.protocol", "SASL_SSL", "sasl.mechanism", "PLAIN", "sasl.jaas.config", scramJAAS}, `sasl.jaas.config: "****" uses login module org.apache.kafka.common.security.scram.ScramLoginModule, which does not go with sasl.mechanism=PLAIN`},
		{"prefixed jaas broken", []string{"producer.override.security.protocol", "SASL_SSL", "producer.override.sasl.mechanism", "SCRAM-SHA-256", "producer.override.sasl.jaas.config", "ScramLoginModule required username=u"}, `producer.override.sasl.jaas.config: "****" does not end with ';'`},
		{"jaas missing", []string{"security.protocol", "SASL_SSL", "sasl.mechanism", "SCRAM-SHA-256"}, "sasl.jaas.config: is not set"},
		{"oauth without endpoint", []string{"security.protocol", "SASL_SSL", "sasl.mechanism", "OAUTHBEARER", "sasl.jaas.config", `org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId="a" clientSecret="b";`}, "sasl.oauthbearer.token.endpoint.url: is not set"},
		{"oauth endpoint with credentials", []string{"security.protocol", "SASL_SSL", "sasl.mechanism", "OAUTHBEARER", "sasl.oauthbearer.token.endpoint.url", "https://u:topsecret@idp/token", "sasl.jaas.config", `org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId="a" clientSecret="b";`}, `sasl.oauthbearer.token.endpoint.url: "https://u:****@idp/token" holds credentials`},
		{"iam handler", []string{"security.protocol", "SASL_SSL", "sasl.mechanism", "AWS_MSK_IAM", "sasl.jaas.config", "software.amazon.msk.auth.iam.IAMLoginModule required;", "sasl.client.callback.handler.class", "com.example.Handler"}, `sasl.client.callback.handler.class: "com.example.Handler" is not the MSK IAM handler`},
		{"truststore missing", []string{"security.protocol", "SSL", "ssl.truststore.location", "/nonexistent/ts.pem"}, `ssl.truststore.location: "/nonexistent/ts.pem" cannot be read`},
		{"truststore for producer only", []string{"producer.security.protocol", "SSL", "producer.ssl.truststore.location", "/nonexistent/p.jks", "producer.ssl.truststore.type", "PKCS12"}, `producer.ssl.truststore.location: "/nonexistent/p.jks" cannot be read`},
		{"hostname algorithm", []string{"security.protocol", "SSL", "ssl.endpoint.identification.algorithm", "dns"}, `ssl.endpoint.identification.algorithm: "dns" is not https or empty`},
		{"unread prefix", []string{"consumer.override.security.protocol", "SSL"}, `consumer.override.security.protocol: "SSL" is not read by any Kafka client Rivulet opens`},
		{"bootstrap prefix contradicts", []string{"bootstrap.servers", "SASL_SSL://k:9096", "security.protocol", "PLAINTEXT"}, `bootstrap.servers: "SASL_SSL://k:9096" names the SASL_SSL listener but security.protocol is PLAINTEXT`},
		{"bootstrap listener name", []string{"bootstrap.servers", "INTERNAL://k:9092"}, `bootstrap.servers: "INTERNAL://k:9092" has the prefix INTERNAL://, which is not a security protocol`},
		{"kerberos", []string{"security.protocol", "SASL_SSL", "sasl.mechanism", "GSSAPI", "sasl.kerberos.service.name", "kafka"}, `sasl.mechanism: "GSSAPI" is not supported yet`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := FromMap(with(tc.kv...))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v\nwant it to contain %s", err, tc.want)
			}
			for _, s := range []string{"topsecret", `pa ss`} {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error reveals a secret: %v", err)
				}
			}
		})
	}
}

func TestFromMap_BootstrapPrefix(t *testing.T) {
	c, w := mustFromMap(t, with("bootstrap.servers", "SASL_SSL://k1:9096, SASL_SSL://k2:9096",
		"sasl.mechanism", "SCRAM-SHA-512", "sasl.jaas.config", scramJAAS))
	if got := c.Kafka.BootstrapServers; !cmp.Equal(got, []string{"k1:9096", "k2:9096"}) {
		t.Errorf("servers = %v", got)
	}
	for r := range numKafkaRoles {
		if p := c.Kafka.Client(r).Protocol; p != SASLSSL {
			t.Errorf("%s protocol = %s, want SASL_SSL from the prefix", r, p)
		}
	}
	if !hasWarning(w, "bootstrap.servers names the SASL_SSL listener but security.protocol is not set") {
		t.Errorf("warnings = %v, want one about the prefix", w)
	}
}

func hasWarning(ws []Warning, s string) bool {
	for _, w := range ws {
		if strings.Contains(w.Message, s) {
			return true
		}
	}
	return false
}

func TestFromMap_InlinePEMAndNoHostnameCheck(t *testing.T) {
	ca, _, _ := testCA(t)
	c, _ := mustFromMap(t, with("security.protocol", "SSL", "ssl.truststore.type", "PEM",
		"ssl.truststore.certificates", ca, "ssl.endpoint.identification.algorithm", ""))
	kc := c.Kafka.Client(RoleProducer)
	tc, err := kc.TLS.Config()
	if err != nil {
		t.Fatal(err)
	}
	if tc.RootCAs == nil || !tc.InsecureSkipVerify || tc.VerifyConnection == nil {
		t.Errorf("tls config: roots %v, skip %v, verify %v; want roots, the chain checked without the host name", tc.RootCAs != nil, tc.InsecureSkipVerify, tc.VerifyConnection != nil)
	}
	if d := kc.Describe(); d != "SSL, trusting ssl.truststore.certificates, host names not checked" {
		t.Errorf("Describe() = %q", d)
	}
}

func TestFromMap_ProducerAndTopicCreation(t *testing.T) {
	c, w := mustFromMap(t, with(
		"linger.ms", "100", "producer.linger.ms", "20", "producer.override.linger.ms", "0",
		"producer.override.delivery.timeout.ms", "120000", "producer.buffer.memory", "33554432",
		"producer.override.batch.size", "65536",
		"topic.creation.default.partitions", "6", "topic.creation.default.replication.factor", "3",
		"topic.creation.default.min.insync.replicas", "2",
		"topic.creation.groups", "compacted",
		"topic.creation.compacted.include", `dbserver1\.inventory\..*`,
		"topic.creation.compacted.exclude", `.*\.audit`,
		"topic.creation.compacted.cleanup.policy", "compact",
		"topic.creation.compacted.partitions", "12",
	))
	p := c.Kafka.Producer
	if !p.LingerSet || p.Linger != 0 || p.DeliveryTimeout != 2*time.Minute || p.BufferMemory != 32<<20 || p.Acks != -1 || !p.Idempotent {
		t.Errorf("producer = %+v", p)
	}
	if !hasWarning(w, "producer.override.batch.size") {
		t.Errorf("warnings = %v, want batch.size explained", w)
	}
	g := c.Kafka.TopicCreation.Groups
	if len(g) != 2 || g[0].Name != "compacted" || g[1].Name != "default" {
		t.Fatalf("groups = %+v", g)
	}
	if !g[0].Matches("dbserver1.inventory.orders") || g[0].Matches("dbserver1.inventory.audit") || g[0].Matches("dbserver1.other.t") {
		t.Errorf("compacted group matches the wrong topics")
	}
	want := TopicGroup{Name: "compacted", Partitions: 12, ReplicationFactor: 3, Configs: map[string]string{"cleanup.policy": "compact", "min.insync.replicas": "2"}}
	if diff := cmp.Diff(want, g[0], cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Include" || p.Last().String() == ".Exclude" }, cmp.Ignore())); diff != "" {
		t.Errorf("compacted group (-want +got)\n%s", diff)
	}

	if _, _, err := FromMap(with("topic.creation.default.partitions", "3")); err == nil || !strings.Contains(err.Error(), "topic.creation.default.replication.factor: is not set") {
		t.Errorf("err = %v, want the missing replication factor", err)
	}
	c, w = mustFromMap(t, with("producer.override.acks", "1"))
	if c.Kafka.Producer.Acks != 1 || c.Kafka.Producer.Idempotent || !hasWarning(w, "acks=1") {
		t.Errorf("acks=1: %+v, %v", c.Kafka.Producer, w)
	}
	if _, _, err := FromMap(with("acks", "1", "enable.idempotence", "true")); err == nil || !strings.Contains(err.Error(), "needs acks=all") {
		t.Errorf("err = %v", err)
	}
}

// TestLoadWithWorker reads a Connect worker file with a connector JSON:
// the worker gives bootstrap.servers, security and the offsets topic, the
// connector's keys win, and Connect's own cluster keys are listed, not
// applied (heartbeat.interval.ms in a worker file is the group heartbeat).
func TestLoadWithWorker(t *testing.T) {
	dir := t.TempDir()
	worker := filepath.Join(dir, "connect-distributed.properties")
	connector := filepath.Join(dir, "connector.json")
	writeFile(t, worker, `bootstrap.servers=SASL_SSL://k1:9096,SASL_SSL://k2:9096
group.id=connect-cluster
heartbeat.interval.ms=3000
offset.storage.topic=connect-offsets
config.storage.topic=connect-configs
status.storage.topic=connect-status
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="app" password="pw";
producer.security.protocol=SASL_SSL
producer.sasl.mechanism=SCRAM-SHA-512
producer.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required \
    username="app" password="pw";
producer.compression.type=lz4
`)
	writeFile(t, connector, `{"name":"inventory","config":{"connector.class":"io.debezium.connector.mysql.MySqlConnector",
	 "database.hostname":"db","database.user":"u","database.server.id":"1","topic.prefix":"p",
	 "schema.history.internal.kafka.topic":"h","producer.override.compression.type":"zstd"}}`)
	c, w, err := LoadWithWorker(worker, connector)
	if err != nil {
		t.Fatal(err)
	}
	got := []any{c.Kafka.BootstrapServers, c.SchemaHistory.KafkaBootstrapServers, c.Offsets.Topic, c.HeartbeatInterval, c.Kafka.Compression,
		c.Kafka.Client(RoleProducer).SASL.Mechanism, c.Kafka.Client(RoleHistoryConsumer).Protocol}
	want := []any{[]string{"k1:9096", "k2:9096"}, []string{"k1:9096", "k2:9096"}, "connect-offsets", time.Duration(0), CompressionZstd, "SCRAM-SHA-512", SASLSSL}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	if !hasWarning(w, "worker keys that configure Kafka Connect itself, not used by Rivulet: config.storage.topic, group.id, heartbeat.interval.ms, status.storage.topic") {
		t.Errorf("warnings = %v", w)
	}

	// The connector alone, as a new user first tries it: the error says
	// to pass the worker file, and Rivulet does not guess localhost:9092.
	_, _, err = Load(connector)
	if err == nil || !strings.Contains(err.Error(), "bootstrap.servers: is not set; pass the Kafka Connect worker properties with --worker") {
		t.Errorf("err = %v", err)
	}
}

func testCA(t *testing.T) (ca, clientFile string, certs *testenv.Certs) {
	c := testenv.TLSCerts(t)
	return c.CAPEM, c.ClientFile, c
}

// TestFromMap_NoSilentKeys: options that change nothing in Rivulet say so.
func TestFromMap_NoSilentKeys(t *testing.T) {
	_, w := mustFromMap(t, with("snapshot.mode", "configuration_based",
		"snapshot.mode.configuration.based.snapshot.data", "true", "snapshot.mode.configuration.based.snapshot.schema", "false"))
	if !hasWarning(w, "snapshot.schema=false has no effect") {
		t.Errorf("warnings = %v, want snapshot.schema=false explained", w)
	}
	_, w = mustFromMap(t, with("transforms", "unwrap", "transforms.unwrap.type", "io.debezium.transforms.ExtractNewRecordState",
		"transforms.unwrap.drop.fields.header.name", "changed", "transforms.unwrap.replace.null.with.default", "false",
		"key.converter.schemas.enable", "false", "value.converter.schemas.enable", "false"))
	for _, k := range []string{"transforms.unwrap.drop.fields.header.name has no effect", "transforms.unwrap.replace.null.with.default has no effect"} {
		if !hasWarning(w, k) {
			t.Errorf("warnings = %v, want %q", w, k)
		}
	}
}
