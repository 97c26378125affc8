package config

import (
	"errors"
	"slices"
	"testing"
)

func TestFromMap_Signal(t *testing.T) {
	tests := []struct {
		name string
		kv   []string
		want Signal
	}{
		{"none", nil, Signal{}},
		{"table", []string{"signal.data.collection", "inventory.debezium_signal"},
			Signal{DataCollection: "inventory.debezium_signal", Source: true}},
		{"kafka only", []string{"signal.enabled.channels", "kafka"},
			Signal{Kafka: true, KafkaTopic: "dbserver1-signal"}},
		{"both", []string{"signal.data.collection", "db.s", "signal.enabled.channels", "source,kafka",
			"signal.kafka.topic", "sig", "signal.kafka.bootstrap.servers", "k1:9092,k2:9092", "signal.kafka.groupId", "g"},
			Signal{DataCollection: "db.s", Source: true, Kafka: true, KafkaTopic: "sig", KafkaBootstrapServers: []string{"k1:9092", "k2:9092"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := mustFromMap(t, with(tt.kv...))
			g := c.Signal
			if g.DataCollection != tt.want.DataCollection || g.Source != tt.want.Source || g.Kafka != tt.want.Kafka ||
				g.KafkaTopic != tt.want.KafkaTopic || !slices.Equal(g.KafkaBootstrapServers, tt.want.KafkaBootstrapServers) {
				t.Errorf("Signal = %+v, want %+v", g, tt.want)
			}
		})
	}
	for _, kv := range [][]string{
		{"signal.enabled.channels", "source,jmx"},
		{"signal.data.collection", "nodot"},
	} {
		if _, _, err := FromMap(with(kv...)); err == nil {
			t.Errorf("%v accepted", kv)
		} else if kv[1] == "source,jmx" && !errors.Is(err, ErrUnsupported) {
			t.Errorf("%v: %v, want ErrUnsupported", kv, err)
		}
	}
}
