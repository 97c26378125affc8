package engine

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"

	"github.com/rivulet-cdc/rivulet/binlog"
	"github.com/rivulet-cdc/rivulet/config"
	"github.com/rivulet-cdc/rivulet/event"
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
// (binlog, initial snapshot, signals), sink, offsets store, schema history,
// heartbeats, health checks and the metrics endpoint. Run it once.
type Pipeline struct {
	cfg  *config.Config
	log  *slog.Logger
	loop Config // the run loop's configuration (Run in engine.go)

	src   Source
	snk   Sink // the observed sink the run loop sends to
	kafka Sink // the transport itself, pinged for health
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
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
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
	loader := schema.NewLoader(schema.LoaderConfig{
		Host: cfg.Database.Hostname, Port: cfg.Database.Port,
		User: cfg.Database.User, Connector: MySQL(cfg),
		Filter: filter, Logger: log.With("component", "schema"),
	})
	p.closers = append(p.closers, func() error { loader.Close(); return nil })
	tracker, history, err := newSchemaHistory(cfg, loader, filter, stream.SchemaHistory(), log)
	if err != nil {
		return p, err
	}
	p.closers = append(p.closers, history.Store.Close)

	reader, err := binlog.NewReader(binlog.Config{
		Host: cfg.Database.Hostname, Port: cfg.Database.Port,
		User: cfg.Database.User, Connector: MySQL(cfg),
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
	src, err = withSnapshot(cfg, src, loader, stream.Snapshot(), log)
	if err != nil {
		return p, err
	}
	p.src = withSignals(cfg, src, loader, filter, log)

	snk, err := newSink(cfg, o, kafkaMetrics(reg))
	if err != nil {
		return p, err
	}
	p.closers = append(p.closers, snk.Close)
	if e, ok := snk.(interface{ Encoder() *sink.JSON }); ok {
		stream.SetUnchangedSkipped(e.Encoder().UnchangedSkipped)
	}
	txs, err := newTransactions(ctx, cfg, snk, stream.PositionCommitted, log)
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
	p.kafka, p.snk = snk, newObservedSink(snk, stream, cfg)
	p.store = observedStore{runStore, stream}
	p.loop = Config{
		FlushInterval:   cfg.Offsets.FlushInterval,
		QueueBatches:    max(1, cfg.MaxQueueSize/max(1, cfg.MaxBatchSize)),
		ShutdownTimeout: cfg.ShutdownTimeout,
		Logger:          log.With("component", "engine"),
		Observer:        stream,
		History:         history,
		SchemaChanges:   schemaChangeSink(cfg, snk),
		Transactions:    txs,
		TxMetadata:      txMeta,
	}
	return p, nil
}

// Run streams until ctx is cancelled (a graceful stop: nil) or a stage
// fails (its error). The shutdown is ordered: intake stops at a
// transaction boundary, the sink drains and the last acknowledged
// position is committed, then the heartbeats and health checks stop, the
// sink, schema history, schema loader and offsets store are released, and
// the metrics endpoint stops last.
func (p *Pipeline) Run(ctx context.Context) error {
	// The HTTP server outlives the engine: it stops last, after offsets are written.
	httpCtx, stopHTTP := context.WithCancel(context.WithoutCancel(ctx))
	var g errgroup.Group
	srv := p.srv
	p.srv = nil // Run owns it now
	g.Go(func() error { return srv.Run(httpCtx) })
	if p.hb != nil {
		hb := p.hb
		p.hb = nil                                    // Run owns its client now
		g.Go(func() error { return hb.Run(httpCtx) }) // stops with the engine
	}
	g.Go(func() error {
		watchHealth(httpCtx, p.cfg, p.kafka, p.m, p.log.With("component", "health"))
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

func newSink(cfg *config.Config, o Options, opts ...kgo.Opt) (Sink, error) {
	log := o.Logger
	enc, err := EncoderConfig(cfg, o.Version)
	if err != nil {
		return nil, err
	}
	if cfg.Sink == config.SinkStdout {
		j, err := sink.NewJSON(enc)
		if err != nil {
			return nil, err
		}
		return sink.NewStdout(cmp.Or[io.Writer](o.Stdout, os.Stdout), j), nil
	}
	avro, err := AvroConfig(cfg, log) // key/value.converter=AvroConverter (avro.go)
	if err != nil {
		return nil, err
	}
	if opts, err = KafkaOpts(cfg, config.RoleProducer, opts...); err != nil {
		return nil, err
	}
	kc := sink.KafkaConfig{
		Encoding:    enc,
		Avro:        avro,
		Brokers:     cfg.Kafka.BootstrapServers,
		ClientID:    "rivulet-" + cfg.Name,
		Compression: string(cfg.Kafka.Compression),
		// max.request.size bounds the largest record; the topic's
		// max.message.bytes must allow it too.
		MaxRequestBytes: cfg.Kafka.MaxRequestSize,
		// Records handed to Kafka and not yet acknowledged: max.queue.size
		// of them, and at most 8 MiB unless
		// max.queue.size.in.bytes asks for another bound.
		MaxBufferedRecords: cfg.MaxQueueSize,
		MaxBufferedBytes:   int(cmp.Or(cfg.MaxQueueSizeInBytes, 8<<20)),
		Logger:             log.With("component", "sink"),
		Opts:               opts,
		TransactionalID:    eosTransactionalID(cfg), // exactly.once.support=required
		ContextHeaders:     contextHeaders(cfg, enc.Connector),
	}
	producerSettings(cfg, &kc) // acks, linger.ms, buffer.memory, topic.creation.* (kafka.go)
	return sink.NewKafka(kc)
}

// EncoderConfig is the record encoding cfg asks for: envelope, converters,
// tombstones, skipped operations, transforms, masks and handling modes;
// version is Rivulet's, for the source block. The sink and `rivulet
// verify` (which encodes rows to compare them) share it.
func EncoderConfig(cfg *config.Config, version string) (sink.JSONConfig, error) {
	enc := sink.DefaultJSONConfig(cfg.TopicPrefix)
	enc.Version = version
	if cfg.Flavor() == config.FlavorMariaDB {
		enc.Connector = sink.ConnectorMariaDB
	}
	enc.KeySchemas = cfg.KeyConverter.SchemasEnable
	enc.ValueSchemas = cfg.ValueConverter.SchemasEnable
	enc.TombstonesOnDelete = cfg.TombstonesOnDelete
	enc.SkippedOperations = nil
	for _, op := range []byte{'c', 'u', 'd', 't'} {
		if cfg.SkippedOperations.Has(op) {
			enc.SkippedOperations = append(enc.SkippedOperations, event.Op(op))
		}
	}
	if err := encodingTransforms(cfg, &enc); err != nil { // transforms, column.mask/truncate (transforms.go)
		return enc, err
	}
	if err := encodingModes(cfg, &enc); err != nil { // handling modes, source type propagation (encoding.go)
		return enc, err
	}
	return enc, nil
}

// contextHeaders are Debezium 3.2+'s extended headers, unless
// extended.headers.enabled=false.
func contextHeaders(cfg *config.Config, c sink.Connector) []sink.Header {
	if !cfg.ExtendedHeaders {
		return nil
	}
	return sink.ContextHeaders(c, cfg.TopicPrefix, sink.NewRunID(time.Now()))
}

func PreflightConfig(cfg *config.Config) binlog.PreflightConfig {
	return binlog.PreflightConfig{
		Host: cfg.Database.Hostname, Port: cfg.Database.Port,
		User: cfg.Database.User, Connector: MySQL(cfg),
		ServerID: cfg.Database.ServerID,
	}
}

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
