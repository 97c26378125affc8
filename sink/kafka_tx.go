package sink

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// ErrFenced matches a transactional sink that a newer producer with the same
// KafkaConfig.TransactionalID took over: another instance of the connector.
var ErrFenced = errors.New("kafka sink fenced by a newer producer with the same transactional id")

// InitTransactions initializes the transactional producer: it fences any
// older producer with the same id and aborts the transaction it left open
// (a process killed mid-transaction), so that read_committed consumers are
// not held back by it.
func (k *Kafka) InitTransactions(ctx context.Context) error {
	if _, _, err := k.cl.ProducerID(ctx); err != nil {
		return fmt.Errorf("initialize transactional producer %q: %w", k.cfg.TransactionalID, k.fenced(err))
	}
	return nil
}

// BeginTransaction opens a transaction; the records of the following Sends
// belong to it until CommitTransaction or AbortTransaction.
func (k *Kafka) BeginTransaction() error {
	if err := k.state(); err != nil {
		return err
	}
	if err := k.cl.BeginTransaction(); err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	return nil
}

// CommitTransaction produces extra (such as an offset record) in the open
// transaction, waits for every record of it and commits. It returns nil
// only once the transaction is committed; on any failure it aborts the
// transaction (nothing of it becomes visible to read_committed consumers)
// and returns the error.
func (k *Kafka) CommitTransaction(ctx context.Context, extra ...*kgo.Record) error {
	err := k.state()
	for _, r := range extra {
		if err != nil {
			break
		}
		err = k.cl.ProduceSync(ctx, r).FirstErr()
		if err != nil {
			err = classifyProduceError(r, err)
		}
	}
	if err == nil {
		err = k.Flush(ctx)
	}
	if err == nil {
		if err = k.cl.EndTransaction(ctx, kgo.TryCommit); err == nil {
			return nil
		}
	}
	return errors.Join(fmt.Errorf("commit transaction: %w", k.fenced(err)), k.AbortTransaction(ctx))
}

// AbortTransaction drops the records not yet sent and aborts the open
// transaction (best effort: a transaction left open is aborted by the next
// producer with the same id, or by Kafka after its timeout).
func (k *Kafka) AbortTransaction(ctx context.Context) error {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := k.cl.AbortBufferedRecords(actx); err != nil {
		return fmt.Errorf("abort transaction: %w", err)
	}
	if err := k.cl.EndTransaction(actx, kgo.TryAbort); err != nil && !errors.Is(err, kerr.ProducerFenced) {
		return fmt.Errorf("abort transaction: %w", k.fenced(err))
	}
	return nil
}

// fenced marks errors that mean another producer took over the id.
func (k *Kafka) fenced(err error) error {
	if errors.Is(err, kerr.ProducerFenced) || errors.Is(err, kerr.InvalidProducerEpoch) {
		return fmt.Errorf("%w %q (another instance of this connector started): %w", ErrFenced, k.cfg.TransactionalID, err)
	}
	return err
}
