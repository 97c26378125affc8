package engine

import (
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/rivulet-cdc/rivulet/config"
	"github.com/rivulet-cdc/rivulet/sink"
)

// KafkaOpts returns extra followed by the franz-go options of client role
// r (TLS, SASL, client.id, request.timeout.ms), built from the one Kafka
// client setting of cfg. Every Kafka client Rivulet opens takes its
// options from here.
func KafkaOpts(cfg *config.Config, r config.KafkaRole, extra ...kgo.Opt) ([]kgo.Opt, error) {
	o, err := cfg.Kafka.Client(r).Options()
	if err != nil {
		return nil, fmt.Errorf("kafka %s client: %w", r, err)
	}
	return append(extra[:len(extra):len(extra)], o...), nil
}

// producerSettings maps the producer keys (acks, linger.ms, buffer.memory,
// delivery.timeout.ms) and topic.creation.* onto the sink's configuration.
func producerSettings(cfg *config.Config, kc *sink.KafkaConfig) {
	p := cfg.Kafka.Producer
	switch p.Acks {
	case 1:
		kc.Acks = "1"
	case 0:
		kc.Acks = "0"
	}
	kc.NoIdempotence = !p.Idempotent
	if p.LingerSet {
		kc.Linger = p.Linger
		if p.Linger == 0 {
			kc.Linger = -time.Nanosecond // the sink's "no lingering"
		}
	}
	if p.BufferMemory > 0 {
		if cfg.MaxQueueSizeInBytes > 0 {
			kc.MaxBufferedBytes = int(min(p.BufferMemory, cfg.MaxQueueSizeInBytes))
		} else {
			kc.MaxBufferedBytes = int(p.BufferMemory)
		}
	}
	kc.DeliveryTimeout = p.DeliveryTimeout
	tc := cfg.Kafka.TopicCreation
	kc.NoTopicCreation = tc.Disabled
	for _, g := range tc.Groups {
		kc.TopicGroups = append(kc.TopicGroups, sink.TopicGroup{
			Match: g.Matches, Partitions: g.Partitions, Replication: g.ReplicationFactor, Configs: g.Configs,
		})
	}
}
