package testenv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	connectReadyTimeout = 120 * time.Second
	connectStopTimeout  = 60 * time.Second
)

// ConnectConfig describes a Kafka Connect standalone worker
// (org.apache.kafka.connect.cli.ConnectStandalone from Apache Kafka 4.3.0)
// with the test dependencies' jars, Debezium 3.6.1.Final's MySqlConnector
// among them, and our helpers on its classpath. Against MariaDB the
// MySqlConnector needs "driver.propertiesTransform": MariaDBShim (see there).
type ConnectConfig struct {
	// Brokers is the worker's bootstrap.servers (and so the producers').
	Brokers []string

	// Worker holds worker properties applied after the defaults, which are:
	// bootstrap.servers from Brokers; key.converter and value.converter
	// org.apache.kafka.connect.json.JsonConverter with schemas.enable=true
	// (Debezium's documented setting; override with
	// "key.converter.schemas.enable": "false" ...);
	// offset.storage.file.filename = <Dir>/connect.offsets (see OffsetsFile);
	// offset.flush.interval.ms = 1000; listeners on a free loopback port
	// (see REST); plugin.discovery = service_load (the jars are on the
	// classpath, no plugin.path scan).
	Worker map[string]string

	// Connectors holds one map of connector properties per connector, as a
	// connector .properties file would: "name", "connector.class"
	// ("io.debezium.connector.mysql.MySqlConnector"), "tasks.max", and the
	// connector's own keys. Each is written to its own file and passed on
	// the command line, so the connectors start with the worker.
	Connectors []map[string]string

	// Classpath holds jars or directories ("dir/*") put before the test
	// dependencies' jars: Debezium's MariaDB connector and its driver
	// (scripts/debezium-mariadb.sh builds them outside lib/), so that
	// "io.debezium.connector.mariadb.MariaDbConnector" can run.
	Classpath []string

	// Distributed runs org.apache.kafka.connect.cli.ConnectDistributed
	// instead, as one worker of a group of its own: offsets, connector
	// configurations and statuses in topics named after Dir
	// (OffsetsTopic; offset.storage.partitions is Connect's default, 25),
	// no OffsetsFile, and the connectors created with POST /connectors
	// once the worker answers. A restarted worker (Start) runs them again
	// from its configuration topic.
	Distributed bool

	// Heap is the JVM's -Xmx (default "512m").
	Heap string

	// Benchmark runs the JVM as Kafka's scripts do (G1, C2 JIT) and logs at
	// WARN, for throughput figures; the default favours start-up time on a
	// busy 2-core machine (serial GC, C1 only) and logs at INFO.
	Benchmark bool
}

// ConnectWorker is a running Kafka Connect standalone worker. Fields are
// read-only.
//
// Lifecycle: StartConnect (test-owned, closed at t.Cleanup, log printed if
// the test failed) or LaunchConnect (caller-owned, Close it); both return
// once every connector of ConnectConfig.Connectors and all its tasks report
// RUNNING on the REST API (a FAILED one returns its trace). Stop is a
// graceful SIGTERM: Connect stops the tasks and commits their last offsets
// to OffsetsFile before it exits; Kill is a crash (offsets as of the last
// flush). Start runs a stopped worker again with the same files, so its
// connectors resume from their offsets. Close kills and removes Dir.
//
// Typical use (Debezium writes its offsets and schema history, then Rivulet
// takes over from them):
//
//	k := testenv.ApacheKafka(t)
//	w := testenv.StartConnect(t, testenv.ConnectConfig{
//		Brokers: k.Brokers(),
//		Connectors: []map[string]string{{
//			"name":                "dbz",
//			"connector.class":     "io.debezium.connector.mysql.MySqlConnector",
//			"driver.propertiesTransform": testenv.MariaDBShim,
//			"database.hostname":   srv.Host, ...
//			"topic.prefix":        prefix,
//			"schema.history.internal.kafka.bootstrap.servers": strings.Join(k.Brokers(), ","),
//			"schema.history.internal.kafka.topic":             prefix + ".history",
//		}},
//	})
//	... wait for Debezium's records on the topics ...
//	w.Stop(t)
//	offsets := w.OffsetsFile // Connect's FileOffsetBackingStore (Java-serialised map)
type ConnectWorker struct {
	Dir         string // worker.properties, connector-<n>.properties, connect.log, out.log
	OffsetsFile string // offset.storage.file.filename (standalone)
	// OffsetsTopic is offset.storage.topic (ConnectConfig.Distributed).
	OffsetsTopic string
	REST         string // "http://127.0.0.1:port", the worker's REST API

	names []string // connector names, to wait for
	jvm   jvmProcess
}

