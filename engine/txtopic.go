package engine

import (
	"context"
	"fmt"

	"github.com/rivulet-cdc/rivulet/config"
	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/sink"
)

// txSender is what sink.Kafka and sink.Stdout offer for transaction metadata.
type txSender interface {
	DataRecords(ev *event.ChangeEvent) int
	SendTransaction(ctx context.Context, topic string, m *event.Transaction, done func(error)) error
}

// txTopicSink binds a sink's transaction records to the transaction topic.
type txTopicSink struct {
	s     txSender
	topic string
}

func (t txTopicSink) DataRecords(ev *event.ChangeEvent) int { return t.s.DataRecords(ev) }

func (t txTopicSink) SendTransaction(ctx context.Context, m *event.Transaction, done func(error)) error {
	return t.s.SendTransaction(ctx, t.topic, m, done)
}

// txMetadataSink returns the engine's transaction metadata sink under
// provide.transaction.metadata=true, nil otherwise: BEGIN/END records go
// to <topic.prefix>.<topic.transaction> through the data sink's producer
// (so under exactly.once.support=required they are in the same Kafka
// transaction as the events).
func txMetadataSink(cfg *config.Config, snk Sink) (TxMetadataSink, error) {
	if !cfg.ProvideTransactionMetadata {
		return nil, nil
	}
	s, ok := snk.(txSender)
	if !ok {
		return nil, fmt.Errorf("%w: provide.transaction.metadata is not supported by sink %T", config.ErrUnsupported, snk)
	}
	return txTopicSink{s: s, topic: sink.TransactionTopic(cfg.TopicPrefix, cfg.TransactionTopic)}, nil
}
