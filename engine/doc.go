// Package engine assembles the pipeline from the configuration and runs it:
// New builds the stages a config.Config describes (binlog reader, initial
// snapshot, ad-hoc snapshots asked for by signals, sink, offsets store,
// schema history, heartbeats, health checks, the metrics endpoint) and
// Pipeline.Run streams until the context is cancelled, then shuts down in
// order: intake stops at a transaction boundary, the sink drains, the last
// acknowledged position is committed (the metrics endpoint answers until
// then), and the stages are released. Nothing imports engine except cmd/rivulet,
// whose subcommands also use the helpers that open what a pipeline opens
// (NewStore, OpenHistoryStore, NewLoader, SnapshotReader, KafkaOpts,
// EncoderConfig, Check, ...).
//
// Files are named for what they own: pipeline.go (New, Run, preflight),
// engine.go (the run loop: batches from source to sink, offset commits after
// acknowledgement), observe.go (what the run loop reports of its sends),
// metrics.go (the metrics registry and which metrics type serves which
// observer), eos.go and eoskafka.go (exactly-once), heartbeat.go,
// health.go, store.go (offsets store, start checks), schemahistory.go and
// history.go, initial.go and snapshot.go (the initial snapshot), signals.go
// and incremental.go (signals and ad-hoc snapshots), kafka.go and mysql.go
// (the one client setting each), check.go (`rivulet check`), sinkconfig.go,
// avro.go, transforms.go and encoding.go (the sink and its record encoding).
//
// Stages report to metrics through observer interfaces they declare with
// plain arguments (binlog.Observer; here Observer, AckObserver and
// SendObserver for the run loop, SnapshotObserver, HistoryObserver and
// DDLObserver); the metrics types satisfy them without importing anything
// of ours, and batches never pass through an adapter.
//
// The initial snapshot (snapshot.go) and the ad-hoc incremental snapshots
// asked for by signals (incremental.go) each run a loop that selects over
// stream batches, chunks and a timer and hands their chunks to a
// snapshot.Merge: the merge rule itself (watermarks, pruning, release, a
// table definition changing mid-snapshot) lives there, once; these loops
// own the chunk reader's goroutine, the wait limit, markers and offsets.
package engine
