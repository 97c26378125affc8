package sink

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/rivulet-cdc/rivulet/event"
)

// The transports' side of transaction metadata: the records a transaction
// counts (the format's DataRecords) and the BEGIN and END records, as the
// format renders them (sink/debeziumjson's txmeta.go for Debezium JSON).

// DataRecords is the format's DataRecords.
func (k *Kafka) DataRecords(ev *event.ChangeEvent) int { return k.format.DataRecords(ev) }

// SendTransaction produces the BEGIN or END record m to topic (created like
// the data topics), after every record sent before it; done is called once
// it is acknowledged or failed. Under a Kafka transaction it belongs to the
// open transaction, like the change events.
func (k *Kafka) SendTransaction(ctx context.Context, topic string, m *event.Transaction, done func(error)) error {
	if err := k.state(); err != nil {
		done(err)
		return err
	}
	recs, _, err := k.format.AppendTransaction(ctx, make([]Record, 0, 1), make([]byte, 0, 256), topic, m)
	if err != nil {
		done(err)
		return err
	}
	if err := k.ensureTopics(ctx, recs); err != nil {
		done(err)
		return err
	}
	kr := &kgo.Record{Topic: topic, Key: recs[0].Key, Value: recs[0].Value, Context: context.Background()}
	k.cl.Produce(context.Background(), kr, func(_ *kgo.Record, err error) {
		if err != nil {
			err = classifyProduceError(kr, fmt.Errorf("send transaction %s record: %w", m.Status, err))
			k.setFailed(err)
		}
		done(err)
	})
	return nil
}

// DataRecords is the format's DataRecords.
func (s *Stdout) DataRecords(ev *event.ChangeEvent) int { return s.format.DataRecords(ev) }

// SendTransaction writes the BEGIN or END record m for topic as one line.
func (s *Stdout) SendTransaction(ctx context.Context, topic string, m *event.Transaction, done func(error)) error {
	err := s.sendTransaction(ctx, topic, m)
	done(err)
	return err
}

func (s *Stdout) sendTransaction(ctx context.Context, topic string, m *event.Transaction) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	recs, buf, err := s.format.AppendTransaction(ctx, s.recs[:0], s.buf[:0], topic, m)
	if err != nil {
		return err
	}
	out := appendStdoutLine(s.out[:0], &recs[0])
	s.recs, s.buf, s.out = recs, buf, out
	if _, err := s.w.Write(out); err != nil {
		return fmt.Errorf("write records: %w", err)
	}
	return nil
}

// TransactionTopic is the transaction topic's name for a topic prefix and
// topic.transaction (default "transaction"): Debezium's
// AbstractTopicNamingStrategy.transactionTopic joins them with the topic
// delimiter and does not sanitise the result.
func TransactionTopic(prefix, name string) string {
	if name == "" {
		name = "transaction"
	}
	return prefix + "." + name
}
