package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/rivulet-cdc/rivulet/config"
	"github.com/rivulet-cdc/rivulet/schema"
	"github.com/rivulet-cdc/rivulet/snapshot"
)

// signalConfig is the ad-hoc incremental snapshots when a signal channel
// is enabled (signal.data.collection, or kafka in
// signal.enabled.channels); nil otherwise.
func signalConfig(cfg *config.Config, cat snapshot.Catalog, filter *schema.Filter, log *slog.Logger) *SignalConfig {
	sc := cfg.Signal
	if !sc.Source && !sc.Kafka {
		return nil
	}
	scfg := SignalConfig{
		Catalog:  cat,
		Snapshot: SnapshotReader(cfg, log.With("component", "snapshot")),
		MaxBatch: cfg.MaxBatchSize,
		Logger:   log.With("component", "signals"),
	}
	if sc.Source {
		db, name, _ := strings.Cut(sc.DataCollection, ".")
		scfg.SignalTable = schema.TableID{DB: db, Name: name}
		if !filter.Table(db, name) {
			log.Warn("the signal table is not captured: its signals are not seen; add it to table.include.list (as Debezium asks)",
				"signal.data.collection", sc.DataCollection)
		}
	}
	if sc.Kafka {
		brokers := sc.KafkaBootstrapServers
		if len(brokers) == 0 {
			brokers = cfg.Kafka.BootstrapServers
		}
		scfg.Kafka = kafkaSignals(cfg, brokers, sc.KafkaTopic, cfg.TopicPrefix, log.With("component", "signals"))
	}
	return &scfg
}

// withSignalTable adds the signal table to a non-empty table.include.list:
// its INSERTs must be in the stream (and Debezium captures it too).
func withSignalTable(cfg *config.Config, include []string) []string {
	if len(include) == 0 || !cfg.Signal.Source {
		return include
	}
	return append(include[:len(include):len(include)], regexp.QuoteMeta(cfg.Signal.DataCollection))
}

// kafkaSignals reads Debezium's Kafka signal channel: partition 0 of topic,
// records keyed by the topic prefix with a JSON value {"type":...,
// "data":{...}}; records with another key are ignored, as Debezium does.
func kafkaSignals(cfg *config.Config, brokers []string, topic, prefix string, log *slog.Logger) KafkaSignals {
	return func(ctx context.Context, from int64, out chan<- Signal) error {
		opts, err := KafkaOpts(cfg, config.RoleSignalConsumer, kgo.SeedBrokers(brokers...), kgo.ClientID("rivulet-signals"),
			kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().At(from)}}))
		if err != nil {
			return fmt.Errorf("signal.kafka: %w", err)
		}
		cl, err := kgo.NewClient(opts...)
		if err != nil {
			return fmt.Errorf("signal.kafka: %w", err)
		}
		defer cl.Close()
		log.Info("reading the kafka signal channel", "topic", topic, "offset", from)
		for {
			fs := cl.PollFetches(ctx)
			if ctx.Err() != nil || fs.IsClientClosed() {
				return ctx.Err()
			}
			if errs := fs.Errors(); len(errs) > 0 && fs.NumRecords() == 0 {
				for _, e := range errs {
					if !errors.Is(e.Err, context.Canceled) {
						log.Warn("signal topic fetch failed; retrying", "topic", e.Topic, "error", e.Err)
					}
				}
				select { // no busy loop while the brokers are away
				case <-time.After(time.Second):
				case <-ctx.Done():
					return ctx.Err()
				}
				continue
			}
			var sigs []Signal
			fs.EachRecord(func(r *kgo.Record) {
				if string(r.Key) != prefix {
					log.Debug("kafka signal ignored: key is not topic.prefix", "key", string(r.Key), "offset", r.Offset)
					return
				}
				sig, err := parseKafkaSignal(r.Value)
				if err != nil {
					log.Warn("kafka signal ignored", "offset", r.Offset, "error", err)
					return
				}
				sig.KafkaOffset = r.Offset
				sigs = append(sigs, sig)
			})
			for _, sig := range sigs {
				select {
				case out <- sig:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
		}
	}
}
