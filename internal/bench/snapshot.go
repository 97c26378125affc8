package main

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/rivulet-cdc/rivulet/internal/testenv"
)

// snapshotResult holds the initial-snapshot figures of one bench run.
type snapshotResult struct {
	rows    int
	threads []int
	rates   map[int][]float64
	rss     map[int][]float64
	cpu     map[int][]float64
	// broker and mariadb are the CPU seconds Apache Kafka and MariaDB used
	// during each run, by threads.
	broker  map[int][]float64
	mariadb map[int][]float64
	selects []float64
	// first and exit are the seconds from process start to the first
	// record on the topic and from the last acknowledged record to the
	// process's exit, by threads: the time line's fixed costs.
	first map[int][]float64
	exit  map[int][]float64
	dbz   []measured // Debezium's initial_only snapshot of the same table
	// floor holds the runs of a client that only moves the bytes (floor.go).
	floor []floorResult
}

// snapshotBench tops bench.t up to o.snapshotRows rows, then snapshots it
// with snapshot.mode=initial_only and 1 and 4 threads, and reads it with a
// plain streaming SELECT in the same run for the ratio.
func snapshotBench(o options, srv *testenv.Server, conn *client.Conn, dir string) (*snapshotResult, error) {
	if err := topUp(conn, o.rows, o.snapshotRows, o.txRows); err != nil {
		return nil, err
	}
	r := &snapshotResult{rows: o.snapshotRows, threads: []int{1, 4}, rates: map[int][]float64{}, rss: map[int][]float64{}, cpu: map[int][]float64{},
		broker: map[int][]float64{}, mariadb: map[int][]float64{}, first: map[int][]float64{}, exit: map[int][]float64{}}
	fmt.Printf("snapshot of %d rows…\n", r.rows)
	if o.snapshotOnly {
		// The broker has just started: -warmup runs not measured, so that
		// its JIT compilation is not counted in the measured runs (in a
		// whole bench the streaming runs have warmed it up).
		for i := range max(o.warmup, 1) {
			if _, _, _, _, err := snapshotRun(o, srv, dir, fmt.Sprintf("swarm%d", i), 4, r.rows); err != nil {
				return nil, fmt.Errorf("warm-up: %w", err)
			}
		}
	}
	var keySize, valueSize int
	var headers []kgo.RecordHeader
	for i := range o.runs {
		for _, th := range r.threads {
			broker, mdb := cpuSeconds(kafka.pid()), cpuSeconds(srv.Pid())
			threadsBefore := threadCPU(kafka.pid())
			rate, rss, cpu, tl, err := snapshotRun(o, srv, dir, fmt.Sprintf("s%d%d", i, th), th, r.rows)
			if err != nil {
				return nil, fmt.Errorf("%d threads: %w", th, err)
			}
			broker, mdb = cpuSeconds(kafka.pid())-broker, cpuSeconds(srv.Pid())-mdb
			fmt.Printf("  snapshot, %d thread(s)       run %d: %8.0f rows/s, peak RSS %5.1f MiB, %.1f s CPU (Apache Kafka %.1f s, MariaDB %.1f s)\n", th, i+1, rate, rss, cpu, broker, mdb)
			// With runtime.NumCPU() cores, a figure near it means the run
			// was CPU-bound as a whole (the three processes; start-up included).
			fmt.Printf("    (time line: %s; Rivulet, Kafka and MariaDB kept %.2f of %d cores busy, the whole machine %.2f)\n", tl, (cpu+broker+mdb)/tl.last.Seconds(), runtime.NumCPU(), tl.machine)
			if m := tl.milestones(); m != "" {
				fmt.Printf("    (Rivulet's log: %s)\n", m)
			}
			if i == 0 && th == r.threads[len(r.threads)-1] {
				if keySize, valueSize, headers, err = recordShape(kafka.k.Brokers(), fmt.Sprintf("s%d%d.bench.t", i, th), int64(r.rows/2)); err != nil {
					return nil, err
				}
			}
			r.first[th] = append(r.first[th], tl.first.Seconds())
			r.exit[th] = append(r.exit[th], tl.exit.Seconds())
			if os.Getenv("BENCH_BROKER_THREADS") != "" {
				printThreadCPU(threadsBefore, threadCPU(kafka.pid()))
			}
			r.broker[th] = append(r.broker[th], broker)
			r.mariadb[th] = append(r.mariadb[th], mdb)
			r.rates[th] = append(r.rates[th], rate)
			r.rss[th] = append(r.rss[th], rss)
			r.cpu[th] = append(r.cpu[th], cpu)
		}
		rate, err := selectRate(conn, r.rows)
		if err != nil {
			return nil, err
		}
		fmt.Printf("  plain SELECT                 run %d: %8.0f rows/s\n", i+1, rate)
		r.selects = append(r.selects, rate)
		f, err := floorRun(srv, r.rows, keySize, valueSize, headers)
		if err != nil {
			return nil, fmt.Errorf("floor: %w", err)
		}
		fmt.Printf("  floor (SELECT + produce)     run %d: %8.0f rows/s, %.1f s CPU (Apache Kafka %.1f s, MariaDB %.1f s); records of %d+%d bytes, %d headers\n",
			i+1, f.rate, f.cpu, f.broker, f.mdb, keySize, valueSize, len(headers))
		r.floor = append(r.floor, f)
	}
	for i := range o.dbzRuns {
		mdb := cpuSeconds(srv.Pid())
		m, err := debeziumSnapshotRun(srv, dir, i, r.rows)
		if err != nil {
			return nil, fmt.Errorf("debezium snapshot: %w", err)
		}
		fmt.Printf("  snapshot, Debezium           run %d: %8.0f rows/s, peak RSS %5.1f MiB, %.1f s CPU (Apache Kafka %.1f s, MariaDB %.1f s)\n", i+1, m.rate, m.rssMiB, m.cpu, m.broker, cpuSeconds(srv.Pid())-mdb)
		r.dbz = append(r.dbz, m)
	}
	return r, nil
}

