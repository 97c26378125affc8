package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rivulet-cdc/rivulet/internal/testenv"
)

// runBinary runs rivulet with args and returns its combined output and exit code.
func runBinary(t *testing.T, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(rivuletBinary(t), args...)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.As(err, &ee):
		return string(out), ee.ExitCode()
	default:
		t.Fatal(err)
		return "", -1
	}
}

func TestCLI_InvalidConfigExitsTwo(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.properties")
	if err := os.WriteFile(path, []byte("database.hostname=db\ndatabase.port=abc\ntopic.prefix=x\ntasks.max=1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, code := runBinary(t, "run", "--config", path)
	if code != 2 {
		t.Fatalf("exit code %d, want 2; output:\n%s", code, out)
	}
	if !strings.Contains(out, `database.port: "abc"`) {
		t.Errorf("the error does not name key and value:\n%s", out)
	}
	if _, code := runBinary(t, "run"); code != 2 {
		t.Errorf("run without --config: exit %d, want 2", code)
	}
}

func TestCLI_Check(t *testing.T) {
	e := newE2E(t)
	cfg := e.config(t, map[string]string{"tasks.max": "1"})
	out, code := runBinary(t, "check", "--config", cfg)
	if code != 0 {
		t.Fatalf("check exit %d, want 0:\n%s", code, out)
	}
	for _, name := range []string{"connection", "binlog_format", "binlog_row_image", "privileges", "kafka"} {
		if !regexp.MustCompile(`(?m)^PASS\s+` + regexp.QuoteMeta(name)).MatchString(out) {
			t.Errorf("no PASS line for %s:\n%s", name, out)
		}
	}
	if !strings.Contains(out, "tasks.max") {
		t.Errorf("unknown key tasks.max not reported:\n%s", out)
	}

	bad := e.config(t, map[string]string{"database.password": "wrong"})
	out, code = runBinary(t, "check", "--config", bad)
	if code != 1 || !regexp.MustCompile(`(?m)^FAIL\s+connection`).MatchString(out) || !strings.Contains(out, "database.password") {
		t.Fatalf("check with a wrong password: exit %d, want 1 and a FAIL line naming the fix:\n%s", code, out)
	}
	// run refuses to start with the same words.
	out, code = runBinary(t, "run", "--config", bad)
	if code != 1 || !strings.Contains(out, "preflight failed: connection") {
		t.Fatalf("run with a wrong password: exit %d, want 1 and the preflight failure:\n%s", code, out)
	}
}

// TestRun_StdoutSink writes envelopes as JSON lines without Kafka.
func TestRun_StdoutSink(t *testing.T) {
	e := newE2E(t)
	e.srv.Exec(t, e.db, `CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10))`)
	path := e.config(t, map[string]string{"sink.type": "stdout", "value.converter.schemas.enable": "false", "key.converter.schemas.enable": "false"})
	cmd := exec.Command(rivuletBinary(t), "run", "--config", path)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var logs testenv.LogBuffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	in := &instance{t: t, cmd: cmd, log: &logs, exited: make(chan struct{})}
	var cfg struct {
		Config map[string]string `json:"config"`
	}
	b, _ := os.ReadFile(path)
	_ = json.Unmarshal(b, &cfg)
	in.metrics = cfg.Config["metrics.listen"]
	in.waitReady()
	e.srv.Exec(t, e.db, `INSERT INTO t VALUES (1, 'a')`)
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	select {
	case line := <-lines:
		var rec struct {
			Topic string          `json:"topic"`
			Key   json.RawMessage `json:"key"`
			Value map[string]any  `json:"value"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("stdout line is not JSON: %s", line)
		}
		if rec.Topic != e.prefix+"."+e.db+".t" || string(rec.Key) != `{"id":1}` || rec.Value["op"] != "c" {
			t.Errorf("stdout record = %s", line)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("no stdout record after 30s\n%s", logs.String())
	}
	_ = cmd.Process.Signal(os.Interrupt)
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGINT: %v\n%s", err, logs.String())
	}
}

// TestRun_ReconnectsAndCounts kills the replication connection on the
// server: rivulet reconnects, counts the disconnect, and loses nothing.
func TestRun_ReconnectsAndCounts(t *testing.T) {
	e := newE2E(t)
	e.srv.Exec(t, e.db, `CREATE TABLE t (id INT PRIMARY KEY)`)
	in := e.start(t, e.config(t, map[string]string{"value.converter.schemas.enable": "false", "key.converter.schemas.enable": "false"}))
	e.srv.Exec(t, e.db, `INSERT INTO t VALUES (1)`)
	consume(t, e.brokers, 1, e.prefix+"."+e.db+".t")

	// The binlog dump thread of our replica shows as a "Binlog Dump" command.
	rows := e.srv.Query(t, "", `SELECT id FROM information_schema.PROCESSLIST WHERE COMMAND LIKE 'Binlog Dump%'`)
	if len(rows) == 0 {
		t.Fatal("no binlog dump thread on the server")
	}
	for _, r := range rows {
		e.srv.Exec(t, "", "KILL CONNECTION "+r[0])
	}
	e.srv.Exec(t, e.db, `INSERT INTO t VALUES (2)`)
	recs := consume(t, e.brokers, 2, e.prefix+"."+e.db+".t")
	if string(recs[len(recs)-1].RawKey) != `{"id":2}` {
		t.Errorf("last record key %s, want {\"id\":2}", recs[len(recs)-1].RawKey)
	}
	if n := metricValue(t, in.metrics, "rivulet_binlog_disconnects_total"); n < 1 {
		t.Errorf("rivulet_binlog_disconnects_total = %v, want >= 1", n)
	}
	in.stop()
}

// metricValue scrapes one unlabelled series from /metrics.
func metricValue(t *testing.T, addr, name string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range bytes.Split(body, []byte("\n")) {
		if f := strings.Fields(string(line)); len(f) == 2 && f[0] == name {
			v, _ := strconv.ParseFloat(f[1], 64)
			return v
		}
	}
	t.Fatalf("series %s not found", name)
	return 0
}
