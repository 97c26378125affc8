package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLI_WorkerFile: the connector JSON of a Connect setup alone stops with
// an error that names --worker (and does not guess localhost:9092), shows
// its warnings too, and never prints a password; with --worker the same
// file loads.
func TestCLI_WorkerFile(t *testing.T) {
	dir := t.TempDir()
	connector := writeConnector(t, filepath.Join(dir, "connector.json"), map[string]string{
		"connector.class": "io.debezium.connector.mysql.MySqlConnector", "tasks.max": "1",
		"database.hostname": "127.0.0.1", "database.user": "u", "database.password": "db-S3cret",
		"database.server.id": "1", "topic.prefix": "p", "schema.history.internal.kafka.topic": "h",
		"producer.override.sasl.jaas.config": `org.apache.kafka.common.security.scram.ScramLoginModule required username="u" password="sasl-S3cret";`,
		"producer.override.sasl.mechanism":   "SCRAM-SHA-512", "producer.override.security.protocol": "SASL_SSL",
	})
	var stdout, stderr bytes.Buffer
	if code := run([]string{"check", "--config", connector}, &stdout, &stderr); code != exitUsage {
		t.Fatalf("exit %d, want %d\n%s", code, exitUsage, stderr.String())
	}
	out := stderr.String()
	for _, want := range []string{
		"rivulet: warning: ignoring keys that have no effect in Rivulet: tasks.max",
		"bootstrap.servers: is not set; pass the Kafka Connect worker properties with --worker connect-distributed.properties",
		"offset.storage.file.filename: is not set; pass the Kafka Connect worker properties with --worker",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stderr lacks %q:\n%s", want, out)
		}
	}
	for _, s := range []string{"localhost:9092", "db-S3cret", "sasl-S3cret"} {
		if strings.Contains(out, s) {
			t.Errorf("stderr holds %q:\n%s", s, out)
		}
	}

	worker := writeProperties(t, filepath.Join(dir, "connect-distributed.properties"), map[string]string{
		"bootstrap.servers": "127.0.0.1:1", "offset.storage.topic": "connect-offsets", "group.id": "connect-cluster",
		"plugin.path": "/usr/share/java",
	})
	stdout.Reset()
	stderr.Reset()
	run([]string{"check", "--config", connector, "--worker", worker}, &stdout, &stderr)
	if strings.Contains(stderr.String(), "is not set") {
		t.Errorf("with --worker the configuration still lacks keys:\n%s", stderr.String())
	}
	if !strings.Contains(stdout.String(), "FAIL  kafka producer") || !strings.Contains(stdout.String(), "127.0.0.1:1 (SASL_SSL, trusting the system roots, SCRAM-SHA-512 as user u)") {
		t.Errorf("check did not try the worker's brokers with the connector's security:\n%s", stdout.String())
	}
	if !strings.Contains(stderr.String(), "worker keys that configure Kafka Connect itself, not used by Rivulet: group.id, plugin.path") {
		t.Errorf("stderr lacks the worker-only keys:\n%s", stderr.String())
	}
	for _, s := range []string{"db-S3cret", "sasl-S3cret"} {
		if strings.Contains(stdout.String()+stderr.String(), s) {
			t.Errorf("output holds %q", s)
		}
	}
}
