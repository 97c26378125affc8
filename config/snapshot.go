package config

import (
	"math"
	"strings"
	"time"
)

// Snapshot modes added with the chunked snapshot (issue #4).
const (
	// SnapshotInitialOnly snapshots when no offsets exist and stops
	// without streaming.
	SnapshotInitialOnly SnapshotMode = "initial_only"
	// SnapshotAlways snapshots on every start, then streams from where
	// the snapshot began.
	SnapshotAlways SnapshotMode = "always"
	// SnapshotWhenNeeded snapshots when no offsets exist or when the stored
	// position's binlog file was purged from the server.
	SnapshotWhenNeeded SnapshotMode = "when_needed"
	// SnapshotConfigurationBased takes what a start does from the
	// snapshot.mode.configuration.based.* keys (Snapshot.ConfigurationBased).
	SnapshotConfigurationBased SnapshotMode = "configuration_based"
)

// ConfigurationBased holds Debezium's snapshot.mode.configuration.based.*
// keys, read only with snapshot.mode=configuration_based. All default false,
// as in Debezium's ConfigurationBasedSnapshotter.
type ConfigurationBased struct {
	Data          bool // .snapshot.data: snapshot the rows on every start
	Schema        bool // .snapshot.schema: capture the schema (Rivulet always does: rows cannot be decoded without it)
	Stream        bool // .start.stream: stream the binlog after the snapshot
	OnSchemaError bool // .snapshot.on.schema.error: rebuild a missing schema history from the live schema
	OnDataError   bool // .snapshot.on.data.error: a stored position whose binlog is gone starts afresh
}

const configBasedPrefix = "snapshot.mode.configuration.based."

// SnapshotPlan is what a start does, resolved from snapshot.mode (and the
// configuration_based keys), the way Debezium's Snapshotter of that mode
// answers.
type SnapshotPlan struct {
	// Data is when rows are snapshotted: SnapshotInitial (no offset
	// stored), SnapshotAlways, SnapshotWhenNeeded, or "" for never.
	Data SnapshotMode
	// Stream says whether the binlog is streamed after the snapshot.
	Stream bool
	// RebuildHistory rebuilds the schema history from the live schema on
	// every start (recovery); RebuildMissingHistory only when it is missing.
	RebuildHistory, RebuildMissingHistory bool
	// OnPurged is what a stored position whose binlog is gone does: "" stop
	// with the remedies, "snapshot" take a new snapshot, "current" stream
	// from the current position (Debezium's reset of the offsets; the
	// changes in between are not captured).
	OnPurged string
}

// Plan resolves c.SnapshotMode into a SnapshotPlan. c must be valid.
func (c *Config) Plan() SnapshotPlan {
	switch c.SnapshotMode {
	case SnapshotInitial, "":
		return SnapshotPlan{Data: SnapshotInitial, Stream: true}
	case SnapshotInitialOnly:
		return SnapshotPlan{Data: SnapshotInitial}
	case SnapshotAlways:
		return SnapshotPlan{Data: SnapshotAlways, Stream: true, OnPurged: "snapshot"}
	case SnapshotWhenNeeded:
		return SnapshotPlan{Data: SnapshotWhenNeeded, Stream: true, OnPurged: "snapshot"}
	case SnapshotRecovery:
		return SnapshotPlan{Stream: true, RebuildHistory: true}
	case SnapshotConfigurationBased:
		cb := c.Snapshot.ConfigurationBased
		p := SnapshotPlan{Stream: cb.Stream, RebuildMissingHistory: cb.OnSchemaError}
		if cb.Data {
			p.Data = SnapshotAlways
		}
		if cb.OnDataError {
			p.OnPurged = "current"
			if cb.Data {
				p.OnPurged = "snapshot"
			}
		}
		return p
	default: // no_data, never
		return SnapshotPlan{Stream: true}
	}
}

