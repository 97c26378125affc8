package main

import (
	"context"
	"errors"
	"log/slog"
	"strings"

	"github.com/rivulet-cdc/rivulet/config"
	"github.com/rivulet-cdc/rivulet/engine"
)

// runCmd runs the pipeline cfg describes until ctx is cancelled (graceful
// stop) or a stage fails. bootstrap.servers=embedded starts the
// in-process development broker first (devkafka.go): it belongs to the
// command, not to the pipeline, which only ever sees its address.
func runCmd(ctx context.Context, cfg *config.Config, log *slog.Logger) (err error) {
	if port, ok := cfg.Kafka.EmbeddedPort(); ok && cfg.Sink == config.SinkKafka {
		kf, err := startDevKafka(port)
		if err != nil {
			return err
		}
		defer kf.Close()
		cfg.Kafka.BootstrapServers = kf.ListenAddrs()
		log.Info("embedded kafka started (in-memory, for development only)", "bootstrap_servers", strings.Join(cfg.Kafka.BootstrapServers, ","))
	}
	p, err := engine.New(ctx, cfg, engine.Options{Logger: log, Version: version})
	if err != nil {
		return err
	}
	return p.Run(ctx)
}

// exitCode maps the error runCmd returned to the exit status: usage for an
// invalid configuration, failure for anything else.
func exitCode(err error) int {
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, config.ErrInvalid):
		return exitUsage
	}
	return exitFailure
}