var liveConnect liveSet[*ConnectWorker] // workers to stop in Main

// StartConnect starts a worker owned by the calling test, closed at
// t.Cleanup (its log printed first when the test failed). It skips the test
// under -short.
func StartConnect(t testing.TB, cfg ConnectConfig) *ConnectWorker {
	t.Helper()
	if testing.Short() {
		t.Skip("skipping Kafka Connect integration test in -short mode")
	}
	w, err := LaunchConnect(cfg)
	if err != nil {
		t.Fatalf("start Kafka Connect: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("Kafka Connect log:\n%s", w.LogTail())
		}
		if err := w.Close(); err != nil {
			t.Errorf("stop Kafka Connect: %v", err)
		}
	})
	return w
}

// LaunchConnect starts a worker outside of a test; the caller must Close it.
func LaunchConnect(cfg ConnectConfig) (*ConnectWorker, error) {
	if len(cfg.Brokers) == 0 {
		return nil, errors.New("ConnectConfig.Brokers is empty: give the Kafka brokers the worker writes to")
	}
	cp, err := testDepsClasspath()
	if err != nil {
		return nil, err
	}
	if len(cfg.Classpath) > 0 {
		cp = strings.Join(cfg.Classpath, string(os.PathListSeparator)) + string(os.PathListSeparator) + cp
	}
	if _, err := javaBinary(); err != nil {
		return nil, err
	}
	var lastErr error
	for attempt := 1; attempt <= startAttempts; attempt++ {
		w, err := tryLaunchConnect(cfg, cp)
		if err == nil {
			liveConnect.add(w)
			return w, nil
		}
		lastErr = err
		if !errors.Is(err, errPortInUse) {
			break
		}
	}
	return nil, lastErr
}

