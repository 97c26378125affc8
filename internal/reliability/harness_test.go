package reliability

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/rivulet-cdc/rivulet/internal/testenv"
	"github.com/rivulet-cdc/rivulet/offsets"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// slow skips t unless RIVULET_CHAOS is set (make chaos).
func slow(t *testing.T) {
	t.Helper()
	if os.Getenv("RIVULET_CHAOS") == "" {
		t.Skip("slow: runs under make chaos (RIVULET_CHAOS=1)")
	}
}

// figure reports a measured figure; reltable keeps the largest per name.
func figure(t *testing.T, name string, v float64, unit string) {
	t.Helper()
	t.Logf("figure: %s=%s %s", name, strconv.FormatFloat(v, 'f', -1, 64), unit)
}

// binary is cmd/rivulet with the fault points compiled in (-tags
// rivuletfault). Without -race: the suite measures memory, and the race
// detector multiplies it (cmd/rivulet's tests run the raced binary).
func binary(t *testing.T) string { return testenv.Rivulet(t, "-tags", "rivuletfault") }

var serverIDs atomic.Uint32

type envOpts struct {
	ownServer  bool // a mariadbd of the test's own (it may be restarted)
	serverOpts []testenv.Option
	proxy      bool        // the connector reaches the database through a Proxy
	kafka      []kfake.Opt // extra kfake options (implies kfake)
	// kfake puts the connector on a kfake cluster behind a Gate instead of
	// the real Apache Kafka broker: for faults a real broker cannot be made
	// to show on cue (a scripted produce error, a stalled connection,
	// leaders shuffled without replication).
	kfake bool
	// ownKafka gives the test a real broker of its own (it may be killed and
	// restarted) instead of the broker shared by the test binary.
	ownKafka bool
	// kafkaNodes, with ownKafka, is the number of nodes of that cluster
	// (3: replication factor 3, min.insync.replicas 2).
	kafkaNodes int
}

// env is one connector under test: database, Kafka behind a Gate, a
// directory for offsets and config.
type env struct {
	t       *testing.T
	srv     *testenv.Server
	db      string
	kc      *kfake.Cluster        // with envOpts.kfake
	gate    *Gate                 // with envOpts.kfake
	kafka   *testenv.KRaftCluster // otherwise
	brokers []string
	proxy   *Proxy
	dir     string
	prefix  string
	cfgPath string
	sid     uint32
}

func newEnv(t *testing.T, o envOpts) *env {
	t.Helper()
	e := &env{t: t, dir: t.TempDir(), sid: 7000 + serverIDs.Add(1)}
	if o.ownServer {
		e.srv = testenv.StartMariaDB(t, o.serverOpts...)
	} else {
		e.srv = testenv.MariaDB(t)
	}
	e.db = e.srv.Database(t)
	switch {
	case o.kfake || len(o.kafka) > 0:
		e.gate = NewGate()
		e.kc = testenv.KafkaCluster(t, append([]kfake.Opt{kfake.ListenFn(e.gate.Listen)}, o.kafka...)...)
		e.brokers, e.prefix = e.kc.ListenAddrs(), "rel"
	case o.ownKafka:
		e.kafka = testenv.StartApacheKafka(t, testenv.KafkaNodes(max(o.kafkaNodes, 1)))
		e.brokers, e.prefix = e.kafka.Brokers(), "rel"
	default:
		// The shared broker: topics, connector name and transactional id
		// of the test's own.
		e.kafka = testenv.ApacheKafka(t)
		e.brokers, e.prefix = e.kafka.Brokers(), testenv.TopicPrefix(t)
	}
	if o.proxy {
		p, err := NewProxy(e.srv.Addr())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = p.Close() })
		e.proxy = p
	}
	return e
}

