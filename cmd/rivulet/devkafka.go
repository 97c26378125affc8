package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os/signal"
	"strings"
	"syscall"

	"github.com/twmb/franz-go/pkg/kfake"
)

// startDevKafka starts kfake, an in-process broker that speaks the Kafka
// protocol, on 127.0.0.1 at the given port. It keeps records in memory: it is
// for trying Rivulet out (bootstrap.servers=embedded) and for benchmarks, not
// for production.
func startDevKafka(port int) (*kfake.Cluster, error) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(port), kfake.AllowAutoTopicCreation(), kfake.DefaultNumPartitions(1))
	if err != nil {
		return nil, fmt.Errorf("start embedded kafka on 127.0.0.1:%d: %w (is another broker using the port?)", port, err)
	}
	return c, nil
}

// devKafkaCmd runs the embedded broker on its own until SIGTERM/SIGINT, for
// benchmarks that keep the broker out of Rivulet's process.
func devKafkaCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("dev-kafka", flag.ContinueOnError)
	fs.SetOutput(stderr)
	port := fs.Int("port", 9092, "port on 127.0.0.1")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	c, err := startDevKafka(*port)
	if err != nil {
		fmt.Fprintln(stderr, "rivulet dev-kafka:", err)
		return exitFailure
	}
	defer c.Close()
	fmt.Fprintf(stdout, "embedded kafka listening on %s\n", strings.Join(c.ListenAddrs(), ","))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	<-ctx.Done()
	return exitOK
}
