package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/rivulet-cdc/rivulet/binlog"
	"github.com/rivulet-cdc/rivulet/config"
	"github.com/rivulet-cdc/rivulet/metrics"
	"github.com/rivulet-cdc/rivulet/schema"
	"github.com/rivulet-cdc/rivulet/sink"
)

// Options are what New needs besides the configuration; zero means default.
type Options struct {
	// Logger receives the pipeline's logs, per component. Default: discard.
	Logger *slog.Logger
	// Version is Rivulet's version, written in every record's source block.
	Version string
	// Stdout is where sink.type=stdout writes. Default os.Stdout.
	Stdout io.Writer
}

// Pipeline is the pipeline New assembled from a configuration: source
// (binlog; the initial snapshot and signals run in Run's source loop), sink, offsets store, schema history,
// heartbeats, health checks and the metrics endpoint. Run it once.
type Pipeline struct {
	cfg  *config.Config
	log  *slog.Logger
	loop Config // the run loop's configuration (Run in engine.go)

	src   Source
	snk   Sink
	store OffsetStore
	srv   *metrics.Server
	m     *metrics.Stream
	hb    *heartbeat // nil without heartbeats

	closers []func() error // in the order they run: last opened first
}

// New assembles the pipeline cfg describes. Before anything is read it
// refuses to start, with the setting to fix, on Kafka credentials or trust
// that do not work, on an offsets store another process holds, on a
// failing database prerequisite (the words of `rivulet check`) and on a
// stored position the server cannot continue from. An invalid setting
// found here wraps config.ErrInvalid. On error everything opened is
// released.
func New(ctx context.Context, cfg *config.Config, o Options) (p *Pipeline, err error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	log := o.Logger
	p = &Pipeline{cfg: cfg, log: log}
	defer func() {
		if err != nil {
			err = errors.Join(err, p.close())
			p = nil
		}
	}()

	// Wrong Kafka credentials or trust stop here, naming the key to fix.
	if err := kafkaLogin(ctx, cfg, log); err != nil {
		return p, err
	}
	// One process per connector: refuse before anything is read.
	store, err := openStore(ctx, cfg, log)
	if err != nil {
		return p, err
	}
	p.closers = append(p.closers, store.Close)

	// Refuse to start on a failing prerequisite, with the same words as `rivulet check`.
	if err := preflight(ctx, cfg, log); err != nil {
		return p, err
	}
	var runStore Store
	if runStore, err = checkStart(ctx, cfg, store, log); err != nil {
		return p, err
	}

	reg := prometheus.NewRegistry()
	stream := metrics.NewWithOptions(reg, metricsOptions(cfg, log))
	srv, err := metrics.Listen(cfg.MetricsListen, reg, stream.Ready)
	if err != nil {
		return p, err
	}
	p.srv, p.m = srv, stream
	srv.ServeStatus(stream) // /status, read by `rivulet status` and `rivulet verify`
	log.Info("metrics endpoint listening", "addr", srv.Addr())

	filter, err := schema.NewFilter(FilterConfig(cfg))
	if err != nil {
		return p, fmt.Errorf("%w: %w", config.ErrInvalid, err)
	}
	loader := NewLoader(cfg, filter, log.With("component", "schema"))
	p.closers = append(p.closers, func() error { loader.Close(); return nil })
	tracker, history, err := newSchemaHistory(cfg, loader, filter, stream.SchemaHistory(), log)
	if err != nil {
		return p, err
	}
	p.closers = append(p.closers, history.Store.Close)

	reader, err := binlog.NewReader(binlog.Config{
		Host: cfg.Database.Hostname, Port: cfg.Database.Port,
		User: cfg.Database.User, Connector: mysqlFor(cfg),
		ServerID: cfg.Database.ServerID, // Flavor left empty: detected from the server, whatever connector.class says.
		Tables:   tracker, DDL: tracker, Include: filter.Table,
		GTIDSource:   cfg.Filters.GTIDSource(), // gtid.source.includes/excludes
		MaxBatchSize: cfg.MaxBatchSize, ConnectTimeout: cfg.Database.ConnectTimeout,
		// Read-ahead in binlog events (each up to binlog_row_event_max_size,
		// 8 KiB by default): enough to overlap network and decoding.
		EventBuffer: 256,
		Observer:    stream, Logger: log.With("component", "binlog"),
		TxMetadata: cfg.ProvideTransactionMetadata, // provide.transaction.metadata
	})
	if err != nil {
		return p, err
	}
	var src Source = reader
	if cfg.BinlogArchiveDir != "" { // rivulet.binlog.archive.dir: archived files, then the server
		a, err := binlog.OpenArchive(cfg.BinlogArchiveDir)
		if err != nil {
			return p, err
		}
		src = &binlog.ArchiveSource{Reader: reader, Archive: a, Check: serverCheck(cfg), Logger: log.With("component", "binlog")}
	}
	p.src = src
	snapCfg, err := snapshotConfig(cfg, loader, stream.Snapshot(), log)
	if err != nil {
		return p, err
	}

	snk, err := newSink(cfg, o, kafkaMetrics(reg))
	if err != nil {
		return p, err
	}
	p.closers = append(p.closers, snk.Close)
	if snapCfg != nil {
		// sink.Kafka and sink.Stdout encode a batch's events in Send: the
		// snapshot may reuse a chunk's memory once its batches were sent.
		snapCfg.Recycle = true
	}
	if s, ok := snk.(interface{ Format() sink.Format }); ok {
		if u, ok := s.Format().(interface{ UnchangedSkipped() int64 }); ok { // Debezium JSON's transforms
			stream.SetUnchangedSkipped(u.UnchangedSkipped)
		}
	}
	txs, err := newTransactions(ctx, cfg, snk, log)
	if err != nil {
		return p, err
	}
	txMeta, err := txMetadataSink(cfg, snk)
	if err != nil {
		return p, err
	}
	if cfg.HeartbeatInterval > 0 && cfg.Sink == config.SinkKafka {
		if p.hb, err = newHeartbeat(cfg, log.With("component", "heartbeat")); err != nil {
			return p, err
		}
	}
	p.snk, p.store = snk, runStore
	p.loop = Config{
		FlushInterval:     cfg.Offsets.FlushInterval,
		QueueBatches:      max(1, cfg.MaxQueueSize/max(1, cfg.MaxBatchSize)),
		ShutdownTimeout:   cfg.ShutdownTimeout,
		Logger:            log.With("component", "engine"),
		Observer:          stream, // also an AckObserver and a SendObserver
		SkippedOperations: skippedOperations(cfg),
		History:           history,
		SchemaChanges:     schemaChangeSink(cfg, snk),
		Transactions:      txs,
		TxMetadata:        txMeta,
		Snapshot:          snapCfg,
		Signals:           signalConfig(cfg, loader, filter, log),
	}
	return p, nil
}