// config writes the connector JSON (schemas off, file offsets flushed every
// 100 ms, stream only) with extra on top and returns its path.
func (e *env) config(extra map[string]string) string {
	t := e.t
	t.Helper()
	port := e.srv.Port
	if e.proxy != nil {
		port = e.proxy.Port()
	}
	cfg := map[string]string{
		"connector.class":                     "io.debezium.connector.mariadb.MariaDbConnector",
		"database.hostname":                   e.srv.Host,
		"database.port":                       strconv.Itoa(port),
		"database.user":                       e.srv.User,
		"database.password":                   e.srv.Password,
		"database.server.id":                  strconv.Itoa(int(e.sid)),
		"topic.prefix":                        e.prefix,
		"database.include.list":               e.db,
		"snapshot.mode":                       "no_data",
		"schema.history.internal.kafka.topic": e.prefix + ".history",
		"bootstrap.servers":                   strings.Join(e.brokers, ","),
		"offset.storage.file.filename":        filepath.Join(e.dir, "offsets.json"),
		"offset.flush.interval.ms":            "100",
		"metrics.listen":                      fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t)),
		"key.converter.schemas.enable":        "false",
		"value.converter.schemas.enable":      "false",
		"log.level":                           "info",
	}
	for k, v := range extra {
		if v == "" {
			delete(cfg, k)
			continue
		}
		cfg[k] = v
	}
	b, err := json.Marshal(map[string]any{"name": e.connector(), "config": cfg})
	if err != nil {
		t.Fatal(err)
	}
	e.cfgPath = filepath.Join(e.dir, "connector.json")
	if err := os.WriteFile(e.cfgPath, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return e.cfgPath
}

// offsetsPath is where config puts the offsets unless overridden.
func (e *env) store(path string) *offsets.FileStore {
	if path == "" {
		path = filepath.Join(e.dir, "offsets.json")
	}
	return offsets.NewFileStore(path, e.connector(), e.prefix)
}

// connector is the connector's name.
func (e *env) connector() string { return e.prefix + "-connector" }

// stored is the durable position (zero when none).
func (e *env) stored() offsets.Position {
	e.t.Helper()
	p, _, err := e.store("").Load(context.Background())
	if err != nil {
		e.t.Fatalf("load offsets: %v", err)
	}
	return p
}

// master is the server's current binlog coordinate.
func (e *env) master() Coord {
	e.t.Helper()
	r := e.srv.Query(e.t, "", "SHOW MASTER STATUS")
	pos, _ := strconv.ParseUint(r[0][1], 10, 64)
	return Coord{File: r[0][0], Pos: pos}
}