func (r *snapshotResult) print() {
	fmt.Printf("\ninitial snapshot of %d rows (snapshot.mode=initial_only, JSON without schemas), medians\n", r.rows)
	fmt.Printf("%-30s %12s %10s %14s %28s\n", "variant", "rows/s", "peak RSS", "vs SELECT", "CPU s/M: rivulet Kafka MariaDB")
	sel := median(r.selects)
	perM := float64(r.rows) / 1e6
	for _, th := range r.threads {
		rss := 0.0
		for _, v := range r.rss[th] {
			rss = max(rss, v)
		}
		fmt.Printf("%-30s %12.0f %6.0f MiB %14.2f %16.1f %5.1f %7.1f\n", fmt.Sprintf("snapshot, %d thread(s)", th), median(r.rates[th]), rss, median(r.rates[th])/sel,
			median(r.cpu[th])/perM, median(r.broker[th])/perM, median(r.mariadb[th])/perM)
	}
	fmt.Printf("%-30s %12.0f %10s %14.2f\n", "plain SELECT (go-mysql)", sel, "-", 1.0)
	fl := medianFloor(r.floor)
	if len(r.floor) > 0 {
		fmt.Printf("%-30s %12.0f %10s %14.2f %16.1f %5.1f %7.1f\n", "floor: SELECT + produce", fl.rate, "-", fl.rate/sel, fl.cpu/perM, fl.broker/perM, fl.mdb/perM)
		fmt.Printf("  (floor: one streaming SELECT, each row produced as one record of %d+%d bytes and %d headers, the shape of Rivulet's, with Rivulet's producer\n"+
			"   settings to a topic created beforehand: no decoding, no envelope, no start-up; what any go-mysql + franz-go connector is bounded by here)\n",
			fl.keyBytes, fl.valSize, fl.headers)
	}
	for _, th := range r.threads {
		fmt.Printf("  %d thread(s): %.0f ms from process start to its first record, %.0f ms from the last acknowledged record to its exit\n",
			th, 1000*median(r.first[th]), 1000*median(r.exit[th]))
	}
	if len(r.dbz) == 0 {
		return
	}
	d := medianRun(r.dbz)
	fmt.Printf("\nsnapshot side by side: Debezium 3.6.1 MySqlConnector (Kafka Connect standalone, initial_only) vs Rivulet, %d rows, same table, same broker\n", r.rows)
	fmt.Printf("%-30s %12s %16s %10s\n", "", "rows/s", "CPU s/M rows", "peak RSS")
	fmt.Printf("%-30s %12.0f %16.1f %6.0f MiB\n", "debezium", d.rate, d.cpuPerMillion(r.rows), d.rssMiB)
	for _, th := range r.threads {
		rate, cpu, rss := median(r.rates[th]), median(r.cpu[th]), slices.Max(r.rss[th])
		cpuM := cpu / (float64(r.rows) / 1e6)
		fmt.Printf("%-30s %12.0f %16.1f %6.0f MiB\n", fmt.Sprintf("rivulet, %d thread(s)", th), rate, cpuM, rss)
		fmt.Printf("%-30s %11.1f× %15.2f× %9.2f×   (target: ≥20× rows/s, ≤0.10× memory)\n", "  rivulet / debezium", rate/d.rate, cpuM/d.cpuPerMillion(r.rows), rss/d.rssMiB)
	}
	if len(r.floor) > 0 {
		fmt.Printf("%-30s %12.0f %16.1f   (floor / debezium %.1f×: the bound of the ratio on this machine)\n", "floor: SELECT + produce", fl.rate, fl.cpu/(float64(r.rows)/1e6), fl.rate/d.rate)
	}
}

