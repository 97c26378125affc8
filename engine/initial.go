package engine

import (
	"log/slog"
	"time"

	"github.com/rivulet-cdc/rivulet/config"
	"github.com/rivulet-cdc/rivulet/metrics"
	"github.com/rivulet-cdc/rivulet/snapshot"
)

// snapshotConfig is the initial snapshot for the snapshot modes that read
// data (initial, initial_only, when_needed, always, configuration_based
// with snapshot.data); nil for no_data, never and recovery, which stream
// only.
func snapshotConfig(cfg *config.Config, cat snapshot.Catalog, obs *metrics.Snapshot, log *slog.Logger) (*SnapshotConfig, error) {
	plan := cfg.Plan()
	var mode SnapshotMode
	switch plan.Data {
	case config.SnapshotInitial:
		mode = SnapshotInitial
		if !plan.Stream {
			mode = SnapshotInitialOnly
		}
	case config.SnapshotAlways:
		mode = SnapshotAlways
	case config.SnapshotWhenNeeded:
		mode = SnapshotWhenNeeded
	default:
		obs.Skipped()
		return nil, nil
	}
	snap, err := snapshot.New(SnapshotReader(cfg, log.With("component", "snapshot")))
	if err != nil {
		return nil, err
	}
	return &SnapshotConfig{
		Mode: mode, StopAfter: !plan.Stream, Catalog: cat, Snapshotter: snap, MaxBatch: cfg.MaxBatchSize,
		Logger: log.With("component", "snapshot"), Observer: obs, ProgressInterval: progressInterval(cfg),
	}, nil
}

// SnapshotReader is the chunk reader's setting cfg describes (connection,
// snapshot.fetch.size chunks, snapshot.max.threads, per-table select
// overrides): the initial snapshot's, the signalled snapshots' and `rivulet
// verify`'s.
func SnapshotReader(cfg *config.Config, log *slog.Logger) snapshot.Config {
	return snapshot.Config{
		Host: cfg.Database.Hostname, Port: cfg.Database.Port,
		User: cfg.Database.User, Connector: mysqlFor(cfg),
		ChunkSize: cfg.Snapshot.ChunkSize, Threads: cfg.Snapshot.MaxThreads,
		Overrides: cfg.Snapshot.Overrides, ConnectTimeout: cfg.Database.ConnectTimeout,
		Logger: log,
	}
}

// progressInterval maps rivulet.snapshot.progress.interval.ms (0: off) to
// SnapshotConfig.ProgressInterval (negative: off).
func progressInterval(cfg *config.Config) time.Duration {
	if cfg.Snapshot.ProgressInterval == 0 {
		return -1
	}
	return cfg.Snapshot.ProgressInterval
}
