package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/rivulet-cdc/rivulet/config"
)

// version is set at build time (-ldflags "-X main.version=...").
var version = "0.1.0-dev"

const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "version", "--version", "-version":
		fmt.Fprintf(stdout, "rivulet %s\n", version)
		return exitOK
	case "run", "check":
	case "offsets":
		return offsetsCmd(rest, stdout, stderr)
	case "schema":
		return schemaCmd(rest, stdout, stderr)
	case "status":
		return statusCmd(rest, stdout, stderr)
	case "verify":
		return verifyCmd(rest, stdout, stderr)
	case "dev-kafka":
		return devKafkaCmd(rest, stdout, stderr)
	case "help", "-h", "--help":
		usage(stdout)
		return exitOK
	default:
		fmt.Fprintf(stderr, "rivulet: unknown command %q\n", cmd)
		usage(stderr)
		return exitUsage
	}

	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "connector configuration: Debezium JSON ({\"name\":..., \"config\":{...}}) or .properties")
	worker := fs.String("worker", "", workerUsage)
	if err := fs.Parse(rest); err != nil {
		return exitUsage
	}
	cfg, log, code := loadConfig(stderr, cmd, *path, *worker, true)
	if code != exitOK {
		return code
	}

	ctx, stop := signalContext(log)
	defer stop()
	if cmd == "check" {
		return checkCmd(ctx, cfg, stdout)
	}
	err := runCmd(ctx, cfg, log)
	if err != nil {
		log.Error("rivulet stopped", "err", err)
	}
	return exitCode(err)
}

// workerUsage is the --worker flag's help.
const workerUsage = "Kafka Connect worker properties (connect-distributed.properties): bootstrap.servers, security, offset.storage.topic; the connector's keys override the worker's, as in Connect"

// loadConfig reads --worker (optional) then --config for the command named
// cmd and builds its logger. A non-zero code is the exit status: usage for a
// missing flag or an invalid configuration, failure for an unreadable file.
// Warnings (unknown keys, deprecated names) are logged when warn is set,
// and printed before the errors of an invalid configuration.
func loadConfig(stderr io.Writer, cmd, path, worker string, warn bool) (*config.Config, *slog.Logger, int) {
	if path == "" {
		fmt.Fprintf(stderr, "rivulet %s: --config is required (the Debezium connector JSON or .properties file)\n", cmd)
		return nil, nil, exitUsage
	}
	load := func() (*config.Config, []config.Warning, error) { return config.Load(path) }
	if worker != "" {
		load = func() (*config.Config, []config.Warning, error) { return config.LoadWithWorker(worker, path) }
	}
	cfg, warnings, err := load()
	if err != nil {
		for _, w := range warnings {
			fmt.Fprintf(stderr, "rivulet: warning: %s\n", w.Message)
		}
		fmt.Fprintf(stderr, "rivulet: %v\n", err)
		if errors.Is(err, config.ErrInvalid) {
			return nil, nil, exitUsage
		}
		return nil, nil, exitFailure
	}
	log := newLogger(stderr, cfg)
	if warn {
		for _, w := range warnings {
			log.Warn(w.Message, "keys", w.Keys)
		}
	}
	return cfg, log, exitOK
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: rivulet <command> [flags]

commands:
  run   --config FILE [--worker WORKER]
                        stream binlog changes to Kafka until SIGTERM
  check --config FILE [--worker WORKER]
                        preflight the database and Kafka, one line per check
  offsets show|set|reset --config FILE
                        show or change the stored binlog position (rivulet offsets -h)
  schema show|history --config FILE
                        print the tracked tables at the stored offset, or the recorded DDL
  status --config FILE [--json]
                        the running instance's phase, snapshot progress, lag, queue,
                        offsets, last DDL and error (exit 3 when none runs)
  verify --config FILE [--tables db.t,...] [--repair]
                        compare each captured table with the state its topic implies
                        (exit 0 equal, 1 different); --repair re-sends the differing keys
  version               print the version

FILE is the Debezium MySQL connector JSON as POSTed to Kafka Connect, or a
.properties file with the same keys. WORKER is the Kafka Connect worker
properties file (connect-distributed.properties) where bootstrap.servers,
the security settings and offset.storage.topic usually live; the
connector's keys override the worker's, as in Connect.
`)
}

func newLogger(w io.Writer, cfg *config.Config) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == config.LogJSON {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// signalContext is cancelled by the first SIGTERM/SIGINT (graceful stop); a
// second signal exits at once with status 1.
func signalContext(log *slog.Logger) (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	done := make(chan struct{})
	go func() {
		select {
		case s := <-sigs:
			log.Info("signal received: stopping at the next transaction boundary", "signal", s.String())
			cancel()
		case <-done:
			return
		}
		select {
		case s := <-sigs:
			log.Error("second signal: hard stop, unacknowledged records will be re-read on restart", "signal", s.String())
			os.Exit(exitFailure)
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel()
	}
}
