package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rivulet-cdc/rivulet/offsets"
)

// primeKafkaOffsets copies the primed position from offsetFile into the
// Kafka offsets topic of the (freshly emptied) broker and returns the configuration of an
// exactly-once run reading it (exactly.once.support=required needs the
// Kafka offset store: the offset record travels in each transaction).
func primeKafkaOffsets(brokers []string, offsetFile, topic string) (map[string]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pos, ok, err := offsets.NewFileStore(offsetFile, "bench", primePrefix).Load(ctx)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("no primed position in %s", offsetFile)
	}
	ks, err := offsets.NewKafkaStore(offsets.KafkaConfig{Brokers: brokers, Topic: topic, ConnectorName: "bench", TopicPrefix: primePrefix})
	if err != nil {
		return nil, err
	}
	// Lock creates the topic; Close releases the lease for the run.
	err = ks.Lock(ctx)
	if err == nil {
		err = ks.Save(ctx, pos)
	}
	if err = errors.Join(err, ks.Close()); err != nil {
		return nil, fmt.Errorf("prime kafka offsets: %w", err)
	}
	return map[string]string{
		"offset.storage.file.filename": "",
		"offset.storage.topic":         topic,
		"exactly.once.support":         "required",
	}, nil
}
