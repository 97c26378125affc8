package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/rivulet-cdc/rivulet/internal/testenv"
	"github.com/rivulet-cdc/rivulet/offsets"
)

// benchCompression is the producer compression of every variant (-compression).
var benchCompression = "none"

// kafka is the broker of the whole run (broker.go).
var kafka *broker

type options struct {
	rivulet string
	rows    int
	txRows  int
	runs    int
	warmup  int // unmeasured streaming runs first (-warmup)
	dbzRuns int // Debezium runs, streaming and snapshot each (debezium.go)
	// snapshotRows is the table size for the snapshot figures.
	snapshotRows int
	liveRate     int
	liveFor      time.Duration
	// verifyOnly runs only the verify figures (-verify-only).
	verifyOnly bool
	// snapshotOnly runs only the snapshot figures (-snapshot-only).
	snapshotOnly bool
}

type result struct {
	name    string
	rates   []float64 // events/s per run
	rssMiB  []float64
	runs    []measured
	comment string
}

func (r result) median() float64 { return median(r.rates) }

func run(o options) error {
	dir, err := os.MkdirTemp("", "rivulet-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	fmt.Println("starting MariaDB and Apache Kafka…")
	srv, err := testenv.Launch(testenv.WithArgs("--max-binlog-size=1073741824"))
	if err != nil {
		return err
	}
	defer srv.Close()
	if kafka, err = startBroker(); err != nil {
		return err
	}
	defer kafka.close()
	conn, err := srv.Connect("")
	if err != nil {
		return err
	}
	defer conn.Close()
	for _, q := range []string{
		"CREATE DATABASE bench",
		"CREATE TABLE bench.t (id BIGINT PRIMARY KEY, a INT NOT NULL, b VARCHAR(64), c DECIMAL(12,2), d DATETIME(3), born_us BIGINT)",
	} {
		if _, err := conn.Execute(q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	if o.verifyOnly {
		if err := topUp(conn, 0, o.snapshotRows, o.txRows); err != nil {
			return err
		}
		ver, err := verifyBench(o, srv, conn, dir)
		if err != nil {
			return fmt.Errorf("verify: %w", err)
		}
		ver.print()
		return nil
	}
	if o.snapshotOnly {
		o.rows = 0 // snapshotBench tops the table up from id 0
		snap, err := snapshotBench(o, srv, conn, dir)
		if err != nil {
			return fmt.Errorf("snapshot: %w", err)
		}
		snap.print()
		return nil
	}
	start, err := binlogPosition(conn)
	if err != nil {
		return err
	}
	if err := prime(o, srv, dir); err != nil {
		return fmt.Errorf("prime: %w", err)
	}
	if wantDebezium(o) {
		fmt.Println("priming Debezium (Kafka Connect standalone, snapshot.mode=no_data)…")
		if err := debeziumPrime(srv, dir); err != nil {
			return fmt.Errorf("prime debezium: %w", err)
		}
	}
	changes := 2 * o.rows
	fmt.Printf("writing %d inserts in %d-row transactions, then %d updates…\n", o.rows, o.txRows, o.rows)
	t0 := time.Now()
	if err := writeWorkload(conn, o); err != nil {
		return err
	}
	fmt.Printf("workload written in %s\n", time.Since(t0).Round(time.Millisecond))

	// The broker has just started: its JIT compilers were still busy for
	// about three runs' worth of records (C2 used 1.2-2.6 CPU s of each of
	// the first three runs with schemas, a quarter of the broker's CPU), and
	// that would be counted in whichever connector ran first. Warm-up runs,
	// not measured, give every measured run, Rivulet's and Debezium's, a
	// broker in its steady state.
	for i := range o.warmup {
		m, err := rivuletRun(o, srv, dir, fmt.Sprintf("w%d", i), true, benchCompression, 0, false, false, changes)
		if err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
		fmt.Printf("  %-28s run %d: %8.0f events/s (not measured)\n", "broker warm-up, schemas", i+1, m.rate)
	}

	// Runs are interleaved (A B C D, A B C D, ...) so that drift on a shared
	// machine spreads over every variant instead of favouring one.
	variants := []struct {
		name        string
		schemas     bool
		compression string
		scrape      time.Duration // GET /metrics this often during the run; 0: never
		eos         bool          // exactly.once.support=required (Kafka offset store)
		avro        bool          // AvroConverter with a schema registry (avro.go)
	}{
		{"rivulet JSON, no schemas", false, benchCompression, 0, false, false},
		{"rivulet JSON, with schemas", true, benchCompression, 0, false, false},
		{"rivulet JSON, schemas, lz4", true, "lz4", 0, false, false},
		{"no schemas, /metrics scraped", false, benchCompression, scrapeInterval, false, false},
		{"no schemas, exactly-once", false, benchCompression, 0, true, false},
		{"rivulet Avro, schema registry", false, benchCompression, 0, false, true},
	}
	results := make([]result, len(variants)+1)
	for k, v := range variants {
		results[k].name = v.name
	}
	gm := &results[len(variants)]
	gm.name = "go-mysql alone (full decode)"
	var dbz []measured
	loadStart := loadAverage()
	for i := range o.runs {
		for k, v := range variants {
			if variantFilter != nil && !variantFilter.MatchString(v.name) {
				continue
			}
			prefix := fmt.Sprintf("b%d%d", i, k)
			m, err := rivuletRun(o, srv, dir, prefix, v.schemas, v.compression, v.scrape, v.eos, v.avro, changes)
			if err != nil {
				return fmt.Errorf("%s: %w", v.name, err)
			}
			fmt.Printf("  %-28s run %d: %8.0f events/s, peak RSS %5.1f MiB\n", v.name, i+1, m.rate, m.rssMiB)
			results[k].rates = append(results[k].rates, m.rate)
			results[k].rssMiB = append(results[k].rssMiB, m.rssMiB)
			results[k].runs = append(results[k].runs, m)
		}
		rate, err := goMySQLRun(srv, start, changes)
		if err != nil {
			return fmt.Errorf("go-mysql: %w", err)
		}
		fmt.Printf("  %-28s run %d: %8.0f events/s\n", gm.name, i+1, rate)
		gm.rates = append(gm.rates, rate)
		// Debezium's runs are interleaved with Rivulet's too.
		if wantDebezium(o) && i < o.dbzRuns {
			m, err := debeziumStreamRun(srv, dir, i, changes)
			if err != nil {
				return fmt.Errorf("debezium: %w", err)
			}
			fmt.Printf("  %-28s run %d: %8.0f events/s, peak RSS %5.1f MiB\n", "debezium JSON, with schemas", i+1, m.rate, m.rssMiB)
			dbz = append(dbz, m)
		}
	}
	for i := o.runs; wantDebezium(o) && i < o.dbzRuns; i++ {
		m, err := debeziumStreamRun(srv, dir, i, changes)
		if err != nil {
			return fmt.Errorf("debezium: %w", err)
		}
		fmt.Printf("  %-28s run %d: %8.0f events/s, peak RSS %5.1f MiB\n", "debezium JSON, with schemas", i+1, m.rate, m.rssMiB)
		dbz = append(dbz, m)
	}
	loadEnd := loadAverage()

	var snap *snapshotResult
	var ver *verifyResult
	var p50, p99 time.Duration
	var n int
	if variantFilter == nil {
		if snap, err = snapshotBench(o, srv, conn, dir); err != nil {
			return fmt.Errorf("snapshot: %w", err)
		}
		if ver, err = verifyBench(o, srv, conn, dir); err != nil {
			return fmt.Errorf("verify: %w", err)
		}
		if p50, p99, n, err = liveLag(o, srv, conn, dir); err != nil {
			return fmt.Errorf("live lag: %w", err)
		}
	}

	fmt.Printf("\n%d row changes into Apache Kafka 4.3 (one KRaft broker on this machine), compression %s unless named, medians of %d runs; load average %s at the start of the streaming runs, %s at their end\n",
		changes, benchCompression, o.runs, loadStart, loadEnd)
	fmt.Printf("%-30s %12s %10s %14s\n", "variant", "events/s", "peak RSS", "vs go-mysql")
	for _, r := range results {
		if len(r.rates) == 0 {
			continue // not selected by -variants
		}
		rss := "-"
		if len(r.rssMiB) > 0 {
			rss = fmt.Sprintf("%.0f MiB", slices.Max(r.rssMiB))
		}
		fmt.Printf("%-30s %12.0f %10s %14.2f\n", r.name, r.median(), rss, r.median()/gm.median())
	}
	// Exactly-once next to at-least-once: the same run (no schemas) with
	// each batch group and its offset in one Kafka transaction.
	for k, v := range variants {
		if v.eos && len(results[k].rates) > 0 {
			fmt.Printf("%-30s %12.2f (exactly-once / at-least-once, no schemas)\n", "exactly-once ratio", results[k].median()/results[0].median())
		}
		if v.avro && len(results[k].rates) > 0 {
			fmt.Printf("%-30s %12.2f (Avro / JSON without schemas)\n", "Avro ratio", results[k].median()/results[0].median())
			if len(results[1].rates) > 0 {
				fmt.Printf("%-30s %12.2f (Avro / JSON with schemas)\n", "Avro ratio", results[k].median()/results[1].median())
			}
		}
	}
	if len(dbz) > 0 {
		printSideBySide(results[1], dbz, changes)
	}
	if variantFilter != nil {
		return nil
	}
	snap.print()
	ver.print()
	fmt.Printf("\nlive lag, %d rows/s paced for %s (%d events, commit→consumed): p50 %s, p99 %s\n",
		o.liveRate, o.liveFor, n, p50.Round(100*time.Microsecond), p99.Round(100*time.Microsecond))
	return nil
}

// writeWorkload inserts o.rows rows in o.txRows-row transactions, then
// updates each row once, in transactions of the same size.
func writeWorkload(conn *client.Conn, o options) error {
	var b strings.Builder
	for lo := 0; lo < o.rows; lo += o.txRows {
		b.Reset()
		b.WriteString("INSERT INTO bench.t VALUES ")
		for id := lo; id < min(lo+o.txRows, o.rows); id++ {
			if id > lo {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "(%d,%d,'name-%d',%d.%02d,'2026-11-21 10:00:00.%03d',0)", id, id*7, id, id, id%100, id%1000)
		}
		if _, err := conn.Execute(b.String()); err != nil {
			return err
		}
	}
	for lo := 0; lo < o.rows; lo += o.txRows {
		q := fmt.Sprintf("UPDATE bench.t SET a = a + 1, b = CONCAT(b, '!') WHERE id >= %d AND id < %d", lo, lo+o.txRows)
		if _, err := conn.Execute(q); err != nil {
			return err
		}
	}
	return nil
}

func binlogPosition(conn *client.Conn) (offsets.Position, error) {
	r, err := conn.Execute("SHOW MASTER STATUS")
	if err != nil {
		return offsets.Position{}, err
	}
	file, _ := cloned(r.GetStringByName(0, "File"))
	pos, _ := r.GetIntByName(0, "Position")
	return offsets.Position{File: file, Pos: uint64(pos)}, nil
}

// rivuletRun streams the workload from start with the rivulet binary and
// returns events/s (binlog to acknowledged records) and peak RSS in MiB.
func rivuletRun(o options, srv *testenv.Server, dir, prefix string, schemas bool, compression string, scrape time.Duration, eos, avro bool, want int) (measured, error) {
	var m measured
	rate, rss, err := rivuletStream(o, srv, dir, prefix, schemas, compression, scrape, eos, avro, want, &m)
	m.rate, m.rssMiB = rate, rss
	return m, err
}

func rivuletStream(o options, srv *testenv.Server, dir, prefix string, schemas bool, compression string, scrape time.Duration, eos, avro bool, want int, m *measured) (float64, float64, error) {
	brokers, err := kafka.fresh()
	if err != nil {
		return 0, 0, err
	}
	brokerCPU := cpuSeconds(kafka.pid())
	// Every run resumes from the offset and schema history the prime run
	// recorded before the workload (see prime), under topic prefix "bench".
	offsetFile := filepath.Join(dir, prefix+".offsets.json")
	historyFile := filepath.Join(dir, prefix+".history")
	if err := copyFile(filepath.Join(dir, "prime.offsets.json"), offsetFile); err != nil {
		return 0, 0, err
	}
	if err := copyFile(filepath.Join(dir, "prime.history"), historyFile); err != nil {
		return 0, 0, err
	}
	extra := []map[string]string{primedConfig(historyFile)}
	if eos {
		eosCfg, err := primeKafkaOffsets(brokers, offsetFile, prefix+".offsets")
		if err != nil {
			return 0, 0, err
		}
		extra = append(extra, eosCfg)
	}
	if avro {
		avroCfg, stop := avroBenchConfig()
		defer stop()
		extra = append(extra, avroCfg)
	}
	cfgFile, metricsAddr, err := writeConfig(dir, prefix, srv, brokers, offsetFile, schemas, compression, extra...)
	if err != nil {
		return 0, 0, err
	}
	adm, cl, err := admin(brokers)
	if err != nil {
		return 0, 0, err
	}
	defer cl.Close()

	stopRecording := kafka.recordBroker(prefix)
	threadsBefore := threadCPU(kafka.pid())
	reclaimBefore := reclaimCounters()
	begin := time.Now()
	proc, err := startRivulet(o.rivulet, cfgFile, filepath.Join(dir, prefix+".log"))
	if err != nil {
		return 0, 0, err
	}
	defer stopProcess(proc)
	if scrape > 0 {
		stop := startScraper(metricsAddr, scrape)
		defer func() {
			n, size := stop()
			fmt.Printf("    (/metrics scraped %d times every %s, %d KiB each)\n", n, scrape, size/max(n, 1)/1024)
		}()
	}
	topic := primePrefix + ".bench.t"
	var first time.Time
	lastPrint := time.Now()
	profiled := os.Getenv("BENCH_HEAP") == ""
	if cpu := os.Getenv("BENCH_CPU"); cpu != "" {
		go saveProfile(metricsAddr, "profile?seconds=5", cpu+"."+prefix)
	}
	for {
		n, err := endOffset(adm, topic)
		if err == nil && n > 0 && first.IsZero() {
			first = time.Now()
		}
		if !profiled && n > int64(want)/2 {
			profiled = true
			saveProfile(metricsAddr, "heap", os.Getenv("BENCH_HEAP")+"."+prefix)
		}
		if os.Getenv("BENCH_TRACE") != "" && time.Since(lastPrint) > 250*time.Millisecond {
			fmt.Printf("    %6s %d %v\n", time.Since(begin).Round(time.Millisecond), n, err)
			lastPrint = time.Now()
		}
		if err == nil && n >= int64(want) {
			break
		}
		if proc.ProcessState != nil || !alive(proc) {
			return 0, 0, fmt.Errorf("rivulet exited early; log: %s", tail(filepath.Join(dir, prefix+".log")))
		}
		if time.Since(begin) > 5*time.Minute {
			return 0, 0, fmt.Errorf("only %d of %d records after 5 minutes", n, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
	elapsed := time.Since(begin)
	stopRecording()
	if os.Getenv("BENCH_PRODUCE") != "" {
		printProduceShape(metricsAddr, elapsed)
	}
	if os.Getenv("BENCH_TRACE") != "" {
		fmt.Println(tail(filepath.Join(dir, prefix+".log")))
	}
	rss := peakRSS(proc.Process.Pid)
	m.elapsed, m.cpu = elapsed, cpuSeconds(proc.Process.Pid)
	m.broker = cpuSeconds(kafka.pid()) - brokerCPU
	m.steady = float64(want) / time.Since(first).Seconds()
	fmt.Printf("    (%s: rivulet used %.1fs CPU, Apache Kafka %.1fs CPU)\n", elapsed.Round(time.Millisecond), m.cpu, m.broker)
	if os.Getenv("BENCH_BROKER_THREADS") != "" {
		printThreadCPU(threadsBefore, threadCPU(kafka.pid()))
		printReclaim(reclaimBefore, reclaimCounters())
	}
	return float64(want) / elapsed.Seconds(), rss, nil
}

// goMySQLRun reads the same binlog range with go-mysql's own decoder.
func goMySQLRun(srv *testenv.Server, start offsets.Position, want int) (float64, error) {
	syncer := replication.NewBinlogSyncer(replication.BinlogSyncerConfig{
		ServerID: 4242, Flavor: "mariadb", Host: srv.Host, Port: uint16(srv.Port),
		User: srv.User, Password: srv.Password,
	})
	defer syncer.Close()
	begin := time.Now()
	st, err := syncer.StartSync(mysql.Position{Name: start.File, Pos: uint32(start.Pos)})
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	n := 0
	for n < want {
		ev, err := st.GetEvent(ctx)
		if err != nil {
			return 0, err
		}
		if re, ok := ev.Event.(*replication.RowsEvent); ok {
			switch ev.Header.EventType {
			case replication.UPDATE_ROWS_EVENTv1, replication.UPDATE_ROWS_EVENTv2, replication.PARTIAL_UPDATE_ROWS_EVENT:
				n += len(re.Rows) / 2
			default:
				n += len(re.Rows)
			}
		}
	}
	return float64(want) / time.Since(begin).Seconds(), nil
}

// liveLag runs rivulet from the current end of the binlog while a paced
// workload commits rows stamped with their write time, and measures when a
// consumer sees each row.
func liveLag(o options, srv *testenv.Server, conn *client.Conn, dir string) (p50, p99 time.Duration, n int, err error) {
	brokers, err := kafka.fresh()
	if err != nil {
		return 0, 0, 0, err
	}
	prefix := "live"
	cfgFile, metricsAddr, err := writeConfig(dir, prefix, srv, brokers, filepath.Join(dir, "live.offsets.json"), false, benchCompression)
	if err != nil {
		return 0, 0, 0, err
	}
	proc, err := startRivulet(o.rivulet, cfgFile, filepath.Join(dir, "live.log"))
	if err != nil {
		return 0, 0, 0, err
	}
	defer stopProcess(proc)
	if err := waitReady(metricsAddr, 30*time.Second); err != nil {
		return 0, 0, 0, fmt.Errorf("%w; log: %s", err, tail(filepath.Join(dir, "live.log")))
	}

	consumer, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(prefix+".bench.t"),
		kgo.AllowAutoTopicCreation(), kgo.FetchMaxWait(10*time.Millisecond))
	if err != nil {
		return 0, 0, 0, err
	}
	defer consumer.Close()
	total := int(o.liveFor.Seconds() * float64(o.liveRate))
	lags := make([]time.Duration, 0, total)
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), o.liveFor+time.Minute)
		defer cancel()
		for len(lags) < total {
			fs := consumer.PollFetches(ctx)
			if err := ctx.Err(); err != nil {
				done <- fmt.Errorf("consumed %d of %d: %w", len(lags), total, err)
				return
			}
			now := time.Now().UnixMicro()
			fs.EachRecord(func(r *kgo.Record) {
				if born, ok := bornUs(r.Value); ok {
					lags = append(lags, time.Duration(now-born)*time.Microsecond)
				}
			})
		}
		done <- nil
	}()

	const txPerSecond = 50
	rowsPerTx := max(1, o.liveRate/txPerSecond)
	tick := time.NewTicker(time.Second / txPerSecond)
	defer tick.Stop()
	id := 10_000_000
	var b strings.Builder
	for sent := 0; sent < total; {
		<-tick.C
		b.Reset()
		b.WriteString("INSERT INTO bench.t VALUES ")
		born := time.Now().UnixMicro()
		for i := 0; i < rowsPerTx && sent < total; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "(%d,1,'live',1.00,'2026-11-21 10:00:00.000',%d)", id, born)
			id++
			sent++
		}
		if _, err := conn.Execute(b.String()); err != nil {
			return 0, 0, 0, err
		}
	}
	if err := <-done; err != nil {
		return 0, 0, 0, err
	}
	slices.Sort(lags)
	return lags[len(lags)/2], lags[len(lags)*99/100], len(lags), nil
}

