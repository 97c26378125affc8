package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"

	"github.com/rivulet-cdc/rivulet/binlog"
	"github.com/rivulet-cdc/rivulet/config"
	"github.com/rivulet-cdc/rivulet/engine"
	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/metrics"
	"github.com/rivulet-cdc/rivulet/schema"
	"github.com/rivulet-cdc/rivulet/sink"
)

// runCmd wires the stages from cfg and runs until ctx is cancelled (graceful
// stop) or a stage fails.
func runCmd(ctx context.Context, cfg *config.Config, log *slog.Logger) (err error) {
	if port, ok := cfg.Kafka.EmbeddedPort(); ok && cfg.Sink == config.SinkKafka {
		kf, err := startDevKafka(port)
		if err != nil {
			return err
		}
		defer kf.Close()
		cfg.Kafka.BootstrapServers = kf.ListenAddrs()
		log.Info("embedded kafka started (in-memory, for development only)", "bootstrap_servers", strings.Join(cfg.Kafka.BootstrapServers, ","))
	}

	// Wrong Kafka credentials or trust stop here, naming the key to fix.
	if err := kafkaLogin(ctx, cfg, log); err != nil {
		return err
	}
	// One process per connector: refuse before anything is read.
	store, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, store.Close()) }()

	// Refuse to start on a failing prerequisite, with the same words as `rivulet check`.
	if err := preflight(ctx, cfg, log); err != nil {
		return err
	}
	var runStore offsetStore
	if runStore, err = checkStart(ctx, cfg, store, log); err != nil {
		return err
	}

	reg := prometheus.NewRegistry()
	stream := metrics.NewWithOptions(reg, metricsOptions(cfg, log))
	srv, err := metrics.Listen(cfg.MetricsListen, reg, stream.Ready)
	if err != nil {
		return err
	}
	srv.ServeStatus(stream) // /status, read by `rivulet status` and `rivulet verify`
	log.Info("metrics endpoint listening", "addr", srv.Addr())

	filter, err := schema.NewFilter(filterConfig(cfg))
	if err != nil {
		return fmt.Errorf("%w: %w", config.ErrInvalid, err)
	}
	loader := schema.NewLoader(schema.LoaderConfig{
		Host: cfg.Database.Hostname, Port: cfg.Database.Port,
		User: cfg.Database.User, Connector: mysqlFor(cfg),
		Filter: filter, Logger: log.With("component", "schema"),
	})
	defer loader.Close()
	tracker, history, err := newSchemaHistory(cfg, loader, filter, stream.SchemaHistory(), log)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, history.Store.Close()) }()

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
		return err
	}
	var src engine.Source = reader
	if cfg.BinlogArchiveDir != "" { // rivulet.binlog.archive.dir: archived files, then the server
		a, err := binlog.OpenArchive(cfg.BinlogArchiveDir)
		if err != nil {
			return err
		}
		src = &binlog.ArchiveSource{Reader: reader, Archive: a, Check: serverCheck(cfg), Logger: log.With("component", "binlog")}
	}
	snapCfg, err := snapshotConfig(cfg, loader, stream.Snapshot(), log)
	if err != nil {
		return err
	}

	snk, err := newSink(cfg, log, kafkaMetrics(reg))
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, snk.Close()) }()
	if e, ok := snk.(interface{ Encoder() *sink.JSON }); ok {
		stream.SetUnchangedSkipped(e.Encoder().UnchangedSkipped)
	}
	txs, err := newTransactions(ctx, cfg, snk, stream.PositionCommitted, log)
	if err != nil {
		return err
	}
	txMeta, err := txMetadataSink(cfg, snk)
	if err != nil {
		return err
	}

	// The HTTP server outlives the engine: it stops last, after offsets are written.
	httpCtx, stopHTTP := context.WithCancel(context.WithoutCancel(ctx))
	var g errgroup.Group
	g.Go(func() error { return srv.Run(httpCtx) })
	if cfg.HeartbeatInterval > 0 && cfg.Sink == config.SinkKafka {
		hb, err := newHeartbeat(cfg, log.With("component", "heartbeat"))
		if err != nil {
			stopHTTP()
			return errors.Join(err, g.Wait())
		}
		g.Go(func() error { return hb.Run(httpCtx) }) // stops with the engine
	}
	g.Go(func() error { watchHealth(httpCtx, cfg, snk, stream, log.With("component", "health")); return nil })
	runErr := engine.Run(ctx, engine.Config{
		FlushInterval:   cfg.Offsets.FlushInterval,
		QueueBatches:    max(1, cfg.MaxQueueSize/max(1, cfg.MaxBatchSize)),
		ShutdownTimeout: cfg.ShutdownTimeout,
		Logger:          log.With("component", "engine"),
		Observer:        stream,
		History:         history,
		SchemaChanges:   schemaChangeSink(cfg, snk),
		Transactions:    txs,
		TxMetadata:      txMeta,
		Snapshot:        snapCfg,
		Signals:         signalConfig(cfg, loader, filter, log),
	}, src, newObservedSink(snk, stream, cfg), observedStore{runStore, stream})
	stopHTTP()
	return errors.Join(runErr, g.Wait())
}

func newSink(cfg *config.Config, log *slog.Logger, opts ...kgo.Opt) (engine.Sink, error) {
	enc, err := encoderConfig(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.Sink == config.SinkStdout {
		j, err := sink.NewJSON(enc)
		if err != nil {
			return nil, err
		}
		return sink.NewStdout(os.Stdout, j), nil
	}
	avro, err := avroConfig(cfg, log) // key/value.converter=AvroConverter (avro.go)
	if err != nil {
		return nil, err
	}
	if opts, err = kafkaOpts(cfg, config.RoleProducer, opts...); err != nil {
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
	producerSettings(cfg, &kc) // acks, linger.ms, buffer.memory, topic.creation.* (kafkaclient.go)
	return sink.NewKafka(kc)
}

// encoderConfig is the record encoding cfg asks for: envelope, converters,
// tombstones, skipped operations, transforms, masks and handling modes. The
// sink and `rivulet verify` (which encodes rows to compare them) share it.
func encoderConfig(cfg *config.Config) (sink.JSONConfig, error) {
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

func preflightConfig(cfg *config.Config) binlog.PreflightConfig {
	return binlog.PreflightConfig{
		Host: cfg.Database.Hostname, Port: cfg.Database.Port,
		User: cfg.Database.User, Connector: mysqlFor(cfg),
		ServerID: cfg.Database.ServerID,
	}
}

func filterConfig(cfg *config.Config) schema.FilterConfig {
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
	for _, r := range binlog.Preflight(ctx, preflightConfig(cfg)) {
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
