package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/rivulet-cdc/rivulet/binlog"
	"github.com/rivulet-cdc/rivulet/offsets"
)

// Transactions is the exactly-once side of a sink
// (exactly.once.support=required): the records of several whole batches
// and the offset record of the last one are written in one Kafka
// transaction, so a read_committed consumer sees each change once, whatever
// kills the process.
type Transactions interface {
	// Begin opens a transaction: the records of the following Sends and
	// SendSchemaChanges belong to it.
	Begin() error
	// Commit writes the offset record for end in the open transaction and
	// commits it with every record sent since Begin. nil means they are all
	// committed together; on error nothing of the transaction is visible.
	Commit(ctx context.Context, end offsets.Position) error
	// Abort discards the open transaction (best effort after a failure).
	Abort(ctx context.Context) error
}

// DefaultTransactionEvents bounds the change events of one transaction when
// Config.TransactionEvents is zero.
const DefaultTransactionEvents = 16384

// runTransactional is Run's stage loop when cfg.Transactions is set:
// instead of committing acknowledged positions to the store, every
// transaction carries its own offset. A transaction takes the next batch,
// then every further batch already queued (whole batches, up to
// TransactionEvents change events), so it stays small when the source is
// slow and grows when it is fast.
func runTransactional(ctx context.Context, cfg Config, src Source, snk Sink, start offsets.Position) error {
	log := cfg.Logger
	txs := cfg.Transactions
	maxEvents := cfg.TransactionEvents
	if maxEvents <= 0 {
		maxEvents = DefaultTransactionEvents
	}
	txm := newTxMeta(cfg.TxMetadata)
	counter := newSendCounter(cfg.Observer, cfg.SkippedOperations)
	in := startIntake(ctx, cfg, src, start)
	defer in.release()
	g, gctx, batches := in.g, in.gctx, in.batches

	g.Go(func() error {
		var (
			mu     sync.Mutex
			ackErr error
		)
		ack := func(err error) {
			if err != nil {
				mu.Lock()
				if ackErr == nil {
					ackErr = err
				}
				mu.Unlock()
			}
		}
		acked := func() error {
			mu.Lock()
			defer mu.Unlock()
			if ackErr != nil {
				return fmt.Errorf("sink: %w", ackErr)
			}
			return nil
		}
		send := func(b binlog.Batch) error {
			if err := recordSchema(gctx, cfg, b); err != nil {
				return err
			}
			if len(b.Schema) > 0 && cfg.SchemaChanges != nil {
				if err := cfg.SchemaChanges.SendSchemaChanges(gctx, b.Schema, ddlSource(b.End), ack); err != nil {
					return fmt.Errorf("schema changes: %w", err)
				}
			}
			// BEGIN and END records belong to the Kafka transaction too.
			if err := sendEvents(gctx, txm, counter, snk, &b, ack); err != nil {
				return err
			}
			return acked()
		}
		// transaction writes b and the batches queued behind it; more is
		// false once the source closed the queue.
		transaction := func(b binlog.Batch) (end offsets.Position, more bool, err error) {
			if err := txs.Begin(); err != nil {
				return end, false, fmt.Errorf("begin transaction: %w", err)
			}
			more = true
			end = b.End
			n := len(b.Events)
			err = send(b)
		fill:
			for err == nil && n < maxEvents {
				select {
				case nb, ok := <-batches:
					if !ok {
						more = false
						break fill
					}
					end, n = nb.End, n+len(nb.Events)
					err = send(nb)
				default:
					break fill
				}
			}
			if err == nil {
				err = txs.Commit(gctx, end)
			}
			if err == nil {
				err = acked()
			}
			if err != nil {
				return end, false, errors.Join(err, txs.Abort(gctx))
			}
			if cfg.Observer != nil {
				cfg.Observer.OffsetCommitted(end.File, end.Pos)
			}
			return end, more, nil
		}
		var last offsets.Position
		for b := range batches {
			end, more, err := transaction(b)
			if err != nil {
				return err
			}
			last = end
			if !more {
				break
			}
		}
		if !last.IsZero() {
			log.Info("offsets committed with the last transaction", "position", last.String())
		}
		return nil
	})
	runErr := g.Wait()
	if in.timedOut(ctx) {
		return fmt.Errorf("shutdown timed out after %s: the open transaction was not committed and is re-read on restart", cfg.ShutdownTimeout)
	}
	return runErr
}
