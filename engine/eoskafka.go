package engine

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/rivulet-cdc/rivulet/config"
	"github.com/rivulet-cdc/rivulet/offsets"
	"github.com/rivulet-cdc/rivulet/sink"
)

// eosTransactionalID is the sink producer's transactional id under
// exactly.once.support=required ("" otherwise): one per connector, so a
// second instance fences the first.
func eosTransactionalID(cfg *config.Config) string {
	if !cfg.Offsets.ExactlyOnce {
		return ""
	}
	return "rivulet-eos." + cfg.Name + "." + cfg.TopicPrefix
}

// kafkaTransactions writes the offset record of each transaction's last
// batch to offset.storage.topic, under Kafka Connect's key, in the same
// transaction as the batches' records. The sink's partitioner is murmur2 of
// the key, as offsets.KafkaStore's (and Kafka Connect's), so the record
// lands on the partition where the store reads it.
type kafkaTransactions struct {
	k     *sink.Kafka
	topic string
	key   []byte
}

func (t *kafkaTransactions) Begin() error { return t.k.BeginTransaction() }

func (t *kafkaTransactions) Commit(ctx context.Context, end offsets.Position) error {
	return t.k.CommitTransaction(ctx, &kgo.Record{Topic: t.topic, Key: t.key, Value: offsets.MarshalValue(end)})
}

func (t *kafkaTransactions) Abort(ctx context.Context) error { return t.k.AbortTransaction(ctx) }

// newTransactions returns the engine's transactions under
// exactly.once.support=required, nil otherwise. It initializes the
// transactional producer first, which fences an older instance and aborts
// the transaction a killed one left open.
func newTransactions(ctx context.Context, cfg *config.Config, snk Sink, log *slog.Logger) (Transactions, error) {
	if !cfg.Offsets.ExactlyOnce {
		return nil, nil
	}
	k, ok := snk.(*sink.Kafka)
	if !ok {
		return nil, fmt.Errorf("%w: exactly.once.support=required needs the Kafka sink", config.ErrInvalid)
	}
	if err := k.InitTransactions(ctx); err != nil {
		return nil, err
	}
	log.Info("exactly-once: each batch and its offset are written in one Kafka transaction",
		"transactional_id", eosTransactionalID(cfg), "offsets_topic", cfg.Offsets.Topic)
	return &kafkaTransactions{k: k, topic: cfg.Offsets.Topic, key: offsets.Key(cfg.Name, cfg.TopicPrefix)}, nil
}
