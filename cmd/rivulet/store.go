package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/rivulet-cdc/rivulet/binlog"
	"github.com/rivulet-cdc/rivulet/config"
	"github.com/rivulet-cdc/rivulet/engine"
	"github.com/rivulet-cdc/rivulet/offsets"
)

// offsetStore is what `run` and `offsets` need of offsets.FileStore and
// offsets.KafkaStore.
type offsetStore interface {
	engine.OffsetStore
	// Lock makes this process the connector's only writer, or fails with
	// offsets.ErrLocked naming the process that is.
	Lock(ctx context.Context) error
	// Delete removes the stored position.
	Delete(ctx context.Context) error
	// Close releases the lock and connections.
	Close() error
}

var (
	_ offsetStore = (*offsets.FileStore)(nil)
	_ offsetStore = (*offsets.KafkaStore)(nil)
)

// newStore returns the store cfg selects: the file when
// offset.storage.file.filename is set, else the Kafka topic
// offset.storage.topic. It does not lock.
func newStore(cfg *config.Config, log *slog.Logger) (offsetStore, string, error) {
	if cfg.Offsets.FileFilename != "" || cfg.Offsets.Topic == "" {
		return offsets.NewFileStore(cfg.Offsets.FileFilename, cfg.Name, cfg.TopicPrefix), "file " + cfg.Offsets.FileFilename, nil
	}
	s, err := offsets.NewKafkaStore(offsets.KafkaConfig{
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
func openStore(ctx context.Context, cfg *config.Config, log *slog.Logger) (offsetStore, error) {
	s, where, err := newStore(cfg, log)
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
// stored position, the server's earliest and the remedies. With
// snapshot.mode=when_needed a purged position is left to the snapshot.
func checkStart(ctx context.Context, cfg *config.Config, store offsetStore, log *slog.Logger) error {
	pos, ok, err := store.Load(ctx)
	if err != nil || !ok {
		return err // engine.Run loads again and reports a load error itself
	}
	err = binlog.CheckStart(ctx, preflightConfig(cfg), pos)
	if errors.Is(err, binlog.ErrPositionNotFound) && cfg.SnapshotMode == config.SnapshotWhenNeeded {
		log.Warn("the stored position is no longer available; snapshot.mode=when_needed takes a new snapshot", "reason", err.Error())
		return nil
	}
	if err != nil {
		return fmt.Errorf("cannot resume from the stored offsets: %w", err)
	}
	return nil
}
