package engine

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/rivulet-cdc/rivulet/schema"
)

// TestProgress_Lines reads a table in chunks over a pinned clock: one line
// per table at most every interval, with rows of the estimate, rate, ETA
// and chunks; the totals once the table is done; a table without an
// estimate gets no percentage or ETA; a negative interval logs totals only.
func TestProgress_Lines(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}))
	clk := time.Unix(1_700_000_000, 0)
	p := newProgress(log, 30*time.Second, func() time.Time { return clk })
	p.estimate(map[string]int64{"db.a": 10000})
	a := &schema.Table{DB: "db", Name: "a"}
	b := &schema.Table{DB: "db", Name: "b"}
	ctx := context.Background()
	for i := range 10 { // 10 chunks of 100 rows, 5 s apart
		p.chunk(ctx, a, 100)
		if i == 0 {
			p.chunk(ctx, b, 7)
		}
		clk = clk.Add(5 * time.Second)
	}
	p.tableDone(ctx, a)
	clk = clk.Add(40 * time.Second)
	p.chunk(ctx, b, 7)
	p.tableDone(ctx, b)
	want := []string{
		// chunk 7 at +30s: 700 rows in 30 s, 9300 to go at 23.3/s.
		`level=INFO msg="snapshot progress" table=db.a rows=700 rows_estimated=10000 percent=7.0% eta=6m39s rows_per_sec=23 chunks=7 elapsed=30s`,
		`level=INFO msg="table snapshot complete" table=db.a rows=1000 chunks=10 rows_per_sec=20 took=50s`,
		`level=INFO msg="snapshot progress" table=db.b rows=14 rows_per_sec=0 chunks=2 elapsed=1m30s`,
		`level=INFO msg="table snapshot complete" table=db.b rows=14 chunks=2 rows_per_sec=0 took=1m30s`,
	}
	got := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	buf.Reset()
	q := newProgress(log, -1, func() time.Time { return clk })
	for range 5 {
		q.chunk(ctx, a, 1)
		clk = clk.Add(time.Minute)
	}
	q.tableDone(ctx, a)
	if n := strings.Count(buf.String(), "\n"); n != 1 || !strings.Contains(buf.String(), "table snapshot complete") {
		t.Errorf("interval < 0: want the totals line only, got:\n%s", buf.String())
	}
}
