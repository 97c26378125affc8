package testenv

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

const (
	kafkaReadyTimeout = 90 * time.Second
	kafkaStopTimeout  = 30 * time.Second
	kafkaLogTail      = 8000
)

// KRaftCluster is a real Apache Kafka 4.3 cluster in KRaft mode: one JVM per
// node, each node both broker and controller, listening on free loopback
// ports, data in a temporary directory. Node ids are 1..Nodes().
//
// Three ways to get one:
//   - ApacheKafka(t): the single-node broker shared by all tests of the test
//     binary (started on first use, stopped by Main). Tests share it, so
//     they must use topic names of their own (a prefix from TopicPrefix(t)).
//   - StartApacheKafka(t, opts...): a cluster owned by the test, closed at
//     t.Cleanup; KafkaNodes(3) for leader changes and replication. A test may
//     stop, kill, pause and restart its nodes.
//   - LaunchApacheKafka(opts...): outside a test (internal/bench); the
//     caller must Close it.
//
// Every JVM dies with the process that started it (PR_SET_PDEATHSIG), even
// when that process is killed before its cleanups run.
type KRaftCluster struct {
	ClusterID string
	Dir       string // holds one directory per node: node-<id>/{data,server.properties,server.log,out.log}

	cfg    kafkaConfig
	nodes  []*kafkaNode
	shared bool
}

type kafkaNode struct {
	id       int32
	port     int // PLAINTEXT listener
	ctrlPort int // CONTROLLER listener
	dir      string
	jvm      jvmProcess
}

// KafkaOption configures a cluster started by StartApacheKafka or LaunchApacheKafka.
type KafkaOption func(*kafkaConfig)

type kafkaConfig struct {
	nodes int
	props map[string]string
	heap  string
	fast  bool
	level string
	jvm   []string // extra JVM arguments, after the defaults
}

// KafkaNodes sets the number of nodes (default 1). With 3 or more, topics
// are created with replication factor 3 and min.insync.replicas 2, the
// internal topics (consumer offsets, transaction state) alike.
func KafkaNodes(n int) KafkaOption { return func(c *kafkaConfig) { c.nodes = n } }

// KafkaProperty sets a server.properties entry on every node, after the
// defaults (so it overrides them), e.g. KafkaProperty("auto.create.topics.enable", "false").
// In the value, {port} and {controller.port} stand for the node's PLAINTEXT
// and CONTROLLER ports, so that a test can add listeners:
// KafkaProperty("listeners", "PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller.port},SASL_SSL://127.0.0.1:9096").
func KafkaProperty(key, value string) KafkaOption {
	return func(c *kafkaConfig) { c.props[key] = value }
}

// KafkaForBenchmark runs the JVM as Kafka's own scripts do (G1, C2 JIT, the
// heap of kafka-server-start.sh: -Xms1g -Xmx1g), and logs at WARN: for
// throughput figures, not start-up time.
func KafkaForBenchmark() KafkaOption {
	return func(c *kafkaConfig) { c.fast, c.heap, c.level = true, "1g", "WARN" }
}

// KafkaJVMArgs adds arguments to every node's JVM command line, after the
// defaults (so -XX flags override them), e.g. a Flight Recorder recording
// for a benchmark's diagnosis: KafkaJVMArgs("-XX:StartFlightRecording=filename=/tmp/k.jfr,settings=profile").
func KafkaJVMArgs(args ...string) KafkaOption {
	return func(c *kafkaConfig) { c.jvm = append(c.jvm, args...) }
}

var (
	sharedKafka sharedFixture[*KRaftCluster]
	liveKafka   liveSet[*KRaftCluster] // clusters to stop in Main
)

// ApacheKafka returns the single-node broker shared by all tests of this
// test binary, starting it on first use (about 3 s on an idle 2-core
// machine). A failed start is remembered. It skips the test under -short and
// fails it, with the fix, when java or the jars are missing. When the test
// fails, the broker's log lines written during the test are printed. Tests
// must not stop it (use StartApacheKafka) and must name their topics with a
// prefix of their own (TopicPrefix).
func ApacheKafka(t testing.TB) *KRaftCluster {
	t.Helper()
	if testing.Short() {
		t.Skip("skipping Apache Kafka integration test in -short mode")
	}
	k, err := sharedKafka.get(func() (*KRaftCluster, error) {
		k, err := launchKafka(nil)
		if err == nil {
			k.shared = true
		}
		return k, err
	})
	if err != nil {
		t.Fatalf("start the shared Apache Kafka broker: %v", err)
	}
	k.printLogOnFailure(t)
	return k
}

