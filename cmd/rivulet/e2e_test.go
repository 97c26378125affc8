package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/rivulet-cdc/rivulet/internal/testenv"
)

// rivuletBinary is cmd/rivulet built with the race detector, once per test binary.
func rivuletBinary(t *testing.T) string { return testenv.Rivulet(t, "-race") }

// instance is one rivulet process under test.
type instance struct {
	t       *testing.T
	cmd     *exec.Cmd
	log     *testenv.LogBuffer
	metrics string
	exited  chan struct{}
	err     error
}

type e2eEnv struct {
	srv     *testenv.Server
	db      string
	brokers []string
	dir     string
	prefix  string
	bin     string // the rivulet binary start runs; "" is rivuletBinary (race)
}

func newE2E(t *testing.T) *e2eEnv {
	return newE2EOn(t, testenv.MariaDB(t))
}

// newE2EOn is newE2E on a server of the test's own.
//
// The end-to-end tests run against the real Apache Kafka broker shared by
// the test binary (testenv.ApacheKafka), so each test has its own
// topic.prefix (from its name) and with it its own topics, connector name
// and transactional id. RIVULET_TEST_KAFKA=kfake runs them on a kfake cluster
// per test instead (faster to iterate; not what make test runs).
func newE2EOn(t *testing.T, srv *testenv.Server) *e2eEnv {
	e := &e2eEnv{srv: srv, db: srv.Database(t), dir: t.TempDir()}
	if os.Getenv("RIVULET_TEST_KAFKA") == "kfake" {
		e.brokers, e.prefix = testenv.Kafka(t), "it"
		return e
	}
	e.brokers, e.prefix = testenv.ApacheKafka(t).Brokers(), testenv.TopicPrefix(t)
	return e
}

// connector is the connector name, the key of its offsets.
func (e *e2eEnv) connector() string { return e.prefix + "-connector" }

// offsetsKey is the Kafka Connect offsets key of the connector.
func (e *e2eEnv) offsetsKey() string {
	return fmt.Sprintf(`["%s",{"server":"%s"}]`, e.connector(), e.prefix)
}

// offsetsTopic is the Kafka Connect offsets topic of kafkaOffsets.
func (e *e2eEnv) offsetsTopic() string { return e.prefix + ".connect-offsets" }

// kafkaOffsets selects the Kafka offset store instead of the file.
func (e *e2eEnv) kafkaOffsets() map[string]string {
	return map[string]string{
		"offset.storage.file.filename": "",
		"offset.storage.topic":         e.offsetsTopic(),
	}
}

