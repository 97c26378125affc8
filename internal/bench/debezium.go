package main

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/rivulet-cdc/rivulet/internal/testenv"
)

// Debezium side by side: Debezium 3.6.1.Final's MySqlConnector in Kafka
// Connect 4.3.0 standalone (JVM flags and heap of connect-standalone.sh:
// G1, C2, -Xmx2G), JsonConverter with schemas (Debezium's documented
// default and the same setting as Rivulet's "JSON, with schemas"), file
// offsets and file schema history like Rivulet's streaming runs, on the
// same binlog into the same broker. Against MariaDB it runs with our
// Connector/J shim (testenv.MariaDBShim): without it the connector refuses
// the server ("MySQL version 10.11.x-MariaDB should support SHOW BINARY LOG
// STATUS but it failed").

// dbzPrefix is Debezium's topic.prefix: its offsets and history name it.
const dbzPrefix = "dbz"

// measured is one measured run of Rivulet or Debezium.
type measured struct {
	rate    float64 // events/s from process start to the last record acknowledged
	steady  float64 // events/s from the first record on the topic to the last
	cpu     float64 // CPU seconds of the process
	rssMiB  float64 // peak RSS (VmHWM)
	broker  float64 // CPU seconds the broker used during the run
	elapsed time.Duration
}

func (r measured) cpuPerMillion(events int) float64 { return r.cpu / (float64(events) / 1e6) }

// debeziumConnector is the connector configuration of every Debezium run.
func debeziumConnector(srv *testenv.Server, historyFile string, extra map[string]string) map[string]string {
	c := map[string]string{
		"name":                                  "dbz-bench",
		"connector.class":                       "io.debezium.connector.mysql.MySqlConnector",
		"tasks.max":                             "1",
		"driver.propertiesTransform":            testenv.MariaDBShim,
		"database.hostname":                     srv.Host,
		"database.port":                         strconv.Itoa(srv.Port),
		"database.user":                         srv.User,
		"database.password":                     srv.Password,
		"database.server.id":                    strconv.Itoa(6601 + int(runServerIDs.Add(1))),
		"topic.prefix":                          dbzPrefix,
		"table.include.list":                    "bench.t",
		"schema.history.internal":               "io.debezium.storage.file.history.FileSchemaHistory",
		"schema.history.internal.file.filename": historyFile,
	}
	for k, v := range extra {
		c[k] = v
	}
	return c
}

// debeziumWorker starts Connect standalone with one Debezium connector;
// measured runs the JVM as connect-standalone.sh does and logs at WARN,
// otherwise at INFO (the prime run waits for Debezium's INFO lines).
func debeziumWorker(brokers []string, offsetsFile string, connector map[string]string, measured bool) (*testenv.ConnectWorker, error) {
	return testenv.LaunchConnect(testenv.ConnectConfig{
		Brokers: brokers,
		Worker: map[string]string{"offset.storage.file.filename": offsetsFile, "offset.flush.interval.ms": "10000",
			// -compression applies to both sides (Connect's default is none).
			"producer.compression.type": benchCompression},
		Connectors: []map[string]string{connector},
		Heap:       "2g",
		Benchmark:  measured,
	})
}

// debeziumPrime runs Debezium once before the workload with
// snapshot.mode=no_data, as prime does for Rivulet: it records the schema
// and the binlog position, so that each measured run streams the whole
// workload from copies of its offsets and history.
func debeziumPrime(srv *testenv.Server, dir string) error {
	brokers, err := kafka.fresh()
	if err != nil {
		return err
	}
	offsetsFile := filepath.Join(dir, "dbz-prime.offsets")
	// Stopped before its snapshot's offset was committed, Debezium would
	// take the snapshot again on the next start, at the binlog's end then:
	// a measured run would stream nothing of the workload (0 records, the
	// task RUNNING). The stored offset must be a streaming one; until the
	// workload is written, starting again is harmless.
	for attempt := 1; ; attempt++ {
		stored, err := debeziumPrimeOnce(srv, dir, brokers, offsetsFile)
		if err != nil {
			return err
		}
		if streamingOffset(stored) {
			return nil
		}
		if attempt == 3 {
			return fmt.Errorf("debezium stored no streaming offset in %s after %d starts: %q", offsetsFile, attempt, stored)
		}
		fmt.Printf("  (debezium stored a snapshot offset, %q; starting it again)\n", stored)
	}
}

