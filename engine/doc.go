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
// engine.go (the run loop: offset commits after acknowledgement), intake.go
// and source.go (the source loop: batches from source to sink), observe.go
// (what the run loop reports of its sends), metrics.go (the metrics registry and which metrics type serves which
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
// One goroutine, the source loop (source.go), owns the source side, as
// vitess's vstreamer does: it selects over the binlog reader's output
// channel, the chunks of the initial snapshot's and of an incremental
// snapshot's chunk readers, the Kafka signal channel (signal table rows
// arrive inside the batches), the high-watermark timers and the context,
// and hands each batch to the sink side itself (engine.go's tracker, or
// eos.go's Kafka transactions). A change crosses one channel and two
// goroutines (the reader's, the loop's) before the sink; a chunk row one
// channel from its chunk reader. The initial snapshot (snapshot.go) and the
// incremental snapshots (incremental.go) are two states the loop consults,
// each holding a snapshot.Merge: the merge rule itself (watermarks,
// pruning, release, a table definition changing mid-snapshot) lives there,
// once; the states own their chunk reader's goroutine, the wait limit,
// markers and the position fields they keep in every batch's offset.
package engine
