package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/rivulet-cdc/rivulet/config"
	"github.com/rivulet-cdc/rivulet/engine"
	"github.com/rivulet-cdc/rivulet/metrics"
	"github.com/rivulet-cdc/rivulet/offsets"
)

// exitNotRunning is `rivulet status`'s exit code when no instance answers
// (as `systemctl status` uses 3 for a stopped unit).
const exitNotRunning = 3

// statusCmd prints the state of the running instance of the connector,
// read from its HTTP endpoint (metrics.listen, GET /status); when none
// answers it says so and prints the stored offset.
func statusCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "connector configuration (JSON or .properties)")
	asJSON := fs.Bool("json", false, "print the endpoint's JSON as is")
	worker := fs.String("worker", "", workerUsage)
	addr := fs.String("addr", "", "host:port of the instance's HTTP endpoint (default: from metrics.listen)")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	cfg, _, code := loadConfig(stderr, "status", *path, *worker, false)
	if code != exitOK {
		return code
	}
	target := *addr
	if target == "" {
		target = localAddr(cfg.MetricsListen)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, raw, err := fetchStatus(ctx, target)
	if err != nil {
		fmt.Fprintf(stderr, "rivulet status: no running instance of %q answers at %s (%v)\n", cfg.Name, target, err)
		if *asJSON {
			b, _ := json.Marshal(map[string]any{"connector": cfg.TopicPrefix, "phase": "stopped"})
			fmt.Fprintln(stdout, string(b))
		} else {
			fmt.Fprintf(stdout, "phase:    stopped\n")
			printStoredOffset(cfg, stdout)
		}
		return exitNotRunning
	}
	if *asJSON {
		_, _ = stdout.Write(raw)
		return exitOK
	}
	printStatus(stdout, st, isTerminal(stdout))
	return exitOK
}

// localAddr turns a listen address (":9404", "0.0.0.0:9404") into one to dial.
func localAddr(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// fetchStatus reads GET /status of the instance at addr.
func fetchStatus(ctx context.Context, addr string) (metrics.Status, []byte, error) {
	var st metrics.Status
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+metrics.StatusPath, nil)
	if err != nil {
		return st, nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return st, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return st, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return st, nil, fmt.Errorf("GET %s: %s (an instance older than `rivulet status`, or another server on that port)", metrics.StatusPath, resp.Status)
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		return st, nil, fmt.Errorf("GET %s: %w", metrics.StatusPath, err)
	}
	return st, raw, nil
}

// printStoredOffset prints the stored position when no instance runs.
func printStoredOffset(cfg *config.Config, out io.Writer) {
	if cfg.Offsets.FileFilename == "" && cfg.Kafka.Embedded() {
		return
	}
	store, where, err := engine.NewStore(cfg, newLogger(io.Discard, cfg))
	if err != nil {
		fmt.Fprintf(out, "stored:   unknown (%v)\n", err)
		return
	}
	defer store.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, found, err := store.Load(ctx)
	switch {
	case err != nil:
		fmt.Fprintf(out, "stored:   unknown (%v)\n", err)
	case !found:
		fmt.Fprintf(out, "stored:   none in %s\n", where)
	default:
		fmt.Fprintf(out, "stored:   %s (%s)\n", p, where)
	}
}

