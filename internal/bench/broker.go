package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/rivulet-cdc/rivulet/internal/testenv"
)

// broker is the one Apache Kafka 4.3 broker (KRaft, single node, JVM flags
// of Kafka's own scripts) every variant of the run produces to, Rivulet's
// and Debezium's alike.
type broker struct {
	k   *testenv.KRaftCluster
	cl  *kgo.Client
	adm *kadm.Client
}

func startBroker() (*broker, error) {
	k, err := testenv.LaunchApacheKafka(testenv.KafkaForBenchmark(),
		// Deleted topics' files go at once: every run starts on an empty broker.
		testenv.KafkaProperty("file.delete.delay.ms", "1000"),
		testenv.KafkaProperty("num.io.threads", "4"),
		testenv.KafkaProperty("num.network.threads", "3"))
	if err != nil {
		return nil, fmt.Errorf("start Apache Kafka: %w", err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers()...))
	if err != nil {
		_ = k.Close()
		return nil, err
	}
	return &broker{k: k, cl: cl, adm: kadm.NewClient(cl)}, nil
}

func (b *broker) close() {
	b.cl.Close()
	_ = b.k.Close()
}

// pid is the broker JVM's process id, for its CPU seconds.
func (b *broker) pid() int { return b.k.PID(1) }

// fresh deletes every topic but Kafka's own (__consumer_offsets,
// __transaction_state) and waits until they are gone, so that a run's
// end offsets count only its own records; it returns the seed brokers.
// It asks the broker each time: kadm's ListTopics answers from the client's
// metadata cache, which kept listing no topics after runs had created some.
func (b *broker) fresh() ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for {
		resp, err := kmsg.NewPtrMetadataRequest().RequestWith(ctx, b.cl)
		if err != nil {
			return nil, fmt.Errorf("list topics: %w", err)
		}
		var ours []string
		for _, t := range resp.Topics {
			if t.Topic != nil && !t.IsInternal && !strings.HasPrefix(*t.Topic, "__") {
				ours = append(ours, *t.Topic)
			}
		}
		if len(ours) == 0 {
			return b.k.Brokers(), nil
		}
		if _, err := b.adm.DeleteTopics(ctx, ours...); err != nil {
			return nil, fmt.Errorf("delete topics %v: %w", ours, err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("topics %v not deleted: %w", ours, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}
