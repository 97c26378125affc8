package engine

import (
	"log/slog"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/rivulet-cdc/rivulet/config"
	"github.com/rivulet-cdc/rivulet/sink"
)

// TestNewSink_ProducerSettings shows that Connect's producer keys reach the
// franz-go client the sink produces with, each in the spelling a connector
// or worker file has it: acks, linger.ms, delivery.timeout.ms,
// request.timeout.ms, client.id, buffer.memory (bounded by
// max.queue.size.in.bytes), and idempotence off with acks=1.
func TestNewSink_ProducerSettings(t *testing.T) {
	base := map[string]string{
		"database.hostname": "db", "database.user": "u", "database.server.id": "1", "topic.prefix": "p",
		"schema.history.internal.kafka.topic": "h", "offset.storage.file.filename": "/o", "bootstrap.servers": "127.0.0.1:1",
	}
	for _, tc := range []struct {
		name   string
		kv     map[string]string
		acks   kgo.Acks
		linger time.Duration
		dt     time.Duration
		rt     time.Duration
		id     string
		bytes  int64
		noIdem bool
	}{
		{"defaults", nil, kgo.AllISRAcks(), sink.DefaultLinger, 0, 0, "rivulet-", 2*(8<<20) + 1, false},
		{"connector overrides", map[string]string{
			"producer.override.acks": "1", "producer.override.linger.ms": "25", "producer.override.delivery.timeout.ms": "60000",
			"producer.override.request.timeout.ms": "7000", "producer.override.client.id": "cdc-orders", "producer.override.buffer.memory": "1048576",
		}, kgo.LeaderAck(), 25 * time.Millisecond, time.Minute, 7 * time.Second, "cdc-orders", 2*(1<<20) + 1, true},
		{"worker producer. keys, connector wins", map[string]string{
			"producer.linger.ms": "5", "producer.override.linger.ms": "0", "linger.ms": "9", "producer.buffer.memory": "33554432",
			"max.queue.size.in.bytes": "4194304", "producer.client.id": "w",
		}, kgo.AllISRAcks(), 0, 0, 0, "w", 2*(4<<20) + 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := map[string]string{}
			for k, v := range base {
				m[k] = v
			}
			for k, v := range tc.kv {
				m[k] = v
			}
			cfg, _, err := config.FromMap(m)
			if err != nil {
				t.Fatal(err)
			}
			s, err := newSink(cfg, Options{Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			k := s.(*sink.Kafka)
			defer k.Close()
			cl := k.Client()
			if got := cl.OptValue(kgo.RequiredAcks).(kgo.Acks); got != tc.acks {
				t.Errorf("acks %v, want %v", got, tc.acks)
			}
			if got := cl.OptValue(kgo.ProducerLinger).(time.Duration); got != tc.linger {
				t.Errorf("linger %v, want %v", got, tc.linger)
			}
			if got := cl.OptValue(kgo.RecordDeliveryTimeout).(time.Duration); got != tc.dt {
				t.Errorf("delivery timeout %v, want %v", got, tc.dt)
			}
			if tc.rt != 0 {
				if got := cl.OptValue(kgo.ProduceRequestTimeout).(time.Duration); got != tc.rt {
					t.Errorf("request timeout %v, want %v", got, tc.rt)
				}
			}
			if tc.id == "rivulet-" {
				tc.id += cfg.Name
			}
			if id := cl.OptValue(kgo.ClientID); id != tc.id {
				t.Errorf("client id %v (%T), want %q", id, id, tc.id)
			}
			if got := cl.OptValue(kgo.MaxBufferedBytes).(int64); got != tc.bytes {
				t.Errorf("buffered bytes %d, want %d", got, tc.bytes)
			}
			if got := cl.OptValue(kgo.DisableIdempotentWrite).(bool); got != tc.noIdem {
				t.Errorf("idempotence disabled %v, want %v", got, tc.noIdem)
			}
		})
	}
}