// bornUs finds after.born_us in a schemaless envelope.
func bornUs(v []byte) (int64, bool) {
	i := bytes.Index(v, []byte(`"born_us":`))
	if i < 0 {
		return 0, false
	}
	rest := v[i+len(`"born_us":`):]
	j := bytes.IndexAny(rest, ",}")
	if j < 0 {
		return 0, false
	}
	n, err := strconv.ParseInt(string(rest[:j]), 10, 64)
	return n, err == nil && n > 0
}

// runServerIDs gives every run its own database.server.id: the server keeps
// a stopped run's replica registered until it next writes to it, and
// Rivulet waits out a registration that holds its id (up to 15 s).
var runServerIDs atomic.Int32

func writeConfig(dir, prefix string, srv *testenv.Server, brokers []string, offsetFile string, schemas bool, compression string, extra ...map[string]string) (path, metricsAddr string, err error) {
	port, err := freePort()
	if err != nil {
		return "", "", err
	}
	metricsAddr = fmt.Sprintf("127.0.0.1:%d", port)
	doc := map[string]any{
		"name": "bench",
		"config": map[string]string{
			"connector.class":                     "io.debezium.connector.mariadb.MariaDbConnector",
			"database.hostname":                   srv.Host,
			"database.port":                       strconv.Itoa(srv.Port),
			"database.user":                       srv.User,
			"database.password":                   srv.Password,
			"database.server.id":                  strconv.Itoa(5501 + int(runServerIDs.Add(1))),
			"topic.prefix":                        prefix,
			"table.include.list":                  "bench.t",
			"snapshot.mode":                       "no_data",
			"schema.history.internal.kafka.topic": prefix + ".history",
			"bootstrap.servers":                   strings.Join(brokers, ","),
			"offset.storage.file.filename":        offsetFile,
			"offset.flush.interval.ms":            "1000",
			"key.converter.schemas.enable":        strconv.FormatBool(schemas),
			"value.converter.schemas.enable":      strconv.FormatBool(schemas),
			"metrics.listen":                      metricsAddr,
			"compression.type":                    compression,
		},
	}
	for _, m := range extra {
		for k, v := range m {
			doc["config"].(map[string]string)[k] = v
		}
	}
	// For experiments only: BENCH_RIVULET_PROPS adds connector properties
	// (key=value, space separated) to every Rivulet run.
	for _, kv := range strings.Fields(os.Getenv("BENCH_RIVULET_PROPS")) {
		if k, v, ok := strings.Cut(kv, "="); ok {
			doc["config"].(map[string]string)[k] = v
		}
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return "", "", err
	}
	path = filepath.Join(dir, prefix+".json")
	return path, metricsAddr, os.WriteFile(path, b, 0o600)
}

