package reliability

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
)

// TestChaos_Randomised is the randomised run (§3 #6 and the DM-chaos /
// zippy style run §3 asks for): a counter workload on three tables mixed
// with DDL (a column added and dropped again), while a fault loop picks at
// random every 1-4 s: SIGKILL of Rivulet, SIGTERM and restart, a mariadbd
// restart, every database connection reset through the proxy, a broker
// stall (requests held, nothing closed) or a broker outage (connections
// reset and refused), each for 1-5 s. Rivulet is supervised like a pod: if
// it stops by itself it is started again (and the reason logged). At the end
// the faults stop, the stream catches up and the validator judges the whole
// run: I1 per table, I3 per key, I2 against every crash window; RSS and
// file descriptors are reported per process lifetime.
//
// RIVULET_CHAOS_DURATION sets the length (default 3m); RIVULET_CHAOS_SEED
// replays a run.
func TestChaos_Randomised(t *testing.T) {
	slow(t)
	dur := 3 * time.Minute
	if d, err := time.ParseDuration(os.Getenv("RIVULET_CHAOS_DURATION")); err == nil && d > 0 {
		dur = d
	}
	seed := rand.Uint64()
	if s := os.Getenv("RIVULET_CHAOS_SEED"); s != "" {
		fmt.Sscan(s, &seed)
	}
	t.Logf("chaos run: %s, seed %d (RIVULET_CHAOS_SEED to replay the fault choices)", dur, seed)
	r := rand.New(rand.NewPCG(seed, 1))

	e := newEnv(t, envOpts{ownServer: true, proxy: true, kfake: true}) // the gate stalls and drops broker connections
	const keys = 30
	tables := e.counterTables(3, keys)
	cfg := e.config(map[string]string{"max.batch.size": "128", "max.queue.size": "1024"})
	p := e.start(cfg, "")

	w := &workload{}
	hasX := map[string]bool{}
	w.extra = func(c *client.Conn, wr *rand.Rand) {
		if wr.IntN(400) != 0 {
			return
		}
		tb := tables[wr.IntN(len(tables))]
		q := "ALTER TABLE " + tb + " ADD COLUMN x INT NOT NULL DEFAULT 5"
		if hasX[tb] {
			q = "ALTER TABLE " + tb + " DROP COLUMN x"
		}
		if res, err := c.Execute(q); err == nil {
			res.Close()
			hasX[tb] = !hasX[tb]
		}
	}
	for _, tb := range tables {
		var b strings.Builder
		fmt.Fprintf(&b, "INSERT INTO %s (id, n) VALUES ", tb)
		for k := range keys {
			if k > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "(%d, 0)", k)
		}
		e.srv.Exec(t, e.db, b.String())
	}
	w.start(e, tables, keys, seed)

	var crashes []Crash
	counts := map[string]int{}
	var maxRSS int64
	var fdsFirst, fdsMax int
	retire := func(p *proc) {
		if p.done() {
			return
		}
		maxRSS = max(maxRSS, p.status("VmHWM"))
		n := p.fds()
		if fdsFirst == 0 {
			fdsFirst = n
		}
		fdsMax = max(fdsMax, n)
	}
	// ensure restarts Rivulet if it stopped by itself, until it is ready.
	ensure := func() {
		for attempt := 0; ; attempt++ {
			if !p.done() && p.ready() {
				return
			}
			if p.done() {
				line, _ := CheckFailure(p.log.String())
				counts["exited by itself"]++
				t.Logf("rivulet exited %d by itself: %s", exitCode(p.err), tail(line, 400))
				crashes = append(crashes, e.crash())
				if attempt > 20 {
					t.Fatalf("rivulet does not come back after %d starts", attempt)
				}
				p = e.launch(cfg, "")
			}
			deadline := time.Now().Add(90 * time.Second)
			for !p.done() && !p.ready() && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond)
			}
			if !p.done() && !p.ready() {
				t.Fatalf("rivulet neither ready nor exited 90 s after a fault\n%s", tail(p.log.String(), 4000))
			}
		}
	}
	hold := func() time.Duration { return time.Duration(1000+r.IntN(4000)) * time.Millisecond }

	end := time.Now().Add(dur)
	for time.Now().Before(end) {
		time.Sleep(time.Duration(1000+r.IntN(3000)) * time.Millisecond) // the workload runs between faults
		ensure()
		switch f := r.IntN(6); f {
		case 0:
			counts["SIGKILL rivulet"]++
			retire(p)
			p.kill()
			crashes = append(crashes, e.crash())
			p = e.launch(cfg, "")
		case 1:
			counts["SIGTERM and restart rivulet"]++
			retire(p)
			_ = p.cmd.Process.Signal(os.Interrupt)
			if code := p.waitExit(90 * time.Second); code != 0 {
				t.Logf("graceful stop exited %d: %s", code, tail(p.log.String(), 400))
				crashes = append(crashes, e.crash())
			}
			p = e.launch(cfg, "")
		case 2:
			counts["restart mariadbd"]++
			e.srv.Restart(t)
		case 3:
			counts["reset database connections"]++
			e.proxy.Reset()
		case 4:
			counts["stall brokers"]++
			e.gate.Stall(true)
			time.Sleep(hold())
			e.gate.Stall(false)
		case 5:
			counts["brokers down"]++
			e.gate.Down(true)
			time.Sleep(hold())
			e.gate.Down(false)
		}
	}
	ensure()
	total := w.stop()
	e.caughtUp(p)
	retire(p)
	p.stop()
	t.Logf("faults: %v; %d transactions; %d crashes", counts, total, len(crashes))
	figure(t, "chaos_transactions", float64(total), "tx")
	figure(t, "chaos_peak_rss_mib", float64(maxRSS)/1024, "MiB")
	// Every fault here is transient: Rivulet should ride them all out. An
	// exit is not a loss (the validator below judges that), but is reported.
	figure(t, "chaos_unexpected_exits", float64(counts["exited by itself"]), "exits")
	t.Logf("file descriptors: %d at the first retirement, at most %d", fdsFirst, fdsMax)
	if fdsMax > 4*max(fdsFirst, 16) {
		t.Errorf("file descriptors grew from %d to %d across restarts", fdsFirst, fdsMax)
	}
	e.checkCounters(e.read(), tables, crashes)
}