// topUp inserts rows with ids from..to-1.
func topUp(conn *client.Conn, from, to, txRows int) error {
	var b strings.Builder
	for lo := from; lo < to; lo += txRows {
		b.Reset()
		b.WriteString("INSERT INTO bench.t VALUES ")
		for id := lo; id < min(lo+txRows, to); id++ {
			if id > lo {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "(%d,%d,'name-%d',%d.%02d,'2026-11-21 10:00:00.%03d',0)", id, id*7, id, id, id%100, id%1000)
		}
		if _, err := conn.Execute(b.String()); err != nil {
			return err
		}
	}
	return nil
}

// timeLine is one snapshot run seen from the bench: process start, the
// first record on the topic, the last one acknowledged, the process's exit.
type timeLine struct {
	first, last time.Duration // from process start
	stamp       time.Duration // the first record's timestamp, from process start
	exit        time.Duration // from the last record; -1: still running after 10 s
	rows        int
	begin       time.Time
	log         string  // Rivulet's log file
	machine     float64 // cores busy machine-wide (every process) from start to the last record
	// broker is the broker's CPU seconds by phase: deleting the last run's
	// topics, Rivulet's start-up to its first record, first to last
	// record, after the last record until the process exited.
	broker [4]float64
}

// machineBusy returns the CPU seconds the whole machine spent not idle
// (/proc/stat: every field but idle and iowait, and guest time, which
// user time already counts; steal counts as busy: the cores were not ours).
func machineBusy() float64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	busy := 0.0
	for i, v := range f[1:] {
		if i == 3 || i == 4 || i >= 8 { // idle, iowait, guest, guest_nice
			continue
		}
		n, _ := strconv.ParseFloat(v, 64)
		busy += n
	}
	return busy / 100
}

