package engine

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/rivulet-cdc/rivulet/config"
	"github.com/rivulet-cdc/rivulet/metrics"
)

// healthInterval is how often Kafka and the database are checked for /readyz
// and the binlog lag in bytes is measured.
const healthInterval = 5 * time.Second

// pinger is what sink.Kafka offers to check the brokers.
type pinger interface {
	Ping(ctx context.Context) error
}

// watchHealth checks Kafka (Ping) and the database (SHOW BINARY LOGS, which
// also gives the lag in bytes) every healthInterval until ctx is done. State
// changes are logged once, by the metrics.
func watchHealth(ctx context.Context, cfg *config.Config, snk Sink, m *metrics.Stream, log *slog.Logger) {
	p, _ := snk.(pinger)
	var conn *client.Conn
	defer func() {
		if conn != nil {
			_ = conn.Close()
		}
	}()
	t := time.NewTicker(healthInterval)
	defer t.Stop()
	for {
		cctx, cancel := context.WithTimeout(ctx, healthInterval)
		if p != nil {
			err := p.Ping(cctx)
			if err != nil && ctx.Err() == nil {
				log.Debug("kafka check failed", "err", err)
			}
			m.KafkaReachable(err == nil)
		}
		var err error
		if conn == nil {
			// Every read and write bounded: a query on a black-holed connection
			// would otherwise hang this loop (and the shutdown that waits for it).
			d := net.Dialer{Timeout: healthInterval}
			conn, err = mysqlFor(cfg).Connect(cctx, d.DialContext,
				func(c *client.Conn) error { c.ReadTimeout, c.WriteTimeout = healthInterval, healthInterval; return nil })
		}
		if err == nil {
			err = pollBinlog(conn, m)
			var serverErr *mysql.MyError
			if errors.As(err, &serverErr) {
				// The server answered (missing REPLICATION CLIENT, say): it is
				// reachable, only the lag in bytes is unknown.
				log.Debug("SHOW BINARY LOGS failed", "err", err)
				m.SourceStatus(0, -1)
				err = nil
			}
		}
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			log.Debug("database check failed", "err", err)
			m.DatabaseReachable(false)
			if conn != nil {
				_ = conn.Close()
				conn = nil
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// pollBinlog reads SHOW BINARY LOGS and reports the server's end position and
// the bytes between it and what Rivulet has read.
func pollBinlog(conn *client.Conn, m *metrics.Stream) error {
	r, err := conn.Execute("SHOW BINARY LOGS")
	if err != nil {
		return err
	}
	defer r.Close()
	file, pos, ok := m.ReadPosition()
	var lag int64
	found := false
	var end uint64
	for i := range r.RowNumber() {
		name, err := r.GetString(i, 0)
		if err != nil {
			return err
		}
		size, err := r.GetUint(i, 1)
		if err != nil {
			return err
		}
		end = size
		switch c := strings.Compare(name, file); {
		case c == 0:
			found = true
			lag += max(0, int64(size)-int64(pos))
		case c > 0:
			lag += int64(size)
		}
	}
	if !ok || !found {
		lag = -1
	}
	m.SourceStatus(end, lag)
	return nil
}