// caughtUp waits until the stored offset reached the server's current
// position: everything written before was acknowledged by Kafka.
func (e *env) caughtUp(p *proc) {
	e.t.Helper()
	want := e.master()
	deadline := time.Now().Add(120 * time.Second)
	for {
		got := e.stored()
		if got.Event == 0 && got.Row == 0 && CoordOf(got).Compare(want) >= 0 {
			return
		}
		if p != nil && p.done() {
			e.t.Fatalf("rivulet exited before catching up with %s (stored %s): %v\n%s", want, got.String(), p.err, p.log.String())
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("stored offset %s did not reach %s in 120s", got.String(), want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// read returns every record on the connector's change topics.
func (e *env) read() []Record {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	recs, err := ReadTopics(ctx, e.brokers, Prefix(e.prefix, e.db))
	if err != nil {
		e.t.Fatal(err)
	}
	return recs
}

func (e *env) topic(table string) string { return e.prefix + "." + e.db + "." + table }

// checkTable is I1 for one table with the given key and columns.
func (e *env) checkTable(recs []Record, table, key string, cols ...string) {
	e.t.Helper()
	rows := e.srv.Query(e.t, e.db, "SELECT "+strings.Join(cols, ", ")+" FROM `"+table+"`")
	rep, err := CheckState(recs, e.topic(table), []string{key}, cols, rows)
	if err != nil {
		e.t.Error(err)
		return
	}
	e.t.Logf("I1 %s: %d keys equal to the table (%d records)", table, rep.Keys, rep.Records)
}

// proc is one rivulet process.
type proc struct {
	t       *testing.T
	cmd     *exec.Cmd
	log     *testenv.LogBuffer
	metrics string
	exited  chan struct{}
	err     error
	started time.Time
}

// launch starts rivulet run with the config at path and RIVULET_FAULT=fault.
func (e *env) launch(path, fault string) *proc {
	t := e.t
	t.Helper()
	var cfg struct {
		Config map[string]string `json:"config"`
	}
	b, _ := os.ReadFile(path)
	_ = json.Unmarshal(b, &cfg)
	p := &proc{t: t, log: &testenv.LogBuffer{}, metrics: cfg.Config["metrics.listen"], exited: make(chan struct{})}
	p.cmd = exec.Command(binary(t), "run", "--config", path)
	p.cmd.Env = append(os.Environ(), "RIVULET_FAULT="+fault)
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	p.started = time.Now()
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.exited
		if t.Failed() {
			t.Logf("rivulet log (pid %d):\n%s", p.cmd.Process.Pid, tail(p.log.String(), 6000))
		}
	})
	return p
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// start launches rivulet and waits until /readyz says ready. The metrics
// port was free when the config was written, but another process of the
// parallel test run may take it before rivulet binds it: then the config
// gets another free port and rivulet is started again.
func (e *env) start(path, fault string) *proc {
	e.t.Helper()
	for attempt := 1; ; attempt++ {
		p := e.launch(path, fault)
		if attempt < 4 && p.exitedBeforeReady(60*time.Second) && strings.Contains(p.log.String(), "bind: address already in use") {
			e.t.Logf("metrics port %s taken meanwhile; starting again on another", p.metrics)
			e.setMetricsPort(path)
			continue
		}
		p.waitReady(60 * time.Second)
		return p
	}
}

// exitedBeforeReady waits until the process is ready (false) or has
// exited (true); at the timeout it returns false for waitReady to report.
func (p *proc) exitedBeforeReady(timeout time.Duration) bool {
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if p.ready() {
			return false
		}
		if p.done() {
			return true
		}
	}
	return false
}

// setMetricsPort rewrites the config at path with a new free metrics port.
func (e *env) setMetricsPort(path string) {
	e.t.Helper()
	var doc map[string]any
	b, err := os.ReadFile(path)
	if err == nil {
		err = json.Unmarshal(b, &doc)
	}
	cfg, ok := doc["config"].(map[string]any)
	if err != nil || !ok {
		e.t.Fatalf("read config %s: %v", path, err)
	}
	cfg["metrics.listen"] = fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(e.t))
	if b, err = json.Marshal(doc); err == nil {
		err = os.WriteFile(path, b, 0o644)
	}
	if err != nil {
		e.t.Fatal(err)
	}
}

func (p *proc) done() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

func (p *proc) ready() bool {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://" + p.metrics + "/readyz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func (p *proc) waitReady(timeout time.Duration) {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	for !p.ready() {
		if p.done() {
			p.t.Fatalf("rivulet exited before it was ready: %v\n%s", p.err, tail(p.log.String(), 6000))
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("rivulet not ready after %s\n%s", timeout, tail(p.log.String(), 6000))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitExit waits for the process to end by itself and returns its exit code.
func (p *proc) waitExit(timeout time.Duration) int {
	p.t.Helper()
	select {
	case <-p.exited:
	case <-time.After(timeout):
		// A Go process prints every goroutine's stack on SIGQUIT: where it hangs.
		_ = p.cmd.Process.Signal(syscall.SIGQUIT)
		select {
		case <-p.exited:
		case <-time.After(5 * time.Second):
		}
		p.t.Fatalf("rivulet still running after %s\n%s", timeout, tail(p.log.String(), 20000))
	}
	return exitCode(p.err)
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ee.ExitCode()
	}
	return -1
}

// kill is kill -9.
func (p *proc) kill() {
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// stop is SIGTERM; it expects exit status 0.
func (p *proc) stop() {
	p.t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	if code := p.waitExit(60 * time.Second); code != 0 {
		p.t.Fatalf("rivulet exited %d after SIGTERM\n%s", code, tail(p.log.String(), 6000))
	}
}

// status reads a field of /proc/<pid>/status in KiB (VmRSS, VmHWM).
func (p *proc) status(field string) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			n, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			return n
		}
	}
	return 0
}

// fds counts the process's open file descriptors.
func (p *proc) fds() int {
	ents, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", p.cmd.Process.Pid))
	return len(ents)
}

// scrape returns the /metrics text.
func (p *proc) scrape() string {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + p.metrics + "/metrics")
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// metric sums one series (all labels) from /metrics.
func (p *proc) metric(name string) float64 {
	var sum float64
	for l := range strings.Lines(p.scrape()) {
		f := strings.Fields(l)
		if len(f) == 2 && (f[0] == name || strings.HasPrefix(f[0], name+"{")) {
			v, _ := strconv.ParseFloat(f[1], 64)
			sum += v
		}
	}
	return sum
}