func tryLaunchConnect(cfg ConnectConfig, classpath string) (*ConnectWorker, error) {
	dir, err := os.MkdirTemp("", "rivulet-connect-")
	if err != nil {
		return nil, fmt.Errorf("create temp dir: %w", err)
	}
	fail := func(err error) (*ConnectWorker, error) {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return fail(err)
	}
	w := &ConnectWorker{
		Dir:         dir,
		OffsetsFile: filepath.Join(dir, "connect.offsets"),
		REST:        "http://127.0.0.1:" + strconv.Itoa(port),
	}
	worker := map[string]string{
		"bootstrap.servers":              strings.Join(cfg.Brokers, ","),
		"key.converter":                  "org.apache.kafka.connect.json.JsonConverter",
		"value.converter":                "org.apache.kafka.connect.json.JsonConverter",
		"key.converter.schemas.enable":   "true",
		"value.converter.schemas.enable": "true",
		"offset.storage.file.filename":   w.OffsetsFile,
		"offset.flush.interval.ms":       "1000",
		"listeners":                      w.REST,
		"plugin.discovery":               "service_load",
	}
	main := "org.apache.kafka.connect.cli.ConnectStandalone"
	if cfg.Distributed {
		main = "org.apache.kafka.connect.cli.ConnectDistributed"
		id := filepath.Base(dir)
		delete(worker, "offset.storage.file.filename")
		w.OffsetsFile, w.OffsetsTopic = "", id+"-offsets"
		maps.Copy(worker, map[string]string{
			"group.id":                          id,
			"offset.storage.topic":              w.OffsetsTopic,
			"config.storage.topic":              id + "-configs",
			"status.storage.topic":              id + "-status",
			"offset.storage.replication.factor": "1",
			"config.storage.replication.factor": "1",
			"status.storage.replication.factor": "1",
			"scheduled.rebalance.max.delay.ms":  "0",
			"worker.sync.timeout.ms":            "3000",
			"worker.unsync.backoff.ms":          "1000",
		})
	}
	maps.Copy(worker, cfg.Worker)
	args := []string{writeProps(dir, "worker.properties", worker)}
	var post []map[string]string
	for i, c := range cfg.Connectors {
		name := c["name"]
		if name == "" || c["connector.class"] == "" {
			return fail(fmt.Errorf("ConnectConfig.Connectors[%d] needs \"name\" and \"connector.class\"", i))
		}
		w.names = append(w.names, name)
		if cfg.Distributed {
			post = append(post, c)
			continue
		}
		args = append(args, writeProps(dir, fmt.Sprintf("connector-%d.properties", i+1), c))
	}
	for _, a := range args {
		if a == "" {
			return fail(fmt.Errorf("write the worker's properties files in %s", dir))
		}
	}
	logFile := filepath.Join(dir, "connect.log")
	level := "INFO"
	flags := jvmSmall
	if cfg.Benchmark {
		level, flags = "WARN", jvmFast
	}
	l4j, err := writeLog4j(dir, logFile, level)
	if err != nil {
		return fail(err)
	}
	heap := cfg.Heap
	if heap == "" {
		heap = "512m"
	}
	jargs := append([]string{"-Xms64m", "-Xmx" + heap}, flags...)
	jargs = append(jargs,
		"-Dlog4j2.configurationFile="+l4j,
		"-Dkafka.logs.dir="+dir,
		"-cp", classpath,
		main)
	w.jvm = jvmProcess{name: "kafka connect", dir: dir, args: append(jargs, args...), logFile: logFile}
	if err := w.jvm.start(); err != nil {
		return fail(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), connectReadyTimeout)
	defer cancel()
	err = nil
	for _, c := range post {
		if err = w.create(ctx, c); err != nil {
			break
		}
	}
	if err == nil {
		err = w.waitRunning(ctx)
	}
	if err != nil {
		tail := w.jvm.logTail(0, kafkaLogTail)
		_ = w.jvm.stop(syscall.SIGKILL, time.Second)
		if strings.Contains(tail, "Address already in use") {
			err = fmt.Errorf("%w: %w", errPortInUse, err)
		}
		return fail(fmt.Errorf("%w\n%s", err, tail))
	}
	return w, nil
}

// writeProps writes a .properties file (keys sorted) and returns its path,
// "" on error.
func writeProps(dir, name string, props map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(props)) {
		fmt.Fprintf(&b, "%s=%s\n", propEscape(k), propEscape(props[k]))
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return ""
	}
	return path
}

