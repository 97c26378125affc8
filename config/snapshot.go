package config

import (
	"math"
	"strings"
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
)

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
}

const overridesKey = "snapshot.select.statement.overrides"

// snapshotKeys are the keys parseSnapshot reads (for SupportedKeys).
var snapshotKeys = []string{"snapshot.max.threads", "snapshot.fetch.size", "incremental.snapshot.chunk.size", overridesKey}

func (l *loader) parseSnapshot(c *Config) {
	s := &c.Snapshot
	l.intField("snapshot.max.threads", &s.MaxThreads, 1, 64)
	var incr int
	l.intField("incremental.snapshot.chunk.size", &incr, 1, math.MaxInt32)
	l.intField("snapshot.fetch.size", &s.ChunkSize, 1, math.MaxInt32)
	if s.ChunkSize == 0 {
		s.ChunkSize = incr
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