// StartApacheKafka starts a cluster owned by the calling test, closed at
// t.Cleanup (its log is printed first if the test failed). It skips the test
// under -short.
func StartApacheKafka(t testing.TB, opts ...KafkaOption) *KRaftCluster {
	t.Helper()
	if testing.Short() {
		t.Skip("skipping Apache Kafka integration test in -short mode")
	}
	k, err := launchKafka(opts)
	if err != nil {
		t.Fatalf("start Apache Kafka: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("Apache Kafka log:\n%s", k.LogTail())
		}
		if err := k.Close(); err != nil {
			t.Errorf("stop Apache Kafka: %v", err)
		}
	})
	return k
}

// LaunchApacheKafka starts a cluster outside of a test (benchmarks, tools);
// the caller must Close it.
func LaunchApacheKafka(opts ...KafkaOption) (*KRaftCluster, error) { return launchKafka(opts) }

// TopicPrefix returns a Kafka topic prefix unique within the test binary and
// named after t.Name() ("testfoo_bar", then "testfoo_bar_2", ...), for tests
// that share a broker: every topic a test's Rivulet writes starts with its
// topic.prefix. It draws from the same names as Server.Database, so the two
// never coincide.
func TopicPrefix(t testing.TB) string {
	t.Helper()
	return uniqueName(sanitizeName(t.Name()))
}

func launchKafka(opts []KafkaOption) (*KRaftCluster, error) {
	cfg := kafkaConfig{nodes: 1, props: map[string]string{}, heap: "384m", level: "INFO"}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.nodes < 1 {
		return nil, fmt.Errorf("KafkaNodes(%d): want at least 1", cfg.nodes)
	}
	lib, err := TestDepsLib()
	if err != nil {
		return nil, err
	}
	if _, err := javaBinary(); err != nil {
		return nil, err
	}
	var lastErr error
	for attempt := 1; attempt <= startAttempts; attempt++ {
		k, err := tryLaunchKafka(cfg, lib)
		if err == nil {
			liveKafka.add(k)
			return k, nil
		}
		lastErr = err
		if !errors.Is(err, errPortInUse) {
			break
		}
	}
	return nil, lastErr
}