// milestones reads the time of Rivulet's log lines (text format, time=…)
// and returns, relative to process start, when it logged its first line,
// started the snapshot, created the table's topic, completed the
// snapshot, and its last line.
func (t timeLine) milestones() string {
	b, err := os.ReadFile(t.log)
	if err != nil {
		return ""
	}
	marks := []struct{ name, needle string }{
		{"first log line", ""}, {"snapshot started", `msg="initial snapshot started`},
		{"first chunk read", `msg="chunk read"`}, {"table topic created", `msg="created topic" component=sink topic=` + "PREFIX.bench.t"},
		{"snapshot complete", `msg="initial snapshot complete"`}, {"flushing", `msg=flushing`}, {"last log line", "LAST"},
	}
	var out []string
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	at := func(line string) (time.Duration, bool) {
		v, ok := strings.CutPrefix(line, "time=")
		if !ok || len(v) < 24 {
			return 0, false
		}
		ts, err := time.Parse(time.RFC3339Nano, v[:strings.IndexByte(v, ' ')])
		if err != nil {
			return 0, false
		}
		return ts.Sub(t.begin), true
	}
	for _, m := range marks {
		needle := strings.ReplaceAll(m.needle, "PREFIX", strings.TrimSuffix(filepath.Base(t.log), ".log"))
		for i, line := range lines {
			if needle == "LAST" {
				line = lines[len(lines)-1-i]
			} else if !strings.Contains(line, needle) {
				continue
			}
			if d, ok := at(line); ok {
				out = append(out, fmt.Sprintf("%s %d ms", m.name, d.Milliseconds()))
				break
			}
		}
	}
	return strings.Join(out, ", ")
}

func (t timeLine) String() string {
	steady := float64(t.rows) / (t.last - t.first).Seconds()
	exit := "no exit within 10 s"
	if t.exit >= 0 {
		exit = fmt.Sprintf("exit +%d ms", t.exit.Milliseconds())
	}
	return fmt.Sprintf("start → first record %d ms (its timestamp %d ms) → last acknowledged %d ms (%.0f rows/s between), %s",
		t.first.Milliseconds(), t.stamp.Milliseconds(), t.last.Milliseconds(), steady, exit)
}

// firstStamp returns the timestamp of topic's first record: when Rivulet
// handed it to its producer (CreateTime), which the polling of end offsets
// sees only later.
func firstStamp(brokers []string, topic string) time.Time {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().At(0)}}))
	if err != nil {
		return time.Time{}
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		if rs := cl.PollRecords(ctx, 1).Records(); len(rs) > 0 {
			return rs[0].Timestamp
		}
	}
	return time.Time{}
}

