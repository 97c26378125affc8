package main

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/rivulet-cdc/rivulet/internal/testenv"
)

// broker is the one Apache Kafka 4.3 broker (KRaft, single node, JVM flags
// of Kafka's own scripts) every variant of the run produces to, Rivulet's
// and Debezium's alike.
type broker struct {
	k   *testenv.KRaftCluster
	cl  *kgo.Client
	adm *kadm.Client
}

func startBroker() (*broker, error) {
	opts := []testenv.KafkaOption{testenv.KafkaForBenchmark(),
		// Deleted topics' files go at once: every run starts on an empty
		// broker. (The broker's key; file.delete.delay.ms, set here before,
		// is the topic-level one and the broker ignored it, keeping each
		// run's ~0.5 GB of segments for 60 s.)
		testenv.KafkaProperty("log.segment.delete.delay.ms", "0"),
		// The broker's log tasks, the deletion of deleted topics' files
		// among them, start 30 s after it does by default: until then each
		// run's segments stayed in the page cache (Cached grew by 0.5 GB a
		// run), and on this VM, which pages out cold memory (DAMON), writing
		// into fresh pages cost the broker 2.0-3.0 CPU s per million records
		// instead of 0.4-0.7, in runs 2-4 of 6 of every snapshot bench.
		testenv.KafkaProperty("log.initial.task.delay.ms", "0"),
		testenv.KafkaProperty("num.io.threads", "4"),
		testenv.KafkaProperty("num.network.threads", "3"),
		// The OS's socket receive buffer (autotuned up to net.ipv4.tcp_rmem)
		// instead of Kafka's fixed 100 KiB: a 1 MB produce request then
		// arrives in fewer reads and wake-ups. Over six runs of 1M records
		// with schemas, the request threads' system CPU went from a median
		// of 3.05 s to 1.97 s and the broker's CPU from 5.3 s to 4.2 s.
		testenv.KafkaProperty("socket.receive.buffer.bytes", "-1")}
	// For diagnosis only: BENCH_BROKER_JVM adds JVM arguments (space
	// separated, e.g. a Flight Recorder recording), BENCH_BROKER_PROPS
	// server.properties entries (key=value, space separated).
	if args := strings.Fields(os.Getenv("BENCH_BROKER_JVM")); len(args) > 0 {
		opts = append(opts, testenv.KafkaJVMArgs(args...))
	}
	for _, kv := range strings.Fields(os.Getenv("BENCH_BROKER_PROPS")) {
		key, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("BENCH_BROKER_PROPS: %q is not key=value", kv)
		}
		opts = append(opts, testenv.KafkaProperty(key, v))
	}
	k, err := testenv.LaunchApacheKafka(opts...)
	if err != nil {
		return nil, fmt.Errorf("start Apache Kafka: %w", err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers()...))
	if err != nil {
		_ = k.Close()
		return nil, err
	}
	return &broker{k: k, cl: cl, adm: kadm.NewClient(cl)}, nil
}

func (b *broker) close() {
	b.cl.Close()
	_ = b.k.Close()
}

// pid is the broker JVM's process id, for its CPU seconds.
func (b *broker) pid() int { return b.k.PID(1) }