func debeziumPrimeOnce(srv *testenv.Server, dir string, brokers []string, offsetsFile string) ([]byte, error) {
	w, err := debeziumWorker(brokers, offsetsFile,
		debeziumConnector(srv, filepath.Join(dir, "dbz-prime.history"), map[string]string{"snapshot.mode": "no_data"}), false)
	if err != nil {
		return nil, fmt.Errorf("start Debezium: %w", err)
	}
	defer w.Close()
	if err := waitLog(w, "Connected to binlog at", 2*time.Minute); err != nil {
		return nil, err
	}
	if err := w.StopGracefully(); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(offsetsFile)
	if err != nil || len(b) == 0 {
		return nil, fmt.Errorf("debezium stored no offsets in %s; log:\n%s", offsetsFile, w.LogTail())
	}
	return b, nil
}

// streamingOffset reports whether Connect's offsets file (a Java-serialised
// map whose values are the JSON offsets) holds a binlog position that is
// not a snapshot's (BinlogOffsetContext writes "snapshot":true while one
// runs).
func streamingOffset(b []byte) bool {
	return bytes.Contains(b, []byte(`"pos":`)) && !bytes.Contains(b, []byte(`"snapshot":true`))
}

func waitLog(w *testenv.ConnectWorker, line string, d time.Duration) error {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if b, _ := os.ReadFile(w.Log()); strings.Contains(string(b), line) {
			return nil
		}
	}
	return fmt.Errorf("debezium did not log %q within %s; log:\n%s", line, d, w.LogTail())
}

// debeziumStreamRun streams the workload with Debezium from the primed
// position and measures it as rivuletRun does.
func debeziumStreamRun(srv *testenv.Server, dir string, run, want int) (measured, error) {
	brokers, err := kafka.fresh()
	if err != nil {
		return measured{}, err
	}
	offsetsFile := filepath.Join(dir, fmt.Sprintf("dbz%d.offsets", run))
	historyFile := filepath.Join(dir, fmt.Sprintf("dbz%d.history", run))
	if err := copyFile(filepath.Join(dir, "dbz-prime.offsets"), offsetsFile); err != nil {
		return measured{}, err
	}
	if err := copyFile(filepath.Join(dir, "dbz-prime.history"), historyFile); err != nil {
		return measured{}, err
	}
	return debeziumMeasure(brokers, offsetsFile, debeziumConnector(srv, historyFile, map[string]string{"snapshot.mode": "no_data"}), want)
}

// debeziumSnapshotRun snapshots bench.t (snapshot.mode=initial_only) with
// Debezium, JSON without schemas like Rivulet's snapshot runs.
func debeziumSnapshotRun(srv *testenv.Server, dir string, run, want int) (measured, error) {
	brokers, err := kafka.fresh()
	if err != nil {
		return measured{}, err
	}
	c := debeziumConnector(srv, filepath.Join(dir, fmt.Sprintf("dbzs%d.history", run)), map[string]string{
		"snapshot.mode":                  "initial_only",
		"key.converter.schemas.enable":   "false",
		"value.converter.schemas.enable": "false",
	})
	return debeziumMeasure(brokers, filepath.Join(dir, fmt.Sprintf("dbzs%d.offsets", run)), c, want)
}

