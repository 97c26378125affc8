package testenv

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"
)

// Kafka starts an in-process Kafka cluster (kfake) for the calling test and
// returns its seed brokers ("127.0.0.1:port"). The cluster is closed at
// t.Cleanup. See KafkaCluster for the defaults and for scripting failures.
func Kafka(t testing.TB) []string {
	t.Helper()
	return KafkaCluster(t).ListenAddrs()
}

// KafkaCluster starts a kfake cluster closed at t.Cleanup and returns it, so
// a test can script failures (ControlKey) or move partitions. Defaults: one
// broker on an ephemeral 127.0.0.1 port and auto.create.topics.enable=true
// with one partition per new topic. As with a real broker, a topic is only
// auto-created for a client that asks (kgo.AllowAutoTopicCreation()); other
// clients get UNKNOWN_TOPIC_OR_PARTITION until the topic is created (kadm).
// opts come after the defaults and override
// them (kfake.NumBrokers(3), kfake.DefaultNumPartitions(4), kfake.SeedTopics ...).
func KafkaCluster(t testing.TB, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	all := append([]kfake.Opt{
		kfake.NumBrokers(1),
		kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(1),
	}, opts...)
	c, err := kfake.NewCluster(all...)
	if err != nil {
		t.Fatalf("start kfake cluster: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}