// Run streams until ctx is cancelled (a graceful stop: nil) or a stage
// fails (its error). The shutdown is ordered: intake stops at a
// transaction boundary, the sink drains and the last acknowledged
// position is committed; then the metrics endpoint, the heartbeats and the
// health checks stop, and the sink, schema history, schema loader and
// offsets store are released.
func (p *Pipeline) Run(ctx context.Context) error {
	// The HTTP server outlives the engine: it stops last, after offsets are written.
	httpCtx, stopHTTP := context.WithCancel(context.WithoutCancel(ctx))
	var g errgroup.Group
	srv := p.srv
	p.srv = nil // Run owns it now
	g.Go(func() error { return srv.Run(httpCtx) })
	if hb := p.hb; hb != nil {
		p.hb = nil // Run owns its client now; it stops with the engine
		g.Go(func() error { return hb.Run(httpCtx) })
	}
	g.Go(func() error {
		watchHealth(httpCtx, p.cfg, p.snk, p.m, p.log.With("component", "health"))
		return nil
	})
	runErr := Run(ctx, p.loop, p.src, p.snk, p.store)
	stopHTTP()
	return errors.Join(runErr, g.Wait(), p.close())
}

// close releases what New opened, last opened first, keeping every error.
func (p *Pipeline) close() error {
	var errs []error
	if p.hb != nil {
		p.hb.cl.Close()
	}
	for i := len(p.closers) - 1; i >= 0; i-- {
		errs = append(errs, p.closers[i]())
	}
	p.closers = nil
	if p.srv != nil {
		// Listening but never served: release the port.
		errs = append(errs, p.srv.Close())
	}
	return errors.Join(errs...)
}

