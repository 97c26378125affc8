package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/rivulet-cdc/rivulet/binlog"
	"github.com/rivulet-cdc/rivulet/config"
)

// checkCmd prints one line per prerequisite, PASS or FAIL with the fix, and
// returns exitFailure if any failed.
func checkCmd(ctx context.Context, cfg *config.Config, w io.Writer) int {
	results := binlog.Preflight(ctx, preflightConfig(cfg))
	results = append(results, kafkaCheck(ctx, cfg))
	if r, ok := registryCheck(ctx, cfg); ok { // AvroConverter (avro.go)
		results = append(results, r)
	}
	code := exitOK
	for _, r := range results {
		status := "PASS"
		switch {
		case !r.OK:
			status, code = "FAIL", exitFailure
		case r.Warning:
			status = "WARN"
		}
		line := fmt.Sprintf("%s  %-26s %s", status, r.Name, r.Detail)
		if r.Fix != "" && (!r.OK || r.Warning) {
			line += "\n      fix: " + r.Fix
		}
		fmt.Fprintln(w, line)
	}
	return code
}

// kafkaCheck connects to bootstrap.servers and asks for cluster metadata.
func kafkaCheck(ctx context.Context, cfg *config.Config) binlog.CheckResult {
	r := binlog.CheckResult{Name: "kafka"}
	switch {
	case cfg.Sink == config.SinkStdout:
		r.OK, r.Detail = true, "sink.type=stdout: Kafka is not used"
		return r
	case cfg.Kafka.Embedded():
		r.OK, r.Detail = true, "bootstrap.servers=embedded: an in-process broker is started by run"
		return r
	}
	servers := strings.Join(cfg.Kafka.BootstrapServers, ",")
	cl, err := kgo.NewClient(kgo.SeedBrokers(cfg.Kafka.BootstrapServers...), kgo.DialTimeout(5*time.Second))
	if err != nil {
		r.Detail, r.Fix = err.Error(), "check bootstrap.servers"
		return r
	}
	defer cl.Close()
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := cl.Ping(pctx); err != nil {
		r.Detail = fmt.Sprintf("cannot reach %s: %v", servers, err)
		r.Fix = "check bootstrap.servers, that the brokers run, and that this host can reach them"
		return r
	}
	r.OK, r.Detail = true, "reachable at "+servers
	return r
}