// Snapshot holds the data-snapshot keys.
type Snapshot struct {
	// MaxThreads is `snapshot.max.threads`: connections reading chunks in
	// parallel. Default 1.
	MaxThreads int
	// ChunkSize is the rows per chunk: `snapshot.fetch.size`, else
	// `incremental.snapshot.chunk.size`; 0 (the default) means the
	// snapshot package's default (8192).
	ChunkSize int
	// Overrides is `snapshot.select.statement.overrides`: "db.table" to
	// the SELECT given in `snapshot.select.statement.overrides.db.table`.
	Overrides map[string]string
	// ConfigurationBased holds the snapshot.mode.configuration.based.* keys.
	ConfigurationBased ConfigurationBased
	// ProgressInterval is `rivulet.snapshot.progress.interval.ms`
	// (Rivulet): during a snapshot, at most one progress line per table
	// per interval (rows of the estimated total, rate, ETA, chunks).
	// Default DefaultProgressInterval; 0 turns the lines off (the per-table
	// totals are still logged).
	ProgressInterval time.Duration
}

// DefaultProgressInterval is the default of rivulet.snapshot.progress.interval.ms.
const DefaultProgressInterval = 30 * time.Second

const progressKey = "rivulet.snapshot.progress.interval.ms"

const overridesKey = "snapshot.select.statement.overrides"

// snapshotKeys are the keys parseSnapshot reads (for SupportedKeys).
var snapshotKeys = []string{progressKey, "snapshot.max.threads", "snapshot.fetch.size", "incremental.snapshot.chunk.size", overridesKey,
	configBasedPrefix + "snapshot.data", configBasedPrefix + "snapshot.schema", configBasedPrefix + "start.stream",
	configBasedPrefix + "snapshot.on.schema.error", configBasedPrefix + "snapshot.on.data.error"}

func (l *loader) parseSnapshot(c *Config) {
	s := &c.Snapshot
	l.millis(progressKey, &s.ProgressInterval, 0)
	l.intField("snapshot.max.threads", &s.MaxThreads, 1, 64)
	var incr int
	l.intField("incremental.snapshot.chunk.size", &incr, 1, math.MaxInt32)
	l.intField("snapshot.fetch.size", &s.ChunkSize, 1, math.MaxInt32)
	if s.ChunkSize == 0 {
		s.ChunkSize = incr
	}
	cb := &s.ConfigurationBased
	for _, f := range []struct {
		key string
		dst *bool
	}{
		{"snapshot.data", &cb.Data}, {"snapshot.schema", &cb.Schema}, {"start.stream", &cb.Stream},
		{"snapshot.on.schema.error", &cb.OnSchemaError}, {"snapshot.on.data.error", &cb.OnDataError},
	} {
		if l.has(configBasedPrefix+f.key) && c.SnapshotMode != SnapshotConfigurationBased {
			l.warn(configBasedPrefix+f.key+" is read only with snapshot.mode=configuration_based; it is ignored", configBasedPrefix+f.key)
		}
		if f.key == "snapshot.schema" && c.SnapshotMode == SnapshotConfigurationBased && strings.EqualFold(strings.TrimSpace(l.m[configBasedPrefix+f.key]), "false") {
			// Debezium then leaves the schema out of the snapshot and relies
			// on the stored history; Rivulet records the schema of every
			// snapshotted table, because it decodes the rows with it.
			l.warn(configBasedPrefix+"snapshot.schema=false has no effect: Rivulet records the schema of the tables it snapshots (it cannot decode rows without it), so the schema history gets those tables' DDL as with true; remove the key", configBasedPrefix+"snapshot.schema")
		}
		l.boolean(configBasedPrefix+f.key, f.dst)
	}
	if v, ok := l.take(overridesKey); ok {
		for _, id := range strings.Split(v, ",") {
			id = strings.TrimSpace(id)
			if id == "" {
				continue
			}
			key := overridesKey + "." + id
			stmt, ok := l.take(key)
			if !ok {
				l.fail(invalid(overridesKey, v, "names "+id+" without a statement", "set "+key+" to the SELECT to use for that table"))
				continue
			}
			if s.Overrides == nil {
				s.Overrides = map[string]string{}
			}
			s.Overrides[id] = stmt
		}
	}
}
