package engine

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/rivulet-cdc/rivulet/binlog"
)

// intake is what both run loops (Run, runTransactional) share: a drain
// context that outlives ctx by at most cfg.ShutdownTimeout, an errgroup under
// it, and the source's context, which ends when ctx is cancelled (a graceful
// stop) or a stage fails. runSource starts the binlog reader under it and
// runs the source loop.
type intake struct {
	drainCtx context.Context
	g        *errgroup.Group
	gctx     context.Context
	srcCtx   context.Context
	release  func()
}

func startIntake(ctx context.Context, cfg Config) *intake {
	drainCtx, cancelDrain := context.WithCancel(context.WithoutCancel(ctx))
	stopTimer := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(cfg.ShutdownTimeout, cancelDrain)
		context.AfterFunc(drainCtx, func() { t.Stop() })
	})
	g, gctx := errgroup.WithContext(drainCtx)
	srcCtx, cancelSrc := context.WithCancel(ctx)
	context.AfterFunc(gctx, cancelSrc)
	return &intake{
		drainCtx: drainCtx, g: g, gctx: gctx, srcCtx: srcCtx,
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
func recordSchema(ctx context.Context, cfg *Config, b *binlog.Batch) error {
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