// fresh deletes every topic but Kafka's own (__consumer_offsets,
// __transaction_state) and waits until they are gone, so that a run's
// end offsets count only its own records; it returns the seed brokers.
// It asks the broker each time: kadm's ListTopics answers from the client's
// metadata cache, which kept listing no topics after runs had created some.
func (b *broker) fresh() ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for {
		resp, err := kmsg.NewPtrMetadataRequest().RequestWith(ctx, b.cl)
		if err != nil {
			return nil, fmt.Errorf("list topics: %w", err)
		}
		var ours []string
		for _, t := range resp.Topics {
			if t.Topic != nil && !t.IsInternal && !strings.HasPrefix(*t.Topic, "__") {
				ours = append(ours, *t.Topic)
			}
		}
		if len(ours) == 0 {
			return b.k.Brokers(), nil
		}
		if _, err := b.adm.DeleteTopics(ctx, ours...); err != nil {
			return nil, fmt.Errorf("delete topics %v: %w", ours, err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("topics %v not deleted: %w", ours, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// recordBroker starts a Java Flight Recorder recording (settings=profile)
// on the broker JVM when BENCH_BROKER_JFR names a file prefix, and returns
// the function that stops it into <prefix>.<run>.jfr (`jfr print --events
// jdk.ExecutionSample`, `jfr summary`). For diagnosis only: the recording
// costs the broker a little CPU.
func (b *broker) recordBroker(run string) (stop func()) {
	prefix := os.Getenv("BENCH_BROKER_JFR")
	if prefix == "" {
		return func() {}
	}
	pid := strconv.Itoa(b.pid())
	settings := "profile"
	if s := os.Getenv("BENCH_BROKER_JFR_SETTINGS"); s != "" {
		settings = s // a .jfc file, e.g. with jdk.Compilation's threshold at 0 ms
	}
	if out, err := exec.Command("jcmd", pid, "JFR.start", "name=bench", "settings="+settings).CombinedOutput(); err != nil {
		fmt.Printf("    JFR.start: %v: %s\n", err, out)
		return func() {}
	}
	return func() {
		path := prefix + "." + run + ".jfr"
		if out, err := exec.Command("jcmd", pid, "JFR.stop", "name=bench", "filename="+path).CombinedOutput(); err != nil {
			fmt.Printf("    JFR.stop: %v: %s\n", err, out)
			return
		}
		fmt.Printf("    broker recording: %s\n", path)
	}
}

// javaNames maps a JVM's thread ids to their full Java names, read once
// per JVM with jcmd Thread.print: the kernel keeps only a thread's first 15
// bytes ("data-plane-kafk" for both the network threads and the request
// handlers).
var javaNames = map[int]map[string]string{}

var digits = regexp.MustCompile(`[0-9]+`)

func javaThreadNames(pid int) map[string]string {
	if m, ok := javaNames[pid]; ok {
		return m
	}
	m := map[string]string{}
	javaNames[pid] = m
	out, err := exec.Command("jcmd", strconv.Itoa(pid), "Thread.print").Output()
	if err != nil {
		return m
	}
	for _, line := range strings.Split(string(out), "\n") {
		if !strings.HasPrefix(line, `"`) {
			continue
		}
		end := strings.Index(line[1:], `"`)
		i := strings.Index(line, " nid=0x")
		if end < 0 || i < 0 {
			continue
		}
		hex, _, _ := strings.Cut(line[i+len(" nid=0x"):], " ")
		if tid, err := strconv.ParseInt(hex, 16, 64); err == nil {
			m[strconv.FormatInt(tid, 10)] = line[1 : 1+end]
		}
	}
	return m
}

// threadCPU returns the user and system CPU seconds of each thread group of
// pid (threads named alike, digits dropped: "data-plane-kafka-request-handler-",
// "GC Thread#"; Java names from javaThreadNames, else the kernel's 15 bytes),
// for BENCH_BROKER_THREADS=1.
func threadCPU(pid int) map[string][2]float64 {
	out := map[string][2]float64{}
	names := javaThreadNames(pid)
	dir := fmt.Sprintf("/proc/%d/task", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return out
	}
	for _, e := range ents {
		b, err := os.ReadFile(dir + "/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		i, j := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
		if i < 0 || j < i {
			continue
		}
		full, ok := names[e.Name()]
		if !ok {
			full = string(b[i+1 : j])
		}
		name := digits.ReplaceAllString(full, "#")
		f := strings.Fields(string(b[j+1:]))
		if len(f) < 13 {
			continue
		}
		ut, _ := strconv.ParseFloat(f[11], 64)
		st, _ := strconv.ParseFloat(f[12], 64)
		v := out[name]
		v[0] += ut / 100
		v[1] += st / 100
		out[name] = v
	}
	return out
}

// printThreadCPU prints the CPU seconds each thread group used between two
// threadCPU readings, largest first (threads that ended in between are lost).
func printThreadCPU(before, after map[string][2]float64) {
	type row struct {
		name      string
		user, sys float64
	}
	var rows []row
	for name, a := range after {
		b := before[name]
		if u, s := a[0]-b[0], a[1]-b[1]; u+s >= 0.05 {
			rows = append(rows, row{name, u, s})
		}
	}
	slices.SortFunc(rows, func(x, y row) int { return cmp.Compare(y.user+y.sys, x.user+x.sys) })
	for _, r := range rows {
		fmt.Printf("      broker %-60q user %5.2fs sys %5.2fs\n", r.name, r.user, r.sys)
	}
}

// reclaimCounters reads the machine's direct-reclaim and compaction stall
// counters (/proc/vmstat): a run during which they grow paid for page cache
// reclaim in its own threads' system CPU.
func reclaimCounters() map[string]int64 {
	out := map[string]int64{}
	b, err := os.ReadFile("/proc/vmstat")
	if err != nil {
		return out
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(line, " ")
		if strings.HasPrefix(k, "allocstall_") || k == "compact_stall" || k == "pgscan_direct" {
			n, _ := strconv.ParseInt(v, 10, 64)
			out[strings.TrimPrefix(k, "allocstall_")] += n
		}
	}
	return out
}

func printReclaim(before, after map[string]int64) {
	fmt.Printf("      machine during the run: allocation stalls %d, compaction stalls %d, pages scanned by direct reclaim %d\n",
		after["normal"]+after["movable"]+after["dma32"]-before["normal"]-before["movable"]-before["dma32"],
		after["compact_stall"]-before["compact_stall"], after["pgscan_direct"]-before["pgscan_direct"])
}