func startRivulet(bin, cfgFile, logFile string) (*exec.Cmd, error) {
	f, err := os.Create(logFile)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "run", "--config", cfgFile)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, err
	}
	go func() { _ = cmd.Wait(); f.Close() }()
	return cmd, nil
}

func stopProcess(cmd *exec.Cmd) {
	if cmd == nil || cmd.Process == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	for i := 0; i < 200 && alive(cmd); i++ {
		time.Sleep(25 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
}

func alive(cmd *exec.Cmd) bool {
	return cmd.Process.Signal(syscall.Signal(0)) == nil && !zombie(cmd.Process.Pid)
}

func zombie(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	return len(f) > 0 && (f[0] == "Z" || f[0] == "X")
}

// saveProfile fetches one of rivulet's pprof profiles (BENCH_HEAP=path,
// BENCH_CPU=path to diagnose memory and CPU; the CPU profile covers the
// first 5 s of each run).
func saveProfile(addr, which, path string) {
	var resp *http.Response
	var err error
	for range 100 { // the endpoint comes up a few ms after the process
		if resp, err = http.Get("http://" + addr + "/debug/pprof/" + which); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		fmt.Println("heap profile:", err)
		return
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	_ = os.WriteFile(path, b.Bytes(), 0o644)
}

// loadAverage is the 1-minute load average of the machine, as a figure
// to print beside rates measured on a machine others may share.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}

// cpuSeconds reads utime+stime of pid (clock ticks of 10ms on Linux).
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100
}

// peakRSS reads VmHWM of pid in MiB.
func peakRSS(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

func admin(brokers []string) (*kadm.Client, *kgo.Client, error) {
	// A short metadata age: the topic appears after the client first asked
	// for it, and the default 5s would be measured as rivulet's time. A
	// short retry backoff too: a look-up of a topic created a moment ago
	// can meet a retriable error, and the default 250 ms backoff was
	// measured as rivulet's time to its first record (120 ms by the
	// record's timestamp, 300 ms by the poll, in half of the runs).
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.MetadataMinAge(10*time.Millisecond),
		kgo.RetryBackoffFn(func(int) time.Duration { return 10 * time.Millisecond }))
	if err != nil {
		return nil, nil, err
	}
	return kadm.NewClient(cl), cl, nil
}

func endOffset(adm *kadm.Client, topic string) (int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	offs, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return 0, err
	}
	var n int64
	offs.Each(func(o kadm.ListedOffset) {
		if o.Err == nil {
			n += o.Offset
		}
	})
	if n == 0 {
		return 0, errors.New("no records yet")
	}
	return n, nil
}

func waitReady(addr string, d time.Duration) error {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	return fmt.Errorf("rivulet not ready on %s after %s", addr, d)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// cloned copies a string read from a go-mysql result (GetString aliases a recycled buffer).
func cloned(s string, err error) (string, error) { return strings.Clone(s), err }