func (e *e2eEnv) config(t *testing.T, extra map[string]string) string {
	t.Helper()
	port := testenv.FreePort(t)
	cfg := map[string]string{
		"connector.class":                     "io.debezium.connector.mariadb.MariaDbConnector",
		"database.hostname":                   e.srv.Host,
		"database.port":                       strconv.Itoa(e.srv.Port),
		"database.user":                       e.srv.User,
		"database.password":                   e.srv.Password,
		"database.server.id":                  "5601",
		"topic.prefix":                        e.prefix,
		"database.include.list":               e.db,
		"snapshot.mode":                       "no_data",
		"schema.history.internal.kafka.topic": e.prefix + ".history",
		"bootstrap.servers":                   strings.Join(e.brokers, ","),
		"offset.storage.file.filename":        filepath.Join(e.dir, "offsets.json"),
		"offset.flush.interval.ms":            "200",
		"metrics.listen":                      fmt.Sprintf("127.0.0.1:%d", port),
		"log.level":                           "debug",
	}
	for k, v := range extra {
		cfg[k] = v
	}
	b, err := json.Marshal(map[string]any{"name": e.connector(), "config": cfg})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(e.dir, "connector.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func (e *e2eEnv) start(t *testing.T, cfgPath string) *instance {
	t.Helper()
	var cfg struct {
		Config map[string]string `json:"config"`
	}
	b, _ := os.ReadFile(cfgPath)
	_ = json.Unmarshal(b, &cfg)
	in := &instance{t: t, log: &testenv.LogBuffer{}, metrics: cfg.Config["metrics.listen"], exited: make(chan struct{})}
	bin := e.bin
	if bin == "" {
		bin = rivuletBinary(t)
	}
	in.cmd = exec.Command(bin, "run", "--config", cfgPath)
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

// waitReady polls /readyz: the binlog connection is up.
func (in *instance) waitReady() {
	in.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-in.exited:
			in.t.Fatalf("rivulet exited before it was ready: %v\n%s", in.err, in.log.String())
		default:
		}
		resp, err := http.Get("http://" + in.metrics + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	in.t.Fatalf("rivulet not ready after 60s\n%s", in.log.String())
}

// stop sends SIGTERM and expects exit status 0.
func (in *instance) stop() {
	in.t.Helper()
	_ = in.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-in.exited:
	case <-time.After(60 * time.Second):
		in.t.Fatalf("rivulet did not stop within 60s of SIGTERM\n%s", in.log.String())
	}
	if in.err != nil {
		in.t.Fatalf("rivulet exited with %v after SIGTERM\n%s", in.err, in.log.String())
	}
}

// kill sends SIGKILL.
func (in *instance) kill() {
	_ = in.cmd.Process.Kill()
	<-in.exited
}

type record struct {
	Topic   string
	Key     map[string]any
	Value   map[string]any // nil for a tombstone
	Headers map[string]string
	RawKey  []byte
	RawVal  []byte
}

// consume reads topics from the start until want records arrived (or 60s).
func consume(t *testing.T, brokers []string, want int, topics ...string) []record {
	t.Helper()
	recs := consumeUntil(t, brokers, func(r []record) bool { return len(r) >= want }, topics...)
	if len(recs) < want {
		t.Fatalf("consumed %d records from %v, want %d", len(recs), topics, want)
	}
	return recs
}

// consumeUntil reads topics from the start until enough reports true (or 60s).
func consumeUntil(t *testing.T, brokers []string, enough func([]record) bool, topics ...string) []record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topics...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.AllowAutoTopicCreation(),
		kgo.FetchMaxWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	var out []record
	for !enough(out) && ctx.Err() == nil {
		fs := cl.PollFetches(ctx)
		fs.EachRecord(func(r *kgo.Record) {
			rec := record{Topic: r.Topic, RawKey: r.Key, RawVal: r.Value, Headers: map[string]string{}}
			if r.Key != nil {
				if err := json.Unmarshal(r.Key, &rec.Key); err != nil {
					t.Errorf("key is not JSON: %s", r.Key)
				}
			}
			if r.Value != nil {
				if err := json.Unmarshal(r.Value, &rec.Value); err != nil {
					t.Errorf("value is not JSON: %s", r.Value)
				}
			}
			for _, h := range r.Headers {
				rec.Headers[h.Key] = string(h.Value)
			}
			out = append(out, rec)
		})
	}
	return out
}

func payload(v map[string]any) map[string]any {
	if p, ok := v["payload"].(map[string]any); ok {
		return p
	}
	return v
}

// lastByID reads topic until rows with n distinct ids arrived and returns
// the last "after" per id: delivery is at least once, so a restart may
// repeat rows, and tests judge the final state per key.
func lastByID(t *testing.T, brokers []string, n int, topic string) map[float64]map[string]any {
	t.Helper()
	byID := map[float64]map[string]any{}
	consumeUntil(t, brokers, func(recs []record) bool {
		for _, r := range recs {
			if r.Value == nil {
				continue
			}
			if a, ok := payload(r.Value)["after"].(map[string]any); ok {
				if id, ok := a["id"].(float64); ok {
					byID[id] = a
				}
			}
		}
		return len(byID) >= n
	}, topic)
	if len(byID) < n {
		t.Fatalf("%d distinct ids on %s, want %d", len(byID), topic, n)
	}
	return byID
}
