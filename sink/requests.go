package sink

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// requestCounts counts what the sink's client sent the brokers: requests by
// key and the record batches of its produce requests. Close logs them at
// debug level, so that a run's cost to the brokers (batches per request,
// records per batch, start-up and metadata requests) can be read from its
// log. It is installed only when the logger enables debug: its hooks then
// cost an atomic addition per request and per batch.
type requestCounts struct {
	reqs, bytes      [kmsg.MaxKey + 1]atomic.Int64
	batches, records atomic.Int64
	small            atomic.Int64 // batches of fewer than 100 records
	compressed       atomic.Int64 // batches sent compressed
}

var (
	_ kgo.HookBrokerWrite         = (*requestCounts)(nil)
	_ kgo.HookProduceBatchWritten = (*requestCounts)(nil)
)

func (c *requestCounts) OnBrokerWrite(_ kgo.BrokerMetadata, key int16, n int, _, _ time.Duration, err error) {
	if err != nil || key < 0 || int(key) >= len(c.reqs) {
		return
	}
	c.reqs[key].Add(1)
	c.bytes[key].Add(int64(n))
}

func (c *requestCounts) OnProduceBatchWritten(_ kgo.BrokerMetadata, _ string, _ int32, m kgo.ProduceBatchMetrics) {
	c.batches.Add(1)
	c.records.Add(int64(m.NumRecords))
	if m.NumRecords < 100 {
		c.small.Add(1)
	}
	if m.CompressionType != 0 {
		c.compressed.Add(1)
	}
}

// log writes the counts as one debug line.
func (c *requestCounts) log(l *slog.Logger) {
	var by []string
	for key := range c.reqs {
		if n := c.reqs[key].Load(); n > 0 {
			by = append(by, fmt.Sprintf("%s=%d/%dB", kmsg.NameForKey(int16(key)), n, c.bytes[key].Load()))
		}
	}
	batches, records := c.batches.Load(), c.records.Load()
	l.Log(context.Background(), slog.LevelDebug, "kafka requests sent",
		slog.String("requests", strings.Join(by, " ")), slog.Int64("batches", batches), slog.Int64("records", records),
		slog.Int64("batches_under_100_records", c.small.Load()), slog.Int64("compressed_batches", c.compressed.Load()))
}
