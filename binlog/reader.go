package binlog

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/rivulet-cdc/rivulet/offsets"
)

// Reader streams row changes from a MySQL or MariaDB binlog as a replica.
// A Reader holds configuration only; each Run has its own state, and one
// Reader may serve Start and Run calls one after another.
type Reader struct {
	cfg Config
	log *slog.Logger
	obs Observer
	// instance is the host name reported when registering as a replica.
	instance string
}

// NewReader validates cfg, applies defaults and returns a Reader. It does not
// connect.
func NewReader(cfg Config) (*Reader, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	r := &Reader{cfg: c, log: c.Logger.With("component", "binlog"), obs: c.Observer, instance: newInstanceName()}
	if r.obs == nil {
		r.obs = nopObserver{}
	}
	return r, nil
}

// serverInfo is what Start learns about the server.
type serverInfo struct {
	flavor   string
	gtidMode bool // MySQL gtid_mode=ON; MariaDB always has GTIDs
}

// Start connects, detects the flavor and resolves pos into the position Run
// will stream from, which it returns: a zero pos becomes the current end of
// the binlog (SHOW MASTER STATUS, with @@gtid_executed on MySQL with
// gtid_mode=ON and BINLOG_GTID_POS on MariaDB); a MariaDB position holding
// only a file and offset gets its GTID state. Other positions come back
// unchanged. The engine calls Start to learn where streaming begins (to
// record it before a snapshot, say) and passes the result to Run; Run
// resolves a zero position itself when given one.
func (r *Reader) Start(ctx context.Context, pos offsets.Position) (offsets.Position, error) {
	p, _, err := r.resolve(ctx, pos)
	return p, err
}

func (r *Reader) addr() string {
	return net.JoinHostPort(r.cfg.Host, strconv.Itoa(r.cfg.Port))
}

// query opens a plain SQL connection.
func (r *Reader) query(ctx context.Context) (*client.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.ConnectTimeout)
	defer cancel()
	d := net.Dialer{Timeout: r.cfg.ConnectTimeout}
	c, err := r.cfg.Connector.Connect(ctx, d.DialContext)
	if err != nil {
		return nil, mapServerError(fmt.Errorf("connect to %s: %w", r.addr(), err), "")
	}
	return c, nil
}

func (r *Reader) resolve(ctx context.Context, pos offsets.Position) (offsets.Position, serverInfo, error) {
	var info serverInfo
	c, err := r.query(ctx)
	if err != nil {
		return pos, info, err
	}
	defer c.Close()
	str := func(q string, args ...any) (string, error) {
		res, err := c.Execute(q, args...)
		if err != nil {
			return "", err
		}
		defer res.Close()
		if res.Resultset == nil || res.RowNumber() == 0 {
			return "", nil
		}
		return cloned(res.GetString(0, 0))
	}
	info.flavor = r.cfg.Flavor
	if info.flavor == "" {
		v, err := str("SELECT VERSION()")
		if err != nil {
			return pos, info, mapServerError(fmt.Errorf("detect server flavor: %w", err), "")
		}
		info.flavor = FlavorMySQL
		if strings.Contains(strings.ToLower(v), "mariadb") {
			info.flavor = FlavorMariaDB
		}
	}
	if info.flavor == FlavorMariaDB {
		info.gtidMode = true
	} else if m, err := str("SELECT @@GLOBAL.gtid_mode"); err == nil && strings.EqualFold(m, "ON") {
		info.gtidMode = true
	}

	if pos.IsZero() {
		res, err := c.Execute("SHOW MASTER STATUS")
		if err != nil {
			res, err = c.Execute("SHOW BINARY LOG STATUS") // MySQL 8.4 dropped the old name
		}
		if err != nil {
			return pos, info, mapServerError(fmt.Errorf("read the current binlog position: %w", err), "")
		}
		defer res.Close()
		if res.Resultset == nil || res.RowNumber() == 0 {
			return pos, info, &Error{Kind: ErrUnsupported, Msg: "the server has no binary log",
				Hint: "enable it with log_bin (and binlog_format=ROW, binlog_row_image=FULL) in the server configuration and restart the server"}
		}
		file, _ := cloned(res.GetString(0, 0))
		off, _ := res.GetUint(0, 1)
		pos = offsets.Position{File: file, Pos: off}
		if info.flavor == FlavorMySQL && info.gtidMode {
			if g, err := cloned(res.GetStringByName(0, "Executed_Gtid_Set")); err == nil {
				pos.GTIDSet = strings.ReplaceAll(g, "\n", "")
			}
		}
	}
	if info.flavor == FlavorMariaDB && pos.GTIDSet == "" && pos.File != "" {
		g, err := str("SELECT BINLOG_GTID_POS(?, ?)", pos.File, pos.Pos)
		if err != nil {
			return pos, info, mapServerError(fmt.Errorf("read the GTID position of %s:%d: %w", pos.File, pos.Pos, err), posString(pos))
		}
		pos.GTIDSet = g
	}
	return pos, info, nil
}

