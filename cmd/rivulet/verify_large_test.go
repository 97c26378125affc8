package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rivulet-cdc/rivulet/internal/testenv"
)

// largeRows is the table size of TestVerify_Large: RIVULET_VERIFY_ROWS
// (`make test-verify-large` sets 1,000,000), 0 when unset.
func largeRows() int {
	n, _ := strconv.Atoi(os.Getenv("RIVULET_VERIFY_ROWS"))
	return n
}

// verifyWith runs bin's `verify` with args and returns its output, exit
// code and peak RSS in MiB.
func verifyWith(t *testing.T, bin, cfg string, args ...string) (string, int, int64) {
	t.Helper()
	began := time.Now()
	cmd := exec.Command(bin, append([]string{"verify", "--config", cfg, "--work-dir", t.TempDir()}, args...)...)
	out, rss, err := runPeak(cmd)
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	t.Logf("rivulet verify %s: exit %d in %s, peak RSS %d MiB\n%s", strings.Join(args, " "), code, time.Since(began).Round(time.Millisecond), rss, out)
	return string(out), code, rss
}

// seedSeq creates items with rows rows (ids 0, 2, 4, ...: startWriter's
// shape) in transactions of 100,000 rows.
func seedSeq(t *testing.T, e *e2eEnv, rows int) {
	e.srv.Exec(t, e.db, `CREATE TABLE items (id INT PRIMARY KEY, n INT NOT NULL, s VARCHAR(40))`)
	for lo := 0; lo < rows; lo += 100000 {
		hi := min(lo+100000, rows) - 1
		e.srv.Exec(t, e.db, fmt.Sprintf("INSERT INTO items SELECT seq * 2, 0, CONCAT('row ', seq) FROM seq_%d_to_%d", lo, hi))
	}
}

// TestVerify_Large is the figure: tables of RIVULET_VERIFY_ROWS
// rows (1,000,000 in `make test-verify-large`; skipped when unset, it
// takes minutes) verified equal after a streaming run and after a snapshot
// taken under concurrent writes, while a writer keeps changing the table
// (no false difference) and after it stopped. The binary is built without
// the race detector (the figures are the product's, and -race would make
// the run take an hour).
func TestVerify_Large(t *testing.T) {
	rows := largeRows()
	if rows == 0 {
		t.Skip("RIVULET_VERIFY_ROWS unset: run `make test-verify-large` (1,000,000 rows, several minutes)")
	}
	check := func(t *testing.T, e *e2eEnv, cfg string, stopWriter func() int) {
		t.Helper()
		out, code, _ := verifyWith(t, e.bin, cfg, "--tables", e.db+".items")
		if code != 0 {
			t.Fatalf("verify while the writer runs: exit %d, want 0 (no false difference)", code)
		}
		wantLines(t, out, "instance: running at", "): EQUAL")
		t.Logf("writer ran %d transactions", stopWriter())
		out, code, rss := verifyWith(t, e.bin, cfg, "--tables", e.db+".items")
		if code != 0 {
			t.Fatalf("verify after the writes: exit %d, want 0", code)
		}
		wantLines(t, out, "): EQUAL", "keys missing from the topic:  0")
		t.Logf("peak RSS of verify over %d rows: %d MiB", rows, rss)
	}
	t.Run("streaming", func(t *testing.T) {
		e := newE2E(t)
		e.bin = testenv.Rivulet(t)
		cfg := e.config(t, map[string]string{"table.include.list": e.db + `\.items`, "log.level": "info"})
		in := e.start(t, cfg)
		seedSeq(t, e, rows)
		stop := startWriter(t, e, rows, 200*time.Microsecond)
		check(t, e, cfg, stop)
		in.stop()
	})
	t.Run("snapshot under writes", func(t *testing.T) {
		e := newE2E(t)
		e.bin = testenv.Rivulet(t)
		seedSeq(t, e, rows)
		cfg := e.config(t, map[string]string{"table.include.list": e.db + `\.items`, "log.level": "info",
			"snapshot.mode": "initial"})
		in := e.start(t, cfg)
		stop := startWriter(t, e, rows, 200*time.Microsecond)
		waitLogWithin(t, in, "initial snapshot complete", 15*time.Minute)
		check(t, e, cfg, stop)
		in.stop()
	})
}

// waitLogWithin waits up to d until the log holds a line containing s.
func waitLogWithin(t *testing.T, in *instance, s string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !strings.Contains(in.log.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("log has no %q after %s", s, d)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