// propEscape escapes what java.util.Properties would read differently:
// backslashes (Windows paths, regexes) and line breaks.
func propEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`, "\r", `\r`).Replace(s)
}

// connectHTTP keeps no idle connections, whose goroutines goleak would
// report at the end of the test binary.
var connectHTTP = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}

// ConnectorStatus is GET /connectors/<name>/status.
type ConnectorStatus struct {
	Name      string `json:"name"`
	Connector struct {
		State string `json:"state"`
		Trace string `json:"trace"`
	} `json:"connector"`
	Tasks []struct {
		ID    int    `json:"id"`
		State string `json:"state"`
		Trace string `json:"trace"`
	} `json:"tasks"`
}

// create creates a connector with POST /connectors (a distributed
// worker), retrying while the worker is not up or not yet the group's
// leader.
func (w *ConnectWorker) create(ctx context.Context, conn map[string]string) error {
	body, err := json.Marshal(map[string]any{"name": conn["name"], "config": conn})
	if err != nil {
		return err
	}
	done, exitErr := w.jvm.exited()
	var last string
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.REST+"/connectors", strings.NewReader(string(body)))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := connectHTTP.Do(req)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			switch {
			case resp.StatusCode == http.StatusCreated:
				return nil
			case resp.StatusCode == http.StatusBadRequest:
				return fmt.Errorf("POST /connectors %s: %s: %s", conn["name"], resp.Status, b)
			}
			last = resp.Status + ": " + string(b)
		} else {
			last = err.Error()
		}
		select {
		case <-done:
			return fmt.Errorf("kafka connect exited during start-up: %v", exitErr())
		case <-ctx.Done():
			return fmt.Errorf("POST /connectors %s: %w (last: %s)", conn["name"], ctx.Err(), last)
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// Status reads a connector's status from the REST API.
func (w *ConnectWorker) Status(ctx context.Context, name string) (ConnectorStatus, error) {
	var st ConnectorStatus
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, w.REST+"/connectors/"+name+"/status", nil)
	if err != nil {
		return st, err
	}
	resp, err := connectHTTP.Do(req)
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return st, err
	}
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("GET /connectors/%s/status: %s: %s", name, resp.Status, body)
	}
	if err := json.Unmarshal(body, &st); err != nil {
		return st, fmt.Errorf("GET /connectors/%s/status: %w", name, err)
	}
	return st, nil
}

// waitRunning waits until every connector and all its tasks are RUNNING;
// a FAILED one ends the wait with its trace.
func (w *ConnectWorker) waitRunning(ctx context.Context) error {
	done, exitErr := w.jvm.exited()
	for _, name := range w.names {
		var last error
		for {
			select {
			case <-done:
				return fmt.Errorf("kafka connect exited during start-up: %v", exitErr())
			default:
			}
			st, err := w.Status(ctx, name)
			if err == nil {
				if st.Connector.State == "FAILED" {
					return fmt.Errorf("connector %s FAILED: %s", name, st.Connector.Trace)
				}
				running := st.Connector.State == "RUNNING" && len(st.Tasks) > 0
				for _, tk := range st.Tasks {
					if tk.State == "FAILED" {
						return fmt.Errorf("connector %s task %d FAILED: %s", name, tk.ID, tk.Trace)
					}
					running = running && tk.State == "RUNNING"
				}
				if running {
					break
				}
				err = fmt.Errorf("connector %s: %s, tasks %v", name, st.Connector.State, st.Tasks)
			}
			last = err
			select {
			case <-done:
			case <-ctx.Done():
				return fmt.Errorf("connector %s not running: %w (last: %v)", name, ctx.Err(), last)
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	return nil
}

// Stop shuts the worker down gracefully (SIGTERM): tasks stop and their
// offsets are committed to OffsetsFile. Data stays for Start.
func (w *ConnectWorker) Stop(t testing.TB) {
	t.Helper()
	if err := w.jvm.stop(syscall.SIGTERM, connectStopTimeout); err != nil {
		t.Fatal(err)
	}
}

// Kill ends the worker with SIGKILL: offsets not yet flushed are lost, as in
// a crash.
func (w *ConnectWorker) Kill(t testing.TB) {
	t.Helper()
	if err := w.jvm.stop(syscall.SIGKILL, connectStopTimeout); err != nil {
		t.Fatal(err)
	}
}

// Start runs a stopped worker again with the same configuration and offsets
// and waits until its connectors are RUNNING.
func (w *ConnectWorker) Start(t testing.TB) {
	t.Helper()
	if err := w.jvm.start(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), connectReadyTimeout)
	defer cancel()
	if err := w.waitRunning(ctx); err != nil {
		t.Fatalf("%v\n%s", err, w.LogTail())
	}
}

// StopGracefully is Stop for callers without a testing.TB (the benchmark).
func (w *ConnectWorker) StopGracefully() error {
	return w.jvm.stop(syscall.SIGTERM, connectStopTimeout)
}

// PID returns the worker JVM's process id (0 while stopped).
func (w *ConnectWorker) PID() int { return w.jvm.pid() }

// Log returns the path of the worker's log4j log.
func (w *ConnectWorker) Log() string { return w.jvm.logFile }

// LogTail returns the end of the worker's log and JVM output.
func (w *ConnectWorker) LogTail() string { return w.jvm.logTail(0, kafkaLogTail) }

// Close kills the worker and removes Dir.
func (w *ConnectWorker) Close() error {
	liveConnect.remove(w)
	err := w.jvm.stop(syscall.SIGKILL, connectStopTimeout)
	if rmErr := os.RemoveAll(w.Dir); rmErr != nil {
		err = errors.Join(err, fmt.Errorf("remove %s: %w", w.Dir, rmErr))
	}
	return err
}

// stopAllConnect closes every worker still running; Main calls it.
func stopAllConnect() error {
	var errs []error
	for _, w := range liveConnect.all() {
		errs = append(errs, w.Close())
	}
	return errors.Join(errs...)
}
