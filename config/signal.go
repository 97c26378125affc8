package config

import (
	"fmt"
	"strings"
)

// Signal holds the signalling keys (Debezium's signal.*): where ad-hoc
// incremental snapshots are asked for.
type Signal struct {
	// DataCollection is `signal.data.collection`, "db.table" of the signal
	// table (columns id, type, data); "" means none.
	DataCollection string
	// Source and Kafka say which of `signal.enabled.channels` are on:
	// "source" (the default; set only when DataCollection names a signal
	// table) and "kafka".
	Source, Kafka bool
	// KafkaTopic is `signal.kafka.topic`; default "<topic.prefix>-signal".
	KafkaTopic string
	// KafkaBootstrapServers is `signal.kafka.bootstrap.servers`; default
	// the sink's brokers.
	KafkaBootstrapServers []string
}

// signalKeys are the keys parseSignal reads (for SupportedKeys).
var signalKeys = []string{"signal.data.collection", "signal.enabled.channels", "signal.kafka.topic",
	"signal.kafka.bootstrap.servers", "signal.kafka.groupId", "signal.kafka.poll.timeout.ms"}

func (l *loader) parseSignal(c *Config) {
	s := &c.Signal
	source := true
	l.str("signal.data.collection", &s.DataCollection)
	if s.DataCollection != "" && strings.Count(s.DataCollection, ".") != 1 {
		l.fail(invalid("signal.data.collection", s.DataCollection, "is not <database>.<table>", "name the signal table as database.table"))
	}
	if v, ok := l.take("signal.enabled.channels"); ok {
		source = false
		for _, ch := range strings.Split(v, ",") {
			switch strings.ToLower(strings.TrimSpace(ch)) {
			case "source":
				source = true
			case "kafka":
				s.Kafka = true
			case "":
			default:
				l.fail(unsupported("signal.enabled.channels", v, fmt.Sprintf("remove %q: Rivulet implements the source and kafka channels", strings.TrimSpace(ch))))
			}
		}
	}
	s.Source = source && s.DataCollection != ""
	l.str("signal.kafka.topic", &s.KafkaTopic)
	l.servers("signal.kafka.bootstrap.servers", &s.KafkaBootstrapServers)
	l.take("signal.kafka.groupId")         // Rivulet reads the topic without a consumer group
	l.take("signal.kafka.poll.timeout.ms") // polls are long-lived
	if s.Kafka && s.KafkaTopic == "" {
		s.KafkaTopic = c.TopicPrefix + "-signal"
	}
}
