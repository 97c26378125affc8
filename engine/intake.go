package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/rivulet-cdc/rivulet/binlog"
	"github.com/rivulet-cdc/rivulet/offsets"
)

// intake is what both run loops (Run, runTransactional) share: a drain
// context that outlives ctx by at most cfg.ShutdownTimeout, an errgroup under
// it, and the source feeding a bounded queue until ctx is cancelled (a
// graceful stop) or a stage fails (which stops intake too).
type intake struct {
	drainCtx context.Context
	g        *errgroup.Group
	gctx     context.Context
	batches  <-chan binlog.Batch
	release  func()
}

func startIntake(ctx context.Context, cfg Config, src Source, start offsets.Position) *intake {
	drainCtx, cancelDrain := context.WithCancel(context.WithoutCancel(ctx))
	stopTimer := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(cfg.ShutdownTimeout, cancelDrain)
		context.AfterFunc(drainCtx, func() { t.Stop() })
	})
	g, gctx := errgroup.WithContext(drainCtx)
	batches := make(chan binlog.Batch, cfg.QueueBatches)
	srcCtx, cancelSrc := context.WithCancel(ctx)
	context.AfterFunc(gctx, cancelSrc)
	g.Go(func() error {
		defer close(batches)
		err := src.Run(srcCtx, start, batches)
		if err != nil && !errors.Is(err, context.Canceled) {
			return fmt.Errorf("source: %w", err)
		}
		return nil
	})
	return &intake{
		drainCtx: drainCtx, g: g, gctx: gctx, batches: batches,
		release: func() { cancelSrc(); stopTimer(); cancelDrain() },
	}
}

// timedOut reports whether shutdown.timeout cut the drain after ctx ended.
func (in *intake) timedOut(ctx context.Context) bool {
	return in.drainCtx.Err() != nil && ctx.Err() != nil
}

// recordSchema counts the batch, records its DDL in the schema history
// before its position can be committed (RELIABILITY §4), and logs one line
// per DDL (a state change of the model, never per row).
func recordSchema(ctx context.Context, cfg Config, b binlog.Batch) error {
	if cfg.Observer != nil {
		cfg.Observer.BatchQueued(len(b.Events))
	}
	if len(b.Schema) > 0 && cfg.History != nil {
		if err := cfg.History.Record(ctx, b.End, b.Schema); err != nil {
			return fmt.Errorf("schema history: %w", err)
		}
	}
	for _, c := range b.Schema {
		cfg.Logger.Info("DDL applied", "db", c.DB, "ddl", c.DDL, "tables", len(c.Tables), "position", b.End.String())
	}
	return nil
}
