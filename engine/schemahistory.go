package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/rivulet-cdc/rivulet/binlog"
	"github.com/rivulet-cdc/rivulet/config"
	"github.com/rivulet-cdc/rivulet/metrics"
	"github.com/rivulet-cdc/rivulet/offsets"
	"github.com/rivulet-cdc/rivulet/schema"
	"github.com/rivulet-cdc/rivulet/sink"
)

// newSchemaHistory builds the DDL tracker (the binlog reader's table model)
// and the schema history it is kept in (schema.history.internal.*).
func newSchemaHistory(cfg *config.Config, loader *schema.Loader, filter *schema.Filter, m *metrics.SchemaHistory, log *slog.Logger) (*schema.Tracker, *History, error) {
	log = log.With("component", "schema-history")
	tracker := schema.NewTracker(schema.TrackerConfig{
		Filter:                     filter,
		MariaDB:                    cfg.Flavor() == config.FlavorMariaDB,
		SkipUnparseableDDL:         cfg.SchemaHistory.SkipUnparseableDDL,
		StoreOnlyCapturedTablesDDL: cfg.SchemaHistory.StoreOnlyCapturedTablesDDL,
		StoreOtherDatabasesDDL:     !cfg.SchemaHistory.StoreOnlyCapturedDatabasesDDL,
		OnNeutral: func(d schema.DDL, err *schema.DDLError) {
			log.Info("DDL statement not parsed: it cannot change columns, recorded as it stands and passed over",
				"position", d.Pos, "statement", d.SQL, "error", err.Err.Error())
			if m != nil {
				m.DDLNeutralUnparsed()
			}
		},
		OnFallback: func(d schema.DDL, kind string, table schema.TableID, err *schema.DDLError) {
			args := []any{"kind", kind, "table", table.String(), "position", d.Pos, "statement", d.SQL}
			if err != nil {
				args = append(args, "error", err.Err.Error())
			}
			msg := map[string]string{
				schema.FallbackMetadata: "DDL statement could not be parsed: the table was rebuilt from the binlog's full row metadata (TABLE_MAP)",
				schema.FallbackReload:   "DDL statement could not be parsed: the table was re-read from the server (no later statement changes it)",
				schema.FallbackDropped:  "DDL statement could not be parsed: the table is dropped or renamed away before any row of it, its last known definition is kept",
			}[kind]
			if err == nil {
				msg = "table map of a table the schema history lacks: resolved by fallback " + kind
			}
			log.Warn(msg, args...)
			if m != nil {
				m.DDLFallback(kind)
			}
		},
		OnSkip: func(d schema.DDL, err *schema.DDLError, captured bool) {
			// Never silent: a warning per statement and a counted metric.
			log.Warn("DDL statement skipped: it could not be applied to the schema model",
				"position", d.Pos, "statement", d.SQL, "captured_table", captured, "error", err.Err.Error())
			if m != nil {
				m.DDLSkipped()
			}
		},
	})
	if !cfg.SchemaHistory.FailUnparseableDDL {
		tracker.SetReload(loader, lookAhead(cfg))
	}
	store, where, err := OpenHistoryStore(cfg, log)
	if err != nil {
		return nil, nil, err
	}
	h := &History{
		Tracker: tracker, Store: store, Loader: loader, Server: cfg.TopicPrefix,
		Where: where, Logger: log,
		Recovery: cfg.Plan().RebuildHistory, RecoverMissing: cfg.Plan().RebuildMissingHistory,
		SinkCluster: historyOnSinkCluster(cfg),
	}
	if m != nil {
		h.Observer = m
	}
	return tracker, h, nil
}

// historyBrokers are the brokers of the schema history topic.
func historyBrokers(cfg *config.Config) []string {
	brokers := cfg.SchemaHistory.KafkaBootstrapServers
	if len(brokers) == 0 || (config.Kafka{BootstrapServers: brokers}).Embedded() {
		brokers = cfg.Kafka.BootstrapServers // the embedded broker's real address
	}
	return brokers
}