// debeziumMeasure starts the worker and waits until want records are on
// dbz.bench.t. The connector settings key.converter.* apply per connector
// (Connect's connector-level converter override).
func debeziumMeasure(brokers []string, offsetsFile string, connector map[string]string, want int) (measured, error) {
	for _, k := range []string{"key.converter.schemas.enable", "value.converter.schemas.enable"} {
		if _, ok := connector[k]; ok { // applies only with the converter named too
			connector[strings.SplitN(k, ".", 2)[0]+".converter"] = "org.apache.kafka.connect.json.JsonConverter"
		}
	}
	adm, cl, err := admin(brokers)
	if err != nil {
		return measured{}, err
	}
	defer cl.Close()
	brokerCPU := cpuSeconds(kafka.pid())
	begin := time.Now()
	w, err := debeziumWorker(brokers, offsetsFile, connector, true)
	if err != nil {
		return measured{}, fmt.Errorf("start Debezium: %w", err)
	}
	defer w.Close()
	topic := dbzPrefix + ".bench.t"
	var first time.Time
	var lastStatus time.Time
	for {
		n, err := endOffset(adm, topic)
		if err == nil && n > 0 && first.IsZero() {
			first = time.Now()
		}
		if err == nil && n >= int64(want) {
			break
		}
		if w.PID() == 0 || zombie(w.PID()) {
			return measured{}, fmt.Errorf("debezium exited with %d of %d records; log:\n%s", n, want, w.LogTail())
		}
		// Connect keeps running when its task fails: ask its REST API, so
		// that a failed task ends the run at once with its trace instead
		// of a wait for records that never come.
		if time.Since(lastStatus) > time.Second {
			lastStatus = time.Now()
			if err := connectorFailed(w, connector["name"]); err != nil {
				return measured{}, fmt.Errorf("debezium, %d of %d records: %w; log:\n%s", n, want, err, w.LogTail())
			}
		}
		// Running and silent: Debezium streams the first records of the
		// binlog within seconds of its start; say what it did instead.
		if first.IsZero() && time.Since(begin) > 3*time.Minute {
			return measured{}, fmt.Errorf("debezium produced no record to %s in 3 minutes (%s); log:\n%s", topic, topicsSummary(adm), w.LogTail())
		}
		if time.Since(begin) > 15*time.Minute {
			return measured{}, fmt.Errorf("debezium: only %d of %d records after 15 minutes; log:\n%s", n, want, w.LogTail())
		}
		time.Sleep(20 * time.Millisecond)
	}
	r := measured{elapsed: time.Since(begin), cpu: cpuSeconds(w.PID()), rssMiB: peakRSS(w.PID()), broker: cpuSeconds(kafka.pid()) - brokerCPU}
	r.rate = float64(want) / r.elapsed.Seconds()
	r.steady = float64(want) / time.Since(first).Seconds()
	fmt.Printf("    (%s: debezium used %.1fs CPU, Apache Kafka %.1fs CPU; %s from JVM start to its first record)\n",
		r.elapsed.Round(time.Millisecond), r.cpu, r.broker, first.Sub(begin).Round(time.Millisecond))
	return r, nil
}

// connectorFailed returns the trace of the connector or of a task that
// Connect reports FAILED, nil while they run (or the REST API does not
// answer: the process check covers a dead worker).
func connectorFailed(w *testenv.ConnectWorker, name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := w.Status(ctx, name)
	if err != nil {
		return nil
	}
	if st.Connector.State == "FAILED" {
		return fmt.Errorf("connector %s FAILED: %s", name, st.Connector.Trace)
	}
	for _, tk := range st.Tasks {
		if tk.State == "FAILED" {
			return fmt.Errorf("connector %s task %d FAILED: %s", name, tk.ID, tk.Trace)
		}
	}
	return nil
}

// topicsSummary lists the broker's topics with their end offsets, to show
// where a connector's records went (a re-taken snapshot writes only the
// schema change topic, for example).
func topicsSummary(adm *kadm.Client) string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	topics, err := adm.ListTopics(ctx)
	if err != nil {
		return "topics: " + err.Error()
	}
	offs, err := adm.ListEndOffsets(ctx, topics.Names()...)
	if err != nil {
		return "end offsets: " + err.Error()
	}
	var parts []string
	offs.Each(func(o kadm.ListedOffset) {
		parts = append(parts, fmt.Sprintf("%s[%d]=%d", o.Topic, o.Partition, o.Offset))
	})
	slices.Sort(parts)
	return "topics and end offsets: " + strings.Join(parts, " ")
}

// wantDebezium reports whether the run includes Debezium's streaming runs:
// always unless -debezium-runs 0; with -variants only when the pattern
// matches "debezium" (e.g. -variants 'with schemas$|debezium' for the
// streaming side by side alone).
func wantDebezium(o options) bool {
	return o.dbzRuns > 0 && (variantFilter == nil || variantFilter.MatchString("debezium"))
}

