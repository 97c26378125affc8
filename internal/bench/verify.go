package main

import (
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/client"

	"github.com/rivulet-cdc/rivulet/internal/testenv"
)

// verifyResult holds the `rivulet verify` figures: the rate at which it
// compares a snapshotted table with its topic, and what that costs the
// database per row (rows the server read, bytes it sent, statements).
type verifyResult struct {
	rows                           int
	rates, rss, cpu                []float64
	rowsRead, bytesSent, statement []float64 // per row verified
}

// serverCounters reads the global status counters verify's cost is
// measured with.
func serverCounters(conn *client.Conn) (map[string]float64, error) {
	res, err := conn.Execute("SHOW GLOBAL STATUS WHERE Variable_name LIKE 'Handler_read%' OR Variable_name IN ('Bytes_sent', 'Com_select', 'Com_show_binlog_status', 'Com_show_master_status')")
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for i := range res.Values {
		name, _ := res.GetString(i, 0)
		v, _ := res.GetString(i, 1)
		f, _ := strconv.ParseFloat(v, 64)
		out[name] = f
		if strings.HasPrefix(name, "Handler_read") {
			out["rows_read"] += f // index and table reads of every kind
		}
	}
	return out, nil
}

// verifyBench snapshots bench.t (o.snapshotRows rows, JSON without
// schemas) into the emptied Apache Kafka broker with snapshot.mode=initial_only, then runs
// `rivulet verify` on it o.runs times with no instance running.
func verifyBench(o options, srv *testenv.Server, conn *client.Conn, dir string) (*verifyResult, error) {
	brokers, err := kafka.fresh()
	if err != nil {
		return nil, err
	}
	prefix := "verify"
	cfgFile, _, err := writeConfig(dir, prefix, srv, brokers, filepath.Join(dir, prefix+".offsets.json"), false, benchCompression,
		map[string]string{"snapshot.mode": "initial_only"})
	if err != nil {
		return nil, err
	}
	adm, cl, err := admin(brokers)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	r := &verifyResult{rows: o.snapshotRows}
	fmt.Printf("verify of %d rows: snapshotting them first…\n", r.rows)
	proc, err := startRivulet(o.rivulet, cfgFile, filepath.Join(dir, prefix+".log"))
	if err != nil {
		return nil, err
	}
	defer stopProcess(proc)
	begin := time.Now()
	for {
		n, err := endOffset(adm, prefix+".bench.t")
		if err == nil && n >= int64(r.rows) {
			break
		}
		if time.Since(begin) > 10*time.Minute {
			return nil, fmt.Errorf("only %d of %d rows snapshotted after 10 minutes; log: %s", n, r.rows, tail(filepath.Join(dir, prefix+".log")))
		}
		time.Sleep(50 * time.Millisecond)
	}
	stopProcess(proc)
	for i := range o.runs {
		before, err := serverCounters(conn)
		if err != nil {
			return nil, err
		}
		dbCPU := cpuSeconds(srv.Pid())
		var out bytes.Buffer
		cmd := exec.Command(o.rivulet, "verify", "--config", cfgFile, "--work-dir", dir)
		cmd.Stdout, cmd.Stderr = &out, &out
		t0 := time.Now()
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		// VmHWM while it runs: a child's rusage counts the parent's memory
		// at the fork too.
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		rss := 0.0
	wait:
		for {
			rss = max(rss, peakRSS(cmd.Process.Pid))
			select {
			case err = <-done:
				break wait
			case <-time.After(5 * time.Millisecond):
			}
		}
		elapsed := time.Since(t0)
		if err != nil {
			return nil, fmt.Errorf("rivulet verify: %w\n%s", err, out.String())
		}
		after, err := serverCounters(conn)
		if err != nil {
			return nil, err
		}
		dbCPU = cpuSeconds(srv.Pid()) - dbCPU
		n := float64(r.rows)
		cpu := cmd.ProcessState.UserTime().Seconds() + cmd.ProcessState.SystemTime().Seconds()
		stmts := after["Com_select"] - before["Com_select"] + after["Com_show_binlog_status"] - before["Com_show_binlog_status"] +
			after["Com_show_master_status"] - before["Com_show_master_status"]
		r.rates = append(r.rates, n/elapsed.Seconds())
		r.rss = append(r.rss, rss)
		r.cpu = append(r.cpu, dbCPU)
		r.rowsRead = append(r.rowsRead, (after["rows_read"]-before["rows_read"])/n)
		r.bytesSent = append(r.bytesSent, (after["Bytes_sent"]-before["Bytes_sent"])/n)
		r.statement = append(r.statement, stmts)
		fmt.Printf("  verify                       run %d: %8.0f rows/s, peak RSS %5.1f MiB, verify CPU %.1fs, MariaDB CPU %.1fs, %.0f statements\n",
			i+1, n/elapsed.Seconds(), rss, cpu, dbCPU, stmts)
	}
	return r, nil
}

func (r *verifyResult) print() {
	fmt.Printf("\nverify of %d rows against their topic (JSON without schemas, no instance running), medians\n", r.rows)
	fmt.Printf("%-30s %12.0f rows/s, peak RSS %.0f MiB\n", "rivulet verify", median(r.rates), maxOf(r.rss))
	fmt.Printf("%-30s %12.2f s CPU per million rows, %.2f handler reads (rows and index entries) and %.0f bytes sent per row, %.0f statements\n",
		"cost on MariaDB", median(r.cpu)*1e6/float64(r.rows), median(r.rowsRead), median(r.bytesSent), median(r.statement))
}

func maxOf(xs []float64) float64 {
	m := 0.0
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}