// snapshotRun snapshots bench.t and returns rows/s to acknowledged records.
func snapshotRun(o options, srv *testenv.Server, dir, prefix string, threads, want int) (rate, rssMiB, cpu float64, tl timeLine, err error) {
	b0 := cpuSeconds(kafka.pid())
	brokers, err := kafka.fresh()
	if err != nil {
		return 0, 0, 0, tl, err
	}
	b1 := cpuSeconds(kafka.pid())
	tl.broker[0] = b1 - b0
	var th [3]map[string][2]float64 // broker threads at start, first record, last record
	diag := os.Getenv("BENCH_BATCHES") != ""
	if diag {
		th[0] = threadCPU(kafka.pid())
	}
	cfgFile, metricsAddr, err := writeConfig(dir, prefix, srv, brokers, filepath.Join(dir, prefix+".offsets.json"), false, benchCompression,
		map[string]string{"snapshot.mode": "initial_only", "snapshot.max.threads": strconv.Itoa(threads)})
	if err != nil {
		return 0, 0, 0, tl, err
	}
	adm, cl, err := admin(brokers)
	if err != nil {
		return 0, 0, 0, tl, err
	}
	defer cl.Close()
	if os.Getenv("BENCH_PRECREATE") != "" {
		// For diagnosis: what creating the table's topic on the first
		// record's path costs (Rivulet then finds it and creates nothing).
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := adm.CreateTopic(ctx, 1, 1, nil, prefix+".bench.t")
		cancel()
		if err != nil {
			return 0, 0, 0, tl, fmt.Errorf("pre-create topic: %w", err)
		}
	}
	stopRecording := kafka.recordBroker(prefix)
	busy0 := machineBusy()
	begin := time.Now()
	proc, err := startRivulet(o.rivulet, cfgFile, filepath.Join(dir, prefix+".log"))
	if err != nil {
		return 0, 0, 0, tl, err
	}
	defer stopProcess(proc)
	if cpu := os.Getenv("BENCH_CPU"); cpu != "" {
		// One second: the process exits when the snapshot is done.
		go saveProfile(metricsAddr, "profile?seconds=1", cpu+"."+prefix)
	}
	if tr := os.Getenv("BENCH_GOTRACE"); tr != "" {
		// For diagnosis, with a binary that serves /debug/pprof/trace.
		go saveProfile(metricsAddr, "trace?seconds=2", tr+"."+prefix)
	}
	topic := prefix + ".bench.t"
	for {
		n, err := endOffset(adm, topic)
		if err == nil && n > 0 && tl.first == 0 {
			tl.first = time.Since(begin)
			b2 := cpuSeconds(kafka.pid())
			tl.broker[1], b1 = b2-b1, b2
			if diag {
				th[1] = threadCPU(kafka.pid())
			}
		}
		if err == nil && n >= int64(want) {
			break
		}
		// initial_only exits when done: read the last RSS before it goes.
		if !alive(proc) {
			if n2, _ := endOffset(adm, topic); n2 >= int64(want) {
				if tl.first == 0 {
					tl.first = time.Since(begin)
				}
				break
			}
			return 0, 0, 0, tl, fmt.Errorf("rivulet exited with %d of %d rows; log: %s", n, want, tail(filepath.Join(dir, prefix+".log")))
		}
		if time.Since(begin) > 5*time.Minute {
			return 0, 0, 0, tl, fmt.Errorf("only %d of %d rows after 5 minutes", n, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
	elapsed := time.Since(begin)
	stopRecording()
	b2 := cpuSeconds(kafka.pid())
	tl.broker[2], b1 = b2-b1, b2
	if diag {
		th[2] = threadCPU(kafka.pid())
	}
	rssMiB, cpu = procUsage(proc)
	tl.last, tl.rows, tl.exit, tl.begin, tl.log = elapsed, want, -1, begin, filepath.Join(dir, prefix+".log")
	tl.stamp = firstStamp(brokers, topic).Sub(begin)
	tl.machine = (machineBusy() - busy0) / elapsed.Seconds()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if !alive(proc) {
			tl.exit = time.Since(begin) - elapsed
			break
		}
	}
	tl.broker[3] = cpuSeconds(kafka.pid()) - b1
	if os.Getenv("BENCH_BATCHES") != "" {
		fmt.Printf("    (broker CPU: %.2f s deleting the last run's topics, %.2f s to the first record, %.2f s first to last record, %.2f s to exit)\n",
			tl.broker[0], tl.broker[1], tl.broker[2], tl.broker[3])
		printBatchShape("snapshot", topic)
		printBatchShape("history", prefix+".history")
		printBatchShape("schema changes", prefix)
		if th[1] != nil {
			fmt.Println("    broker threads, start to first record:")
			printThreadCPU(th[0], th[1])
			fmt.Println("    broker threads, first to last record:")
			printThreadCPU(th[1], th[2])
		}
	}
	if os.Getenv("BENCH_LOG") != "" {
		// For diagnosis: keep Rivulet's log (BENCH_LOG=path prefix).
		if b, err := os.ReadFile(filepath.Join(dir, prefix+".log")); err == nil {
			_ = os.WriteFile(os.Getenv("BENCH_LOG")+"."+prefix+".log", b, 0o644)
		}
	}
	return float64(want) / elapsed.Seconds(), rssMiB, cpu, tl, nil
}

// selectRate reads every row of bench.t with one streaming SELECT.
func selectRate(conn *client.Conn, want int) (float64, error) {
	begin := time.Now()
	n := 0
	var res mysql.Result
	err := conn.ExecuteSelectStreaming("SELECT * FROM bench.t", &res, func(row []mysql.FieldValue) error {
		n++
		return nil
	}, nil)
	if err != nil {
		return 0, err
	}
	if n < want {
		return 0, fmt.Errorf("SELECT returned %d rows, want %d", n, want)
	}
	return float64(n) / time.Since(begin).Seconds(), nil
}

// medianFloor is the floor run with the median rate.
func medianFloor(runs []floorResult) floorResult {
	if len(runs) == 0 {
		return floorResult{}
	}
	s := slices.Clone(runs)
	slices.SortFunc(s, func(a, b floorResult) int { return cmp.Compare(a.rate, b.rate) })
	return s[len(s)/2]
}
