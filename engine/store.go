package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/rivulet-cdc/rivulet/binlog"
	"github.com/rivulet-cdc/rivulet/config"
	"github.com/rivulet-cdc/rivulet/offsets"
)

// Store is what the pipeline and `rivulet offsets` need of offsets.FileStore and
// offsets.KafkaStore.
type Store interface {
	OffsetStore
	// Lock makes this process the connector's only writer, or fails with
	// offsets.ErrLocked naming the process that is.
	Lock(ctx context.Context) error
	// Delete removes the stored position.
	Delete(ctx context.Context) error
	// Close releases the lock and connections.
	Close() error
}

var (
	_ Store = (*offsets.FileStore)(nil)
	_ Store = (*offsets.KafkaStore)(nil)
)

// NewStore returns the store cfg selects: the file when
// offset.storage.file.filename is set, else the Kafka topic
// offset.storage.topic. It does not lock.
func NewStore(cfg *config.Config, log *slog.Logger) (Store, string, error) {
	if cfg.Offsets.FileFilename != "" || cfg.Offsets.Topic == "" {
		return offsets.NewFileStore(cfg.Offsets.FileFilename, cfg.Name, cfg.TopicPrefix), "file " + cfg.Offsets.FileFilename, nil
	}
	consumer, err := KafkaOpts(cfg, config.RoleConsumer)
	if err != nil {
		return nil, "", err
	}
	producer, err := KafkaOpts(cfg, config.RoleProducer)
	if err != nil {
		return nil, "", err
	}
	s, err := offsets.NewKafkaStore(offsets.KafkaConfig{
		Opts:              consumer,
		ProducerOpts:      producer,
		Brokers:           cfg.Kafka.BootstrapServers,
		Topic:             cfg.Offsets.Topic,
		ConnectorName:     cfg.Name,
		TopicPrefix:       cfg.TopicPrefix,
		Partitions:        int32(cfg.Offsets.TopicPartitions),
		ReplicationFactor: int16(cfg.Offsets.TopicReplicationFactor),
		ClientID:          "rivulet-" + cfg.Name,
		Logger:            log.With("component", "offsets"),
	})
	if err != nil {
		return nil, "", err
	}
	return s, "kafka topic " + cfg.Offsets.Topic, nil
}

// openStore returns the store cfg selects, locked for this process.
func openStore(ctx context.Context, cfg *config.Config, log *slog.Logger) (Store, error) {
	s, where, err := NewStore(cfg, log)
	if err != nil {
		return nil, err
	}
	if err := s.Lock(ctx); err != nil {
		return nil, errors.Join(err, s.Close())
	}
	log.Info("offsets store locked for this process", "store", where)
	return s, nil
}

// checkStart refuses to stream from a stored position the server cannot
// continue from exactly (binlogs purged, server reset or replaced), with the
// stored position, the server's earliest and the remedies. A purged
// position is left to the snapshot when the snapshot mode takes one then
// (when_needed, always, configuration_based with snapshot.data and
// snapshot.on.data.error); with snapshot.on.data.error alone the run starts
// afresh from the current position, as Debezium resets its offsets: the
// store returned then reports no stored position.
func checkStart(ctx context.Context, cfg *config.Config, store Store, log *slog.Logger) (Store, error) {
	pos, ok, err := store.Load(ctx)
	if err != nil || !ok {
		return store, err // Run loads again and reports a load error itself
	}
	_, err = CheckStored(ctx, cfg, pos)
	if errors.Is(err, binlog.ErrPositionNotFound) {
		switch cfg.Plan().OnPurged {
		case "snapshot":
			log.Warn("the stored position is no longer available; the snapshot mode takes a new snapshot", "mode", string(cfg.SnapshotMode), "reason", err.Error())
			return store, nil
		case "current":
			log.Warn("the stored position is no longer available; snapshot.on.data.error: starting afresh from the current position, changes in between are NOT captured",
				"stored", pos.String(), "reason", err.Error())
			return &freshStart{Store: store}, nil
		}
	}
	if err != nil {
		return store, fmt.Errorf("cannot resume from the stored offsets: %w", err)
	}
	return store, nil
}

// freshStart hides the stored position from the first Load, so that the
// engine starts as if none were stored; Saves go to the store as usual.
type freshStart struct {
	Store
	loaded bool
}

func (f *freshStart) Load(ctx context.Context) (offsets.Position, bool, error) {
	if !f.loaded {
		f.loaded = true
		return offsets.Position{}, false, nil
	}
	return f.Store.Load(ctx)
}

// serverCheck is binlog.CheckStart against the configured server.
func serverCheck(cfg *config.Config) func(context.Context, offsets.Position) error {
	return func(ctx context.Context, pos offsets.Position) error {
		return binlog.CheckStart(ctx, PreflightConfig(cfg), pos)
	}
}

// CheckStored says whether streaming can continue from the stored position
// pos: the server must hold it, or, with rivulet.binlog.archive.dir, the
// archive holds it and the server continues where the files end. It
// returns a sentence saying where the stream will come from, or an error
// naming the gap (binlog.ErrPositionNotFound, binlog.ErrServerChanged).
func CheckStored(ctx context.Context, cfg *config.Config, pos offsets.Position) (string, error) {
	if cfg.BinlogArchiveDir == "" {
		if err := binlog.CheckStart(ctx, PreflightConfig(cfg), pos); err != nil {
			return "", err
		}
		return "the server can continue from " + pos.String(), nil
	}
	a, err := binlog.OpenArchive(cfg.BinlogArchiveDir)
	if err != nil {
		return "", err
	}
	covered, end, err := binlog.CheckArchiveStart(ctx, a, pos, serverCheck(cfg))
	switch {
	case err != nil:
		return "", err
	case covered:
		return fmt.Sprintf("the binlog archive %s holds %s (files %s to %s); the server continues where they end, at %s",
			a.Dir, pos.String(), a.Files[0].Name, a.Files[len(a.Files)-1].Name, end.String()), nil
	}
	return "the server can continue from " + pos.String() + " (the binlog archive " + a.Dir + " is not needed)", nil
}
