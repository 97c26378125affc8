package engine

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/rivulet-cdc/rivulet/config"
	"github.com/rivulet-cdc/rivulet/sink/avro"
)

// heartbeat produces Debezium's heartbeat records every heartbeat.interval.ms
// to <topic.heartbeat.prefix>.<topic.prefix> (HeartbeatImpl; schemas from
// SchemaFactory: key io.debezium.connector.common.ServerNameKey {serverName},
// value io.debezium.connector.common.Heartbeat {ts_ms}). Consumers and
// monitoring see that the connector is alive while the captured tables are
// idle; the stored position itself moves on empty batches the binlog reader
// hands out for transactions on other tables, so a quiet table does not let
// it fall behind binlog retention. A failed heartbeat is logged, not fatal.
type heartbeat struct {
	cl       *kgo.Client
	topic    string
	key      []byte
	schemas  bool
	interval time.Duration
	log      *slog.Logger
	// avro, with the Avro converter, registers and encodes the records
	// (avro.go); nil: JSON.
	avro   avro.SchemaRegistrar
	server string
}

func newHeartbeat(cfg *config.Config, log *slog.Logger) (*heartbeat, error) {
	opts, err := KafkaOpts(cfg, config.RoleProducer, kgo.SeedBrokers(cfg.Kafka.BootstrapServers...), kgo.ClientID("rivulet-"+cfg.Name+"-heartbeat"),
		kgo.RecordDeliveryTimeout(cfg.HeartbeatInterval+10*time.Second))
	if err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, err
	}
	reg, err := avroHeartbeatRegistry(cfg, log) // nil unless AvroConverter (avro.go)
	if err != nil {
		cl.Close()
		return nil, err
	}
	return &heartbeat{
		avro:     reg,
		server:   cfg.TopicPrefix,
		cl:       cl,
		topic:    cfg.HeartbeatTopicPrefix + "." + cfg.TopicPrefix,
		key:      heartbeatKey(cfg.TopicPrefix, cfg.KeyConverter.SchemasEnable),
		schemas:  cfg.ValueConverter.SchemasEnable,
		interval: cfg.HeartbeatInterval,
		log:      log,
	}, nil
}

// heartbeatKey is the record key: {"serverName":"<prefix>"}, with its schema
// when key.converter.schemas.enable is on.
func heartbeatKey(prefix string, schemas bool) []byte {
	b := []byte(nil)
	if schemas {
		b = append(b, `{"schema":{"type":"struct","fields":[{"type":"string","optional":false,"field":"serverName"}],"optional":false,"name":"io.debezium.connector.common.ServerNameKey","version":1},"payload":`...)
	}
	b = append(b, `{"serverName":`...)
	b = strconv.AppendQuote(b, prefix) // topic.prefix holds only [A-Za-z0-9._-]
	b = append(b, '}')
	if schemas {
		b = append(b, '}')
	}
	return b
}

// heartbeatValue is the record value: {"ts_ms":<now>}, with its schema when
// value.converter.schemas.enable is on.
func heartbeatValue(tsMs int64, schemas bool) []byte {
	b := make([]byte, 0, 200)
	if schemas {
		b = append(b, `{"schema":{"type":"struct","fields":[{"type":"int64","optional":false,"field":"ts_ms"}],"optional":false,"name":"io.debezium.connector.common.Heartbeat","version":1},"payload":`...)
	}
	b = append(b, `{"ts_ms":`...)
	b = strconv.AppendInt(b, tsMs, 10)
	b = append(b, '}')
	if schemas {
		b = append(b, '}')
	}
	return b
}

// Run produces a heartbeat every interval until ctx is done.
func (h *heartbeat) Run(ctx context.Context) error {
	defer h.cl.Close()
	adm := kadm.NewClient(h.cl)
	if _, err := adm.CreateTopic(ctx, 1, -1, nil, h.topic); err != nil && !errors.Is(err, kerr.TopicAlreadyExists) && ctx.Err() == nil {
		h.log.Warn("cannot create the heartbeat topic; relying on auto-creation", "topic", h.topic, "err", err)
	}
	t := time.NewTicker(h.interval)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		rec := &kgo.Record{Topic: h.topic, Key: h.key, Value: heartbeatValue(time.Now().UnixMilli(), h.schemas)}
		var err error
		if h.avro != nil {
			rec.Key, rec.Value, err = avro.Heartbeat(ctx, h.avro, h.topic, h.server, time.Now().UnixMilli())
		}
		if err == nil {
			err = h.cl.ProduceSync(ctx, rec).FirstErr()
		}
		switch {
		case err != nil && ctx.Err() == nil && !failing:
			h.log.Warn("heartbeat not produced", "topic", h.topic, "err", err)
			failing = true
		case err == nil && failing:
			h.log.Info("heartbeats produced again", "topic", h.topic)
			failing = false
		}
	}
}