// historyOnSinkCluster reports whether the schema history topic is on the
// Kafka sink's cluster, reached with the sink's security settings: the
// sink's client may then create it (History.SinkCluster).
func historyOnSinkCluster(cfg *config.Config) bool {
	return cfg.Sink == config.SinkKafka && cfg.SchemaHistory.Store == config.HistoryKafka &&
		slices.Equal(historyBrokers(cfg), cfg.Kafka.BootstrapServers) &&
		cfg.Kafka.Client(config.RoleHistoryProducer).Describe() == cfg.Kafka.Client(config.RoleProducer).Describe()
}

func OpenHistoryStore(cfg *config.Config, log *slog.Logger) (schema.HistoryStore, string, error) {
	h := cfg.SchemaHistory
	switch h.Store {
	case config.HistoryFile:
		return schema.NewFileHistory(h.FileFilename), "file " + h.FileFilename, nil
	case config.HistoryKafka:
		brokers := historyBrokers(cfg)
		producer, err := KafkaOpts(cfg, config.RoleHistoryProducer)
		if err != nil {
			return nil, "", err
		}
		consumer, err := KafkaOpts(cfg, config.RoleHistoryConsumer)
		if err != nil {
			return nil, "", err
		}
		k, err := schema.NewKafkaHistory(schema.KafkaHistoryConfig{
			Brokers: brokers, Topic: h.KafkaTopic, ClientID: "rivulet-" + cfg.Name + "-schemahistory", Logger: log,
			Opts: producer, ConsumerOpts: consumer,
		})
		if err != nil {
			return nil, "", err
		}
		return k, "topic " + h.KafkaTopic, nil
	}
	return nil, "", fmt.Errorf("%w: schema.history.internal store %q", config.ErrInvalid, h.Store)
}

// The Kafka sink publishes schema changes (checked here: schemaChangeSink
// finds it by a type assertion, which a changed signature would fail
// silently).
var _ SchemaChangeSink = (*sink.Kafka)(nil)

// schemaChangeSink returns the sink's schema-change publisher when
// include.schema.changes is on and the sink has one (Kafka), else nil.
func schemaChangeSink(cfg *config.Config, snk Sink) SchemaChangeSink {
	if !cfg.IncludeSchemaChanges {
		return nil
	}
	if sc, ok := snk.(SchemaChangeSink); ok {
		return sc
	}
	return nil
}

// lookAhead reads the binlog after a statement for the unparseable-DDL
// fallbacks (RELIABILITY.md §4.6): the first TABLE_MAP of each table and the
// first later statement naming it.
func lookAhead(cfg *config.Config) schema.LookAheadFunc {
	return func(ctx context.Context, d schema.DDL, tables []schema.TableID) ([]schema.Later, error) {
		if d.File == "" {
			return nil, errors.New("the statement's binlog position is unknown")
		}
		pc := PreflightConfig(cfg)
		// A replica id of its own for the look-ahead: reusing the reader's
		// would make the server drop the streaming connection.
		pc.ServerID = lookaheadServerID(cfg.Database.ServerID)
		return binlog.LookAhead(ctx, pc, d.File, d.NextPos, tables)
	}
}

// lookaheadServerID derives a replica id for short binlog reads beside the
// streaming reader (server ids are 32-bit; the top range is rarely used).
func lookaheadServerID(id uint32) uint32 { return 0xFFF00000 | (id & 0x000FFFFF) }

// SchemaAt rebuilds the table model at pos from the schema history in
// store (where names it), as a restart does, without the server:
// `rivulet schema show`. filter says which tables are captured.
func SchemaAt(ctx context.Context, cfg *config.Config, store schema.HistoryStore, where string, pos offsets.Position, log *slog.Logger) (*schema.Tracker, *schema.Filter, error) {
	filter, err := schema.NewFilter(FilterConfig(cfg))
	if err != nil {
		return nil, nil, err
	}
	tracker := schema.NewTracker(schema.TrackerConfig{Filter: filter, MariaDB: cfg.Flavor() == config.FlavorMariaDB})
	h := &History{Tracker: tracker, Store: store, Server: cfg.TopicPrefix, Where: where, Logger: log}
	if err := h.Start(ctx, pos, true); err != nil {
		return nil, nil, err
	}
	return tracker, filter, nil
}