// NewLoader is the schema loader of the captured tables (those filter
// lets through) on cfg's server: the pipeline's and `rivulet verify`'s.
func NewLoader(cfg *config.Config, filter *schema.Filter, log *slog.Logger) *schema.Loader {
	return schema.NewLoader(schema.LoaderConfig{
		Host: cfg.Database.Hostname, Port: cfg.Database.Port,
		User: cfg.Database.User, Connector: mysqlFor(cfg),
		Filter: filter, Logger: log,
	})
}

// PreflightConfig is the connection setting of the preflight checks and
// the short binlog reads beside the stream (look-ahead, position checks,
// `rivulet offsets`).
func PreflightConfig(cfg *config.Config) binlog.PreflightConfig {
	return binlog.PreflightConfig{
		Host: cfg.Database.Hostname, Port: cfg.Database.Port,
		User: cfg.Database.User, Connector: mysqlFor(cfg),
		ServerID: cfg.Database.ServerID,
	}
}

// FilterConfig is the table and column filter cfg describes (the signal
// table added to a table.include.list), for schema.NewFilter.
func FilterConfig(cfg *config.Config) schema.FilterConfig {
	// config has split the lists and unescaped `\,`; escape again for NewFilter.
	j := func(l []string) string {
		esc := make([]string, len(l))
		for i, p := range l {
			esc[i] = strings.ReplaceAll(p, ",", `\,`)
		}
		return strings.Join(esc, ",")
	}
	f := cfg.Filters
	return schema.FilterConfig{
		DatabaseIncludeList: j(f.DatabaseInclude), DatabaseExcludeList: j(f.DatabaseExclude),
		TableIncludeList: j(withSignalTable(cfg, f.TableInclude)), TableExcludeList: j(f.TableExclude),
		ColumnIncludeList: j(f.ColumnInclude), ColumnExcludeList: j(f.ColumnExclude),
		MessageKeyColumns: f.MessageKeyColumns,
	}
}

// preflight refuses to start on a failing prerequisite. A server id clash is
// only logged here: the replica it clashes with is usually our own previous
// process, whose dump thread the server reaps only when it next writes to it;
// the binlog reader waits that out and refuses a live clash before it
// registers. `rivulet check` reports it as a failure.
func preflight(ctx context.Context, cfg *config.Config, log *slog.Logger) error {
	var failed []string
	for _, r := range binlog.Preflight(ctx, PreflightConfig(cfg)) {
		switch {
		case r.OK || r.Detail == notRun:
		case r.Name == binlog.CheckServerID:
			log.Warn("server id clash: if this is not our previous instance, two replicas will keep disconnecting each other",
				"detail", r.Detail, "fix", r.Fix)
		default:
			failed = append(failed, fmt.Sprintf("%s: %s (fix: %s)", r.Name, r.Detail, r.Fix))
		}
	}
	if len(failed) > 0 {
		return errors.New("preflight failed: " + strings.Join(failed, "; "))
	}
	return nil
}

// notRun is Preflight's detail for checks skipped after a failed connection.
const notRun = "not run: no connection"
