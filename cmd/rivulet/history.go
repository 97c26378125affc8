package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/rivulet-cdc/rivulet/binlog"
	"github.com/rivulet-cdc/rivulet/config"
	"github.com/rivulet-cdc/rivulet/engine"
	"github.com/rivulet-cdc/rivulet/metrics"
	"github.com/rivulet-cdc/rivulet/schema"
)

// newSchemaHistory builds the DDL tracker (the binlog reader's table model)
// and the schema history it is kept in (schema.history.internal.*).
func newSchemaHistory(cfg *config.Config, loader *schema.Loader, filter *schema.Filter, m *metrics.SchemaHistory, log *slog.Logger) (*schema.Tracker, *engine.History, error) {
	log = log.With("component", "schema-history")
	tracker := schema.NewTracker(schema.TrackerConfig{
		Filter:             filter,
		MariaDB:            cfg.Flavor() == config.FlavorMariaDB,
		SkipUnparseableDDL: cfg.SchemaHistory.SkipUnparseableDDL,
		OnReload: func(d schema.DDL, err *schema.DDLError) {
			log.Warn("DDL statement could not be parsed: its tables were re-read from the server (unparseable.ddl.fallback=reload)",
				"position", d.Pos, "statement", d.SQL, "tables", err.Tables, "error", err.Err)
			if m != nil {
				m.DDLSkipped()
			}
		},
		OnSkip: func(d schema.DDL, err *schema.DDLError, captured bool) {
			// Never silent: a warning per statement and a counted metric.
			log.Warn("DDL statement skipped: it could not be applied to the schema model",
				"position", d.Pos, "statement", d.SQL, "captured_table", captured, "error", err.Err)
			if m != nil {
				m.DDLSkipped()
			}
		},
	})
	if cfg.SchemaHistory.ReloadUnparseableDDL {
		tracker.SetReload(loader, reloadSafe(cfg))
	}
	store, where, err := openHistoryStore(cfg, log)
	if err != nil {
		return nil, nil, err
	}
	h := &engine.History{
		Tracker: tracker, Store: store, Loader: loader, Server: cfg.TopicPrefix,
		Where: where, Logger: log,
		Recovery: cfg.Plan().RebuildHistory, RecoverMissing: cfg.Plan().RebuildMissingHistory,
	}
	if m != nil {
		h.Observer = m
	}
	return tracker, h, nil
}

func openHistoryStore(cfg *config.Config, log *slog.Logger) (schema.HistoryStore, string, error) {
	h := cfg.SchemaHistory
	switch h.Store {
	case config.HistoryFile:
		return schema.NewFileHistory(h.FileFilename), "file " + h.FileFilename, nil
	case config.HistoryKafka:
		brokers := h.KafkaBootstrapServers
		if len(brokers) == 0 || (config.Kafka{BootstrapServers: brokers}).Embedded() {
			brokers = cfg.Kafka.BootstrapServers // the embedded broker's real address
		}
		producer, err := kafkaOpts(cfg, config.RoleHistoryProducer)
		if err != nil {
			return nil, "", err
		}
		consumer, err := kafkaOpts(cfg, config.RoleHistoryConsumer)
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

// schemaChangeSink returns the sink's schema-change publisher when
// include.schema.changes is on and the sink has one (Kafka), else nil.
func schemaChangeSink(cfg *config.Config, snk engine.Sink) engine.SchemaChangeSink {
	if !cfg.IncludeSchemaChanges {
		return nil
	}
	if sc, ok := snk.(engine.SchemaChangeSink); ok {
		return sc
	}
	return nil
}

// reloadSafe checks, for the unparseable-DDL reload fallback, that no later
// statement in the binlog names a table to reload: only then is the server's
// definition the one right after the statement (RELIABILITY.md §4.6).
func reloadSafe(cfg *config.Config) func(ctx context.Context, d schema.DDL, tables []schema.TableID) error {
	return func(ctx context.Context, d schema.DDL, tables []schema.TableID) error {
		if d.File == "" {
			return errors.New("the statement's binlog position is unknown")
		}
		pc := preflightConfig(cfg)
		// A replica id of its own for the look-ahead: reusing the reader's
		// would make the server drop the streaming connection.
		pc.ServerID = lookaheadServerID(cfg.Database.ServerID)
		later, err := binlog.LaterDDL(ctx, pc, d.File, d.NextPos)
		if err != nil {
			return fmt.Errorf("read the binlog after the statement: %w", err)
		}
		for _, st := range later {
			for _, named := range schema.TablesNamed(st.SQL, st.DB) {
				for _, t := range tables {
					if strings.EqualFold(named.DB, t.DB) && strings.EqualFold(named.Name, t.Name) {
						return fmt.Errorf("a later statement changes %s.%s again (%s): the server's definition is not the one after this statement", t.DB, t.Name, st.String())
					}
				}
			}
		}
		return nil
	}
}

// lookaheadServerID derives a replica id for short binlog reads beside the
// streaming reader (server ids are 32-bit; the top range is rarely used).
func lookaheadServerID(id uint32) uint32 { return 0xFFF00000 | (id & 0x000FFFFF) }
