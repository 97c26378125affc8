package engine

import (
	"context"
	"log/slog"
	"math"
	"strconv"
	"time"

	"github.com/rivulet-cdc/rivulet/schema"
)

// DefaultProgressInterval is how often, at most, the snapshot logs one
// progress line per table (rivulet.snapshot.progress.interval.ms).
const DefaultProgressInterval = 30 * time.Second

// progress follows the rows and chunks a snapshot read per table and logs
// one INFO line per table at most every interval (rows of the estimated
// total, rate, ETA, chunks), and the totals when the table is done. It is
// owned by the source loop: no locks.
type progress struct {
	log      *slog.Logger
	interval time.Duration // <= 0: no progress lines (the totals still)
	now      func() time.Time
	est      map[string]int64 // "db.table" -> server estimate; absent: unknown
	tables   map[string]*tableProgress
}

type tableProgress struct {
	rows, chunks  int64
	start, logged time.Time
}

func newProgress(log *slog.Logger, interval time.Duration, now func() time.Time) *progress {
	return &progress{log: log, interval: interval, now: now, est: map[string]int64{}, tables: map[string]*tableProgress{}}
}

// estimate records the server's row estimates (snapshot.EstimateRows).
func (p *progress) estimate(est map[string]int64) {
	for k, v := range est {
		p.est[k] = v
	}
}

// chunk records one chunk of rows read from t and logs a progress line when
// the table's last one is interval old.
func (p *progress) chunk(ctx context.Context, t *schema.Table, rows int) {
	id := t.ID()
	tp := p.tables[id]
	now := p.now()
	if tp == nil {
		tp = &tableProgress{start: now, logged: now}
		p.tables[id] = tp
	}
	tp.rows += int64(rows)
	tp.chunks++
	if p.interval <= 0 || now.Sub(tp.logged) < p.interval {
		return
	}
	tp.logged = now
	attrs := []slog.Attr{slog.String("table", id), slog.Int64("rows", tp.rows)}
	rate := ratePerSec(tp.rows, now.Sub(tp.start))
	if est, ok := p.est[id]; ok {
		attrs = append(attrs, slog.Int64("rows_estimated", est))
		if est > 0 {
			attrs = append(attrs, slog.String("percent", percent(tp.rows, est)))
		}
		if rate > 0 {
			eta := time.Duration(float64(max(0, est-tp.rows)) / rate * float64(time.Second))
			attrs = append(attrs, slog.Duration("eta", eta.Round(time.Second)))
		}
	}
	attrs = append(attrs, slog.Float64("rows_per_sec", math.Round(rate)), slog.Int64("chunks", tp.chunks),
		slog.Duration("elapsed", now.Sub(tp.start).Round(time.Second)))
	p.log.LogAttrs(ctx, slog.LevelInfo, "snapshot progress", attrs...)
}

// tableDone logs the totals of t.
func (p *progress) tableDone(ctx context.Context, t *schema.Table) {
	id := t.ID()
	tp := p.tables[id]
	if tp == nil {
		tp = &tableProgress{start: p.now()}
	}
	took := p.now().Sub(tp.start)
	p.log.LogAttrs(ctx, slog.LevelInfo, "table snapshot complete", slog.String("table", id), slog.Int64("rows", tp.rows),
		slog.Int64("chunks", tp.chunks), slog.Float64("rows_per_sec", math.Round(ratePerSec(tp.rows, took))),
		slog.Duration("took", took.Round(time.Millisecond)))
	delete(p.tables, id)
}

func ratePerSec(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// percent renders n of total as "42.5%"; an estimate can be below the
// rows already read (InnoDB statistics), then it says ">100%".
func percent(n, total int64) string {
	if n > total {
		return ">100%"
	}
	return strconv.FormatFloat(float64(n)*100/float64(total), 'f', 1, 64) + "%"
}