// medianRun is the run with the median rate.
func medianRun(runs []measured) measured {
	s := slices.Clone(runs)
	slices.SortFunc(s, func(a, b measured) int { return cmp.Compare(a.rate, b.rate) })
	return s[len(s)/2]
}

// procUsage is the peak RSS (MiB) and CPU seconds of a rivulet process,
// from /proc while it runs, from its rusage once it exited and was reaped
// (an initial_only snapshot exits when done).
func procUsage(cmd *exec.Cmd) (rssMiB, cpu float64) {
	if alive(cmd) {
		rss, c := peakRSS(cmd.Process.Pid), cpuSeconds(cmd.Process.Pid)
		if rss > 0 {
			return rss, c
		}
	}
	for i := 0; i < 100 && cmd.ProcessState == nil; i++ {
		time.Sleep(20 * time.Millisecond) // startRivulet's goroutine reaps it
	}
	if st := cmd.ProcessState; st != nil {
		if ru, ok := st.SysUsage().(*syscall.Rusage); ok {
			rssMiB = float64(ru.Maxrss) / 1024
		}
		cpu = (st.UserTime() + st.SystemTime()).Seconds()
	}
	return rssMiB, cpu
}

// printSideBySide prints Rivulet's "JSON, with schemas" runs next to
// Debezium's on the same workload: the medians of events/s, of CPU seconds
// per million events (the process's and the broker's during the run), the
// peak RSS, and each side's slowest and fastest run.
func printSideBySide(riv result, dbz []measured, events int) {
	if len(riv.runs) == 0 {
		return
	}
	fmt.Printf("\nstreaming side by side: %d row changes, same binlog, same broker, JsonConverter with schemas, compression.type %s on both sides; medians of %d (Rivulet) and %d (Debezium) runs\n",
		events, benchCompression, len(riv.runs), len(dbz))
	fmt.Println(producerSettings)
	fmt.Printf("%-30s %12s %14s %16s %16s %10s %20s\n", "", "events/s", "(first→last)", "CPU s/M events", "broker CPU s/M", "peak RSS", "runs min–max ev/s")
	type fig struct{ rate, steady, cpu, broker, rss float64 }
	row := func(name string, runs []measured) fig {
		pick := func(f func(measured) float64) float64 {
			v := make([]float64, len(runs))
			for i, m := range runs {
				v[i] = f(m)
			}
			return median(v)
		}
		perM := float64(events) / 1e6
		f := fig{
			rate:   pick(func(m measured) float64 { return m.rate }),
			steady: pick(func(m measured) float64 { return m.steady }),
			cpu:    pick(func(m measured) float64 { return m.cpu / perM }),
			broker: pick(func(m measured) float64 { return m.broker / perM }),
			rss:    pick(func(m measured) float64 { return m.rssMiB }),
		}
		lo := slices.MinFunc(runs, func(a, b measured) int { return cmp.Compare(a.rate, b.rate) })
		hi := slices.MaxFunc(runs, func(a, b measured) int { return cmp.Compare(a.rate, b.rate) })
		fmt.Printf("%-30s %12.0f %14.0f %16.1f %16.1f %6.0f MiB %9.0f–%.0f\n", name, f.rate, f.steady, f.cpu, f.broker, f.rss, lo.rate, hi.rate)
		return f
	}
	d := row("debezium 3.6.1 (Connect)", dbz)
	r := row("rivulet", riv.runs)
	fmt.Printf("%-30s %11.1f× %13.1f× %15.2f× %15.2f× %9.2f×   (target: ≥10× events/s, ≤0.10× memory)\n", "rivulet / debezium",
		r.rate/d.rate, r.steady/d.steady, r.cpu/d.cpu, r.broker/d.broker, r.rss/d.rss)
	fmt.Println("(events/s counts from process start, JVM or Go, to the last record acknowledged; first→last from the first record on the topic)")
}

// producerSettings says where the two producers' settings differ; the
// converter settings and compression.type are the same on both sides.
const producerSettings = "producers: Debezium the Kafka Connect 4.3 worker's (batch.size 16384, linger.ms 5, acks all, max.in.flight 1, not idempotent); " +
	"Rivulet its defaults (franz-go: batches up to max.request.size 1,000,012 bytes, linger 5 ms, acks all, idempotent, up to 5 requests in flight)"