func posString(p offsets.Position) string {
	s := p.File + ":" + strconv.FormatUint(p.Pos, 10)
	if p.GTIDSet != "" {
		s += " gtids " + p.GTIDSet
	}
	if p.Event > 0 || p.Row > 0 {
		s += fmt.Sprintf(" (skip %d events, %d rows)", p.Event, p.Row)
	}
	return s
}

// Run streams from start until ctx is cancelled or a fatal error occurs,
// sending one Batch per committed transaction that produced change events,
// partial batches inside transactions larger than Config.MaxBatchSize, and
// empty batches that only move the position (see Config.PositionInterval).
// Batches are sent in binlog order; each send blocks until out accepts it or
// ctx is done. Run does not close out: the caller owns it.
//
// start is a position handed out earlier by this Reader (Batch.End) or by
// Debezium's offsets, or zero for the current end of the binlog. With Event
// or Row set, that many rows events (then rows) of the first transaction are
// skipped: they were delivered before the restart.
//
// Retryable failures (network, server restart, timeouts) are retried with
// capped exponential backoff from the last position handed out; each is
// reported to Observer.Disconnected. Run returns nil when stopped through
// ctx, at a transaction boundary: no partial transaction is sent after the
// cancellation. It returns an *Error wrapping one of the sentinels for a
// fatal failure. Every goroutine it starts has returned when it returns.
func (r *Reader) Run(ctx context.Context, start offsets.Position, out chan<- Batch) error {
	backoff := r.cfg.ReconnectMin
	attempt := 0
	var s *stream
	wasUp := true // log the first failure
	for {
		var err error
		if s == nil {
			var pos offsets.Position
			var info serverInfo
			pos, info, err = r.resolve(ctx, start)
			if err == nil {
				s = r.newStream(pos, info)
				r.log.Info("binlog start position", slog.String(keyFlavor, info.flavor),
					slog.String(keyBinlogFile, pos.File), slog.Uint64(keyBinlogPos, pos.Pos),
					slog.String("gtids", pos.GTIDSet), slog.Int64("skip_events", pos.Event))
			}
		}
		if err == nil {
			err = r.stream(ctx, s, out)
			if s.connected {
				attempt, backoff = 0, r.cfg.ReconnectMin
			}
		}
		if ctx.Err() != nil {
			return nil
		}
		pos := ""
		if s != nil {
			pos = posString(s.resumePosition())
		} else {
			pos = posString(start)
		}
		err = mapServerError(err, pos)
		if !IsRetryable(err) {
			return err
		}
		r.obs.Disconnected(err)
		attempt++
		if s != nil && s.connected || wasUp {
			r.log.Warn("binlog connection lost, reconnecting", slog.Any("error", err),
				slog.String("resume", pos), slog.Duration(keyBackoff, backoff))
		} else {
			r.log.Debug("binlog reconnect failed", slog.Any("error", err), slog.Int(keyAttempt, attempt))
		}
		wasUp = false
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		backoff = min(2*backoff, r.cfg.ReconnectMax)
	}
}

func (r *Reader) newStream(pos offsets.Position, info serverInfo) *stream {
	s := &stream{
		r:       r,
		cfg:     &r.cfg,
		log:     r.log,
		obs:     r.obs,
		flavor:  info.flavor,
		mariadb: info.flavor == FlavorMariaDB,
		resume:  pos,
	}
	// The GTID state is known when the start position carries it; otherwise
	// positions stay file/offset only (MySQL without gtid_mode, or a stored
	// position without GTIDs).
	// MariaDB's state is the last GTID per domain, so after resolve (which
	// asks BINLOG_GTID_POS) it is always known, even when empty.
	s.track = info.flavor == FlavorMariaDB || info.gtidMode && pos.GTIDSet != ""
	return s
}