func tryLaunchKafka(cfg kafkaConfig, lib string) (*KRaftCluster, error) {
	dir, err := os.MkdirTemp("", "rivulet-kafka-")
	if err != nil {
		return nil, fmt.Errorf("create temp dir: %w", err)
	}
	k := &KRaftCluster{ClusterID: newClusterID(), Dir: dir, cfg: cfg}
	fail := func(err error) (*KRaftCluster, error) {
		for _, n := range k.nodes {
			_ = n.jvm.stop(syscall.SIGKILL, time.Second)
		}
		_ = os.RemoveAll(dir)
		return nil, err
	}
	for i := range cfg.nodes {
		port, err := freePort()
		if err != nil {
			return fail(err)
		}
		ctrl, err := freePort()
		if err != nil {
			return fail(err)
		}
		n := &kafkaNode{id: int32(i + 1), port: port, ctrlPort: ctrl, dir: filepath.Join(dir, fmt.Sprintf("node-%d", i+1))}
		if err := os.MkdirAll(n.dir, 0o755); err != nil {
			return fail(err)
		}
		k.nodes = append(k.nodes, n)
	}
	for _, n := range k.nodes {
		if err := k.writeNode(n, lib); err != nil {
			return fail(err)
		}
	}
	if err := k.format(lib); err != nil {
		return fail(err)
	}
	for _, n := range k.nodes {
		if err := n.jvm.start(); err != nil {
			return fail(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), kafkaReadyTimeout)
	defer cancel()
	if err := k.waitReady(ctx, k.nodes...); err != nil {
		tail := k.LogTail()
		if strings.Contains(tail, "Address already in use") {
			err = fmt.Errorf("%w: %w", errPortInUse, err)
		}
		return fail(fmt.Errorf("%w\n%s", err, tail))
	}
	return k, nil
}

// newClusterID returns a random KRaft cluster id: 16 bytes, URL-safe base64
// without padding, as kafka-storage random-uuid prints. Like Kafka's
// Uuid.randomUuid it never starts with '-': kafka-storage's argument parser
// takes "-t -xyz" for a missing value (1 start in 64 failed so).
func newClusterID() string {
	for {
		var b [16]byte
		_, _ = rand.Read(b[:])
		b[6] = b[6]&0x0f | 0x40 // version 4, as Kafka's Uuid.randomUuid
		b[8] = b[8]&0x3f | 0x80
		if id := base64.RawURLEncoding.EncodeToString(b[:]); id[0] != '-' {
			return id
		}
	}
}

// serverProperties is one node's configuration: broker and controller in one
// process, everything on loopback, sized for a test machine (few threads,
// one partition for the internal topics, no rebalance delay, a small log
// cleaner buffer: Rivulet's offsets and history topics are compacted).
func (k *KRaftCluster) serverProperties(n *kafkaNode) map[string]string {
	voters := make([]string, len(k.nodes))
	for i, m := range k.nodes {
		voters[i] = fmt.Sprintf("%d@127.0.0.1:%d", m.id, m.ctrlPort)
	}
	rf := "1"
	minISR := "1"
	if len(k.nodes) >= 3 {
		rf, minISR = "3", "2"
	}
	p := map[string]string{
		"process.roles":                                    "broker,controller",
		"node.id":                                          strconv.Itoa(int(n.id)),
		"controller.quorum.voters":                         strings.Join(voters, ","),
		"listeners":                                        fmt.Sprintf("PLAINTEXT://127.0.0.1:%d,CONTROLLER://127.0.0.1:%d", n.port, n.ctrlPort),
		"advertised.listeners":                             fmt.Sprintf("PLAINTEXT://127.0.0.1:%d", n.port),
		"controller.listener.names":                        "CONTROLLER",
		"listener.security.protocol.map":                   "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
		"inter.broker.listener.name":                       "PLAINTEXT",
		"log.dirs":                                         filepath.Join(n.dir, "data"),
		"auto.create.topics.enable":                        "true",
		"num.partitions":                                   "1",
		"default.replication.factor":                       rf,
		"min.insync.replicas":                              minISR,
		"offsets.topic.replication.factor":                 rf,
		"offsets.topic.num.partitions":                     "1",
		"transaction.state.log.replication.factor":         rf,
		"transaction.state.log.min.isr":                    minISR,
		"transaction.state.log.num.partitions":             "1",
		"share.coordinator.state.topic.replication.factor": rf,
		"share.coordinator.state.topic.min.isr":            minISR,
		"group.initial.rebalance.delay.ms":                 "0",
		"num.network.threads":                              "2",
		"num.io.threads":                                   "2",
		"background.threads":                               "2",
		"num.replica.fetchers":                             "1",
		"num.recovery.threads.per.data.dir":                "1",
		"log.cleaner.threads":                              "1",
		"log.cleaner.dedupe.buffer.size":                   strconv.Itoa(8 << 20),
		"log.cleaner.backoff.ms":                           "1000",
		"delete.topic.enable":                              "true",
		// A killed node is fenced (its partitions led elsewhere) after 3 s, not 9.
		"broker.session.timeout.ms":    "3000",
		"broker.heartbeat.interval.ms": "500",
	}
	maps.Copy(p, k.cfg.props)
	// KafkaProperty values may name the node's own ports (extra listeners).
	ports := strings.NewReplacer("{port}", strconv.Itoa(n.port), "{controller.port}", strconv.Itoa(n.ctrlPort))
	for key, v := range p {
		p[key] = ports.Replace(v)
	}
	return p
}

// writeNode writes a node's server.properties and log4j2 configuration and
// prepares its JVM command line.
func (k *KRaftCluster) writeNode(n *kafkaNode, lib string) error {
	props := k.serverProperties(n)
	keys := slices.Sorted(maps.Keys(props))
	var b strings.Builder
	for _, key := range keys {
		fmt.Fprintf(&b, "%s=%s\n", key, props[key])
	}
	conf := filepath.Join(n.dir, "server.properties")
	if err := os.WriteFile(conf, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", conf, err)
	}
	logFile := filepath.Join(n.dir, "server.log")
	l4j, err := writeLog4j(n.dir, logFile, k.cfg.level)
	if err != nil {
		return err
	}
	flags, minHeap := jvmSmall, "64m"
	if k.cfg.fast {
		// kafka-server-start.sh's KAFKA_HEAP_OPTS: the whole heap from the
		// start. With -Xms64m G1 kept resizing the heap around the broker's
		// 1 MB request buffers (humongous objects in its 1 MiB regions):
		// 0.15-0.25 GC CPU s per million records with schemas, 0.06-0.08 so.
		flags, minHeap = jvmFast, k.cfg.heap
	}
	args := append([]string{"-Xms" + minHeap, "-Xmx" + k.cfg.heap}, flags...)
	args = append(args, k.cfg.jvm...)
	args = append(args,
		"-Dlog4j2.configurationFile="+l4j,
		"-Dkafka.logs.dir="+n.dir,
		"-cp", filepath.Join(lib, "*"),
		"kafka.Kafka", conf)
	n.jvm = jvmProcess{name: fmt.Sprintf("kafka node %d", n.id), dir: n.dir, args: args, logFile: logFile}
	return nil
}

// format runs kafka-storage format on every node's log directory.
func (k *KRaftCluster) format(lib string) error {
	java, err := javaBinary()
	if err != nil {
		return err
	}
	for _, n := range k.nodes {
		args := append([]string{"-Xmx128m"}, jvmSmall...)
		args = append(args, "-cp", filepath.Join(lib, "*"), "kafka.tools.StorageTool",
			"format", "-t", k.ClusterID, "-c", filepath.Join(n.dir, "server.properties"))
		cmd := exec.Command(java, args...)
		cmd.SysProcAttr = sysProcAttr()
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("kafka-storage format for node %d: %w\n%s", n.id, err, out)
		}
	}
	return nil
}