// isTerminal reports whether w is a character device (an interactive terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// printStatus renders st: progress bars on a terminal, plain key: value
// lines otherwise.
func printStatus(w io.Writer, st metrics.Status, tty bool) {
	fmt.Fprintf(w, "connector: %s (%s)\n", st.Connector, st.Plugin)
	fmt.Fprintf(w, "phase:     %s (ready: %t)\n", st.Phase, st.Ready)
	sn := st.Snapshot
	switch {
	case sn.Running:
		fmt.Fprintf(w, "snapshot:  running %s, %d of %d tables left\n", secs(sn.DurationSeconds), sn.RemainingTables, sn.TotalTables)
	case sn.Completed:
		fmt.Fprintf(w, "snapshot:  completed in %s (%d tables)\n", secs(sn.DurationSeconds), sn.TotalTables)
	case sn.Aborted:
		fmt.Fprintf(w, "snapshot:  aborted after %s; it resumes on the next start\n", secs(sn.DurationSeconds))
	case sn.Skipped:
		fmt.Fprintf(w, "snapshot:  none (snapshot.mode reads no data)\n")
	default:
		fmt.Fprintf(w, "snapshot:  none this run\n")
	}
	width := 0
	for _, t := range sn.Tables {
		width = max(width, len(t.Table))
	}
	for _, t := range sn.Tables {
		if tty {
			fmt.Fprintf(w, "  %-*s %s\n", width, t.Table, tableLine(t, true))
		} else {
			fmt.Fprintf(w, "table:     %s %s\n", t.Table, tableLine(t, false))
		}
	}
	b := st.Binlog
	fmt.Fprintf(w, "binlog:    %s:%d connected=%t disconnects=%d\n", b.File, b.Pos, b.Connected, b.Disconnects)
	fmt.Fprintf(w, "lag:       %s, %s\n", lagSecs(b.LagSeconds), lagBytes(b.LagBytes))
	q := st.Queue
	fill := 0.0
	if q.Capacity > 0 {
		fill = float64(q.Events) * 100 / float64(q.Capacity)
	}
	fmt.Fprintf(w, "queue:     %d of %d events (%.0f%%)\n", q.Events, q.Capacity, fill)
	o := st.Offsets
	fmt.Fprintf(w, "offsets:   stored %s, acknowledged %s", pos(o.Stored), pos(o.Acknowledged))
	if o.StoredAt != "" {
		fmt.Fprintf(w, " (stored at %s)", o.StoredAt)
	}
	fmt.Fprintln(w)
	if st.LastDDL != nil {
		fmt.Fprintf(w, "last ddl:  %s (%s)\n", oneLine(st.LastDDL.Text), st.LastDDL.At.Format(time.RFC3339))
	} else {
		fmt.Fprintf(w, "last ddl:  none since start\n")
	}
	if st.LastErr != nil {
		fmt.Fprintf(w, "last error: %s (%s)\n", oneLine(st.LastErr.Text), st.LastErr.At.Format(time.RFC3339))
	} else {
		fmt.Fprintf(w, "last error: none since start\n")
	}
}

// tableLine renders one table's progress; bar adds a 30-column bar.
func tableLine(t metrics.TableStatus, bar bool) string {
	var b strings.Builder
	frac := -1.0
	switch {
	case t.Done:
		frac = 1
	case t.Estimated > 0:
		frac = min(1, float64(t.Rows)/float64(t.Estimated))
	}
	if bar {
		const n = 30
		b.WriteByte('[')
		fill := 0
		if frac >= 0 {
			fill = int(frac * n)
		}
		b.WriteString(strings.Repeat("#", fill))
		b.WriteString(strings.Repeat(".", n-fill))
		b.WriteString("] ")
	}
	if frac >= 0 {
		fmt.Fprintf(&b, "%5.1f%% ", frac*100)
	}
	if t.Estimated >= 0 {
		fmt.Fprintf(&b, "rows=%d/~%d", t.Rows, t.Estimated)
	} else {
		fmt.Fprintf(&b, "rows=%d", t.Rows)
	}
	fmt.Fprintf(&b, " rate=%.0f/s chunks=%d", t.RowsPerSecond, t.Chunks)
	switch {
	case t.Done:
		b.WriteString(" done")
	case t.ETASeconds >= 0:
		fmt.Fprintf(&b, " eta=%s", secs(t.ETASeconds))
	default:
		b.WriteString(" eta=unknown")
	}
	return b.String()
}

func secs(s float64) string {
	return (time.Duration(s * float64(time.Second))).Round(time.Second).String()
}

func lagSecs(s float64) string {
	if s < 0 {
		return "unknown seconds (no event yet)"
	}
	return fmt.Sprintf("%.3fs behind the source", s)
}

func lagBytes(n int64) string {
	if n < 0 {
		return "bytes unknown"
	}
	return fmt.Sprintf("%d binlog bytes unread", n)
}

func pos(p metrics.Position) string {
	if p.File == "" {
		return "none"
	}
	return fmt.Sprintf("%s:%d", p.File, p.Pos)
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

var errNoInstance = errors.New("no running instance")

// statusPosition asks the running instance at addr for its stored and
// acknowledged positions (used by verify to wait for the stream).
func statusPosition(ctx context.Context, addr string) (stored offsets.Position, err error) {
	st, _, err := fetchStatus(ctx, addr)
	if err != nil {
		return stored, fmt.Errorf("%w at %s: %w", errNoInstance, addr, err)
	}
	return offsets.Position{File: st.Offsets.Stored.File, Pos: uint64(st.Offsets.Stored.Pos)}, nil
}