// poll waits until cond holds, failing after timeout with what.
func poll(t *testing.T, timeout time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > timeout {
			t.Fatalf("%s: not after %s", what, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Since(start)
}

// counterTables creates n empty counter tables; runCounter fills them.
func (e *env) counterTables(n, keys int) []string {
	e.t.Helper()
	var names []string
	for i := range n {
		name := fmt.Sprintf("c%d", i)
		e.srv.Exec(e.t, e.db, fmt.Sprintf("CREATE TABLE %s (id INT PRIMARY KEY, n INT NOT NULL, pad VARCHAR(40) DEFAULT 'padding padding padding')", name))
		names = append(names, name)
	}
	return names
}

// workload is the counter workload: one connection, one autocommit UPDATE
// n = n + 1 per transaction on a random key of a random table. It survives
// lost connections (database restarts, proxy faults) by reconnecting.
type workload struct {
	done  atomic.Bool
	pace  time.Duration // pause after each transaction; 0: full speed
	n     atomic.Int64
	errs  atomic.Int64
	wg    sync.WaitGroup
	extra func(c *client.Conn, r *rand.Rand) // optional extra statement per step (DDL mix)
}

// runCounter inserts keys rows at 0 into each table (Rivulet runs, so the
// inserts are streamed and each key's counter starts at 0 in its topic),
// then starts the workload.
func (e *env) runCounter(tables []string, keys int, seed uint64) *workload {
	return e.runCounterPaced(tables, keys, seed, 0)
}

// runCounterPaced is runCounter with a pause after each transaction, for
// faults that last long enough for a full-speed workload to pile up more
// changes than the test should wait for.
func (e *env) runCounterPaced(tables []string, keys int, seed uint64, pace time.Duration) *workload {
	for _, tb := range tables {
		var b strings.Builder
		fmt.Fprintf(&b, "INSERT INTO %s (id, n) VALUES ", tb)
		for k := range keys {
			if k > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "(%d, 0)", k)
		}
		e.srv.Exec(e.t, e.db, b.String())
	}
	w := &workload{pace: pace}
	w.start(e, tables, keys, seed)
	return w
}

func (w *workload) start(e *env, tables []string, keys int, seed uint64) {
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		r := rand.New(rand.NewPCG(seed, 8))
		var c *client.Conn
		defer func() {
			if c != nil {
				_ = c.Close()
			}
		}()
		for !w.done.Load() {
			if c == nil {
				var err error
				if c, err = e.srv.Connect(e.db); err != nil {
					w.errs.Add(1)
					time.Sleep(100 * time.Millisecond) // the database is down: retry
					continue
				}
			}
			if w.extra != nil {
				w.extra(c, r)
			}
			q := fmt.Sprintf("UPDATE %s SET n = n + 1 WHERE id = %d", tables[r.IntN(len(tables))], r.IntN(keys))
			if res, err := c.Execute(q); err != nil {
				w.errs.Add(1)
				_ = c.Close()
				c = nil
				continue
			} else {
				res.Close()
			}
			w.n.Add(1)
			if w.pace > 0 {
				time.Sleep(w.pace)
			}
		}
	}()
}

// waitN waits until the workload committed n more transactions.
func (w *workload) waitN(t *testing.T, n int64) {
	t.Helper()
	target := w.n.Load() + n
	poll(t, 120*time.Second, fmt.Sprintf("workload reaching %d transactions", target), func() bool { return w.n.Load() >= target })
}

func (w *workload) stop() int64 {
	w.done.Store(true)
	w.wg.Wait()
	return w.n.Load()
}

// crash records a crash that just happened: the durable offset and the
// server's position.
func (e *env) crash() Crash {
	e.t.Helper()
	return Crash{Durable: CoordOf(e.stored()), Reached: e.master()}
}

// checkCounters runs I1 and I3 on every counter table and I2 on all records
// with the crashes that happened; it reports the duplicate window.
func (e *env) checkCounters(recs []Record, tables []string, crashes []Crash) DupReport {
	t := e.t
	t.Helper()
	for _, tb := range tables {
		e.checkTable(recs, tb, "id", "id", "n")
		rep, err := CheckCounters(recs, e.topic(tb), "id", "n")
		if err != nil {
			t.Error(err)
		} else {
			t.Logf("I3 %s: %d keys, %d changes in order (%d replayed)", tb, rep.Keys, rep.Changes, rep.Replays)
		}
	}
	dup, err := CheckDuplicates(recs, crashes)
	if err != nil {
		t.Error(err)
	}
	t.Logf("I2: %d streamed records, %d duplicates, each in the window of one of %d crashes (longest: %d records, %d binlog bytes)",
		dup.Streamed, dup.Duplicates, len(crashes), dup.WindowRecords, dup.WindowBytes)
	figure(t, "duplicate_window_records", float64(dup.WindowRecords), "records")
	figure(t, "duplicate_window_binlog_bytes", float64(dup.WindowBytes), "bytes")
	return dup
}