// waitReady waits until each of nodes answers a metadata request that
// lists itself as a registered, unfenced broker (a KRaft broker opens its
// listener only once it caught up with the controller).
func (k *KRaftCluster) waitReady(ctx context.Context, nodes ...*kafkaNode) error {
	for _, n := range nodes {
		done, exitErr := n.jvm.exited()
		for {
			select {
			case <-done:
				return fmt.Errorf("%s exited during start-up: %v", n.jvm.name, exitErr())
			default:
			}
			if err := nodeListsItself(ctx, n); err == nil {
				break
			} else if ctx.Err() != nil {
				return fmt.Errorf("%s not ready: %w", n.jvm.name, err)
			}
			select {
			case <-done:
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	return nil
}

func nodeListsItself(ctx context.Context, n *kafkaNode) error {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(n.port))
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	_ = c.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.RequestRetries(0), kgo.DialTimeout(time.Second))
	if err != nil {
		return err
	}
	defer cl.Close()
	rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	brokers, err := kadm.NewClient(cl).ListBrokers(rctx)
	if err != nil {
		return err
	}
	for _, b := range brokers {
		if b.NodeID == n.id {
			return nil
		}
	}
	return fmt.Errorf("node %d not yet in its own metadata", n.id)
}

// Brokers returns the "127.0.0.1:port" of every node, as seed brokers.
func (k *KRaftCluster) Brokers() []string {
	out := make([]string, len(k.nodes))
	for i, n := range k.nodes {
		out[i] = net.JoinHostPort("127.0.0.1", strconv.Itoa(n.port))
	}
	return out
}

// Nodes returns the number of nodes.
func (k *KRaftCluster) Nodes() int { return len(k.nodes) }

// Addr returns node id's "127.0.0.1:port".
func (k *KRaftCluster) Addr(id int32) string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(k.node(id).port))
}

// PID returns the process id of node id's JVM (0 while stopped), for CPU and
// memory figures.
func (k *KRaftCluster) PID(id int32) int { return k.node(id).jvm.pid() }