// stream runs one replication connection until it fails or ctx is done.
func (r *Reader) stream(ctx context.Context, s *stream, out chan<- Batch) error {
	pos := s.resumePosition()
	s.resume = pos
	s.pending = nil
	if err := s.reset(); err != nil {
		return err
	}
	s.stash = newRowsStash()
	if err := r.checkServerID(ctx); err != nil {
		return err
	}
	dialer := &net.Dialer{Timeout: r.cfg.ConnectTimeout, KeepAlive: 30 * time.Second}
	user, password, tlsConfig, err := r.cfg.Connector.Replication(ctx)
	if err != nil {
		return mapServerError(fmt.Errorf("connect to %s: %w", r.addr(), err), "")
	}
	syncer := replication.NewBinlogSyncer(replication.BinlogSyncerConfig{
		ServerID:            r.cfg.ServerID,
		Flavor:              s.flavor,
		Host:                r.cfg.Host,
		Port:                uint16(r.cfg.Port),
		User:                user,
		Password:            password,
		TLSConfig:           tlsConfig,
		Localhost:           r.instance,
		Logger:              slog.New(minLevel{slog.LevelWarn, r.log.With("component", "go-mysql").Handler()}),
		HeartbeatPeriod:     r.cfg.HeartbeatPeriod,
		ReadTimeout:         r.cfg.ReadTimeout,
		DisableRetrySync:    true, // Run owns retries, from the positions it handed out
		DiscardGTIDSet:      true, // the stream keeps its own GTID state
		RowsEventDecodeFunc: s.stash.decode,
		EventCacheCount:     r.cfg.EventBuffer,
		FillZeroLogPos:      s.mariadb,
		Dialer: func(dctx context.Context, network, address string) (net.Conn, error) {
			// Dial under ctx too, so a stop does not wait for a dead server.
			dctx, cancel := context.WithCancel(dctx)
			defer cancel()
			stop := context.AfterFunc(ctx, cancel)
			defer stop()
			return dialer.DialContext(dctx, network, address)
		},
	})
	defer syncer.Close()

	var st *replication.BinlogStreamer
	useGTID := s.track && pos.GTIDSet != ""
	if useGTID {
		var set mysql.GTIDSet
		if set, err = mysql.ParseGTIDSet(s.flavor, pos.GTIDSet); err != nil {
			return &Error{Kind: ErrConfig, Msg: "parse the GTID set of position " + posString(pos), Err: err}
		}
		st, err = syncer.StartSyncGTID(set)
	} else {
		if pos.File == "" {
			return &Error{Kind: ErrConfig, Msg: "position " + posString(pos) + " has neither a usable GTID set nor a binlog file"}
		}
		st, err = syncer.StartSync(mysql.Position{Name: pos.File, Pos: uint32(pos.Pos)})
	}
	if err != nil {
		return fmt.Errorf("start replication from %s: %w", posString(pos), err)
	}

	// flush holds a deadline for handing out a pending position while no
	// event arrives (Config.PositionInterval).
	var flush struct {
		ctx    context.Context
		cancel context.CancelFunc
	}
	stopFlush := func() {
		if flush.cancel != nil {
			flush.cancel()
			flush.ctx, flush.cancel = nil, nil
		}
	}
	defer stopFlush()
	for {
		wait := ctx
		if s.pending != nil {
			if flush.ctx == nil {
				flush.ctx, flush.cancel = context.WithDeadline(ctx, s.pendingSince.Add(r.cfg.PositionInterval))
			}
			wait = flush.ctx
		} else {
			stopFlush()
		}
		ev, err := st.GetEvent(wait)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if flush.ctx != nil && flush.ctx.Err() != nil {
				stopFlush()
				if err := s.flushPending(ctx, out); err != nil {
					return err
				}
				continue
			}
			return err
		}
		if !s.connected {
			s.connected = true
			r.obs.Connected()
			r.log.Info("binlog connected", slog.String(keyFlavor, s.flavor), slog.Uint64(keyServerID, uint64(r.cfg.ServerID)),
				slog.String("from", posString(pos)))
		}
		h := ev.Header
		next := uint64(h.LogPos)
		start := next - uint64(h.EventSize)
		if next < uint64(h.EventSize) {
			start = next
		}
		if err := s.handle(ctx, ev, start, next, out); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
	}
}

// minLevel is a slog.Handler that drops records below a level (go-mysql
// logs every connection step at Info).
type minLevel struct {
	min slog.Level
	h   slog.Handler
}

func (m minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= m.min && m.h.Enabled(ctx, l)
}

// Handle logs go-mysql's records at WARN at most: what it calls an error (a
// dropped connection) is the Reader's to retry or return, and the one ERROR
// line of a failure is the caller's (RELIABILITY I4).
func (m minLevel) Handle(ctx context.Context, r slog.Record) error {
	r.Level = min(r.Level, slog.LevelWarn)
	return m.h.Handle(ctx, r)
}
func (m minLevel) WithAttrs(a []slog.Attr) slog.Handler {
	return minLevel{m.min, m.h.WithAttrs(a)}
}
func (m minLevel) WithGroup(n string) slog.Handler { return minLevel{m.min, m.h.WithGroup(n)} }
