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

// runTransactional is Run's sink side when cfg.Transactions is set:
// instead of committing acknowledged positions to the store, every
// transaction carries its own offset. A transaction takes the batch the
// source loop hands out, then every further one the loop has at hand
// without waiting (whole batches, up to TransactionEvents change events):
// it commits when the loop is about to wait, so it stays small when the
// source is slow and grows when it is fast.
func runTransactional(ctx context.Context, cfg Config, src Source, snk Sink, start offsets.Position) error {
	log := cfg.Logger
	txs := cfg.Transactions
	maxEvents := cfg.TransactionEvents
	if maxEvents <= 0 {
		maxEvents = DefaultTransactionEvents
	}
	txm := newTxMeta(cfg.TxMetadata)
	counter := newSendCounter(cfg.Observer, cfg.SkippedOperations)
	in := startIntake(ctx, cfg)
	defer in.release()
	g, gctx := in.g, in.gctx

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
		var (
			open      bool             // a transaction is open
			n         int              // its change events
			end, last offsets.Position // its end; the last committed
		)
		// abort discards the open transaction after err.
		abort := func(ctx context.Context, err error) error {
			open = false
			return errors.Join(err, txs.Abort(ctx))
		}
		commit := func(ctx context.Context) error {
			if !open {
				return nil
			}
			err := txs.Commit(ctx, end)
			if err == nil {
				err = acked()
			}
			if err != nil {
				return abort(ctx, err)
			}
			open, last = false, end
			if cfg.Observer != nil {
				cfg.Observer.OffsetCommitted(end.File, end.Pos)
			}
			return nil
		}
		deliver := func(ctx context.Context, b binlog.Batch) error {
			if !open {
				if err := txs.Begin(); err != nil {
					return fmt.Errorf("begin transaction: %w", err)
				}
				open, n = true, 0
			}
			err := recordSchema(ctx, &cfg, &b)
			if err == nil && len(b.Schema) > 0 && cfg.SchemaChanges != nil {
				if err = cfg.SchemaChanges.SendSchemaChanges(ctx, b.Schema, ddlSources(&b), ack); err != nil {
					err = fmt.Errorf("schema changes: %w", err)
				}
			}
			if err == nil {
				// BEGIN and END records belong to the Kafka transaction too.
				err = sendEvents(ctx, txm, counter, snk, &b, ack)
			}
			if err == nil {
				err = acked()
			}
			if err != nil {
				return abort(ctx, err)
			}
			end, n = b.End, n+len(b.Events)
			if n >= maxEvents {
				return commit(ctx)
			}
			return nil
		}
		err := runSource(in, cfg, src, start, deliver, commit)
		if err == nil {
			err = commit(gctx) // the source stopped: the open transaction ends
		} else if open {
			err = abort(gctx, err)
		}
		if err != nil {
			return err
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