// Log returns the path of node id's log (log4j, every Kafka logger).
func (k *KRaftCluster) Log(id int32) string { return k.node(id).jvm.logFile }

func (k *KRaftCluster) node(id int32) *kafkaNode {
	if id < 1 || int(id) > len(k.nodes) {
		panic(fmt.Sprintf("testenv: Apache Kafka has nodes 1..%d, not %d", len(k.nodes), id))
	}
	return k.nodes[id-1]
}

// StopNode shuts node id down gracefully (controlled shutdown: leadership
// moves to the other nodes first) and waits for the exit.
func (k *KRaftCluster) StopNode(t testing.TB, id int32) {
	t.Helper()
	k.mustOwn(t)
	if err := k.node(id).jvm.stop(syscall.SIGTERM, kafkaStopTimeout); err != nil {
		t.Fatalf("stop %v", err)
	}
}

// KillNode ends node id with SIGKILL, as a crash would.
func (k *KRaftCluster) KillNode(t testing.TB, id int32) {
	t.Helper()
	k.mustOwn(t)
	if err := k.node(id).jvm.stop(syscall.SIGKILL, kafkaStopTimeout); err != nil {
		t.Fatalf("kill %v", err)
	}
}

// PauseNode freezes node id (SIGSTOP): its sockets stay open and nothing
// answers, as in a long GC pause or a network partition. ResumeNode undoes it.
func (k *KRaftCluster) PauseNode(t testing.TB, id int32) {
	t.Helper()
	k.mustOwn(t)
	if err := k.node(id).jvm.signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
}

// ResumeNode continues a node frozen by PauseNode.
func (k *KRaftCluster) ResumeNode(t testing.TB, id int32) {
	t.Helper()
	k.mustOwn(t)
	if err := k.node(id).jvm.signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
}

// StartNode starts a stopped or killed node again (same ports, same data) and
// waits until it has rejoined the cluster.
func (k *KRaftCluster) StartNode(t testing.TB, id int32) {
	t.Helper()
	k.mustOwn(t)
	n := k.node(id)
	if err := n.jvm.start(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), kafkaReadyTimeout)
	defer cancel()
	if err := k.waitReady(ctx, n); err != nil {
		t.Fatalf("%v\n%s", err, n.jvm.logTail(0, kafkaLogTail))
	}
}

func (k *KRaftCluster) mustOwn(t testing.TB) {
	t.Helper()
	if k.shared {
		t.Fatal("testenv: the shared Apache Kafka broker cannot be stopped or paused; use testenv.StartApacheKafka")
	}
}

// LogTail returns the end of every node's log and JVM output.
func (k *KRaftCluster) LogTail() string {
	var b strings.Builder
	for _, n := range k.nodes {
		b.WriteString(n.jvm.logTail(0, kafkaLogTail))
	}
	return b.String()
}

// printLogOnFailure prints, when t fails, what the nodes logged during t.
func (k *KRaftCluster) printLogOnFailure(t testing.TB) {
	from := make([]int64, len(k.nodes))
	for i, n := range k.nodes {
		from[i], _ = fileSize(n.jvm.logFile)
	}
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		var b strings.Builder
		for i, n := range k.nodes {
			b.WriteString(n.jvm.logTail(from[i], kafkaLogTail))
		}
		t.Logf("Apache Kafka log during this test:\n%s", b.String())
	})
}

// Close kills every node (the data is thrown away, so a graceful shutdown
// would only cost time) and removes the directory.
func (k *KRaftCluster) Close() error {
	liveKafka.remove(k)
	var errs []error
	for _, n := range k.nodes {
		if err := n.jvm.stop(syscall.SIGKILL, kafkaStopTimeout); err != nil {
			errs = append(errs, err)
		}
	}
	if err := os.RemoveAll(k.Dir); err != nil {
		errs = append(errs, fmt.Errorf("remove %s: %w", k.Dir, err))
	}
	return errors.Join(errs...)
}

// stopAllKafka closes every cluster still running; Main calls it.
func stopAllKafka() error {
	var errs []error
	for _, k := range liveKafka.all() {
		errs = append(errs, k.Close())
	}
	return errors.Join(errs...)
}
