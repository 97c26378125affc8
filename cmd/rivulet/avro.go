package main

import (
	"cmp"
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/rivulet-cdc/rivulet/binlog"
	"github.com/rivulet-cdc/rivulet/config"
	"github.com/rivulet-cdc/rivulet/sink"
)

// avroConfig returns the Kafka sink's Avro settings when the connector uses
// io.confluent.connect.avro.AvroConverter, else nil (JSON).
func avroConfig(cfg *config.Config, log *slog.Logger) (*sink.AvroConfig, error) {
	if !cfg.UsesAvro() {
		return nil, nil
	}
	reg, err := sink.NewRegistry(sink.RegistryConfig{
		URLs: cfg.Avro.RegistryURLs,
		User: cfg.Avro.User, Password: cfg.Avro.Password.Reveal(),
		Logger: log.With("component", "schema-registry"),
	})
	if err != nil {
		return nil, err
	}
	names, err := sink.ParseNameAdjustment(cmp.Or(cfg.Avro.SchemaNameAdjustmentMode, "none"))
	if err != nil {
		return nil, err
	}
	fields, err := sink.ParseNameAdjustment(cmp.Or(cfg.Avro.FieldNameAdjustmentMode, "none"))
	if err != nil {
		return nil, err
	}
	return &sink.AvroConfig{Registry: reg, SchemaNames: names, FieldNames: fields}, nil
}

// avroHeartbeatRegistry returns the registry client of the heartbeat
// records when the connector uses the Avro converter, else nil.
func avroHeartbeatRegistry(cfg *config.Config, log *slog.Logger) (sink.SchemaRegistrar, error) {
	ac, err := avroConfig(cfg, log)
	if err != nil || ac == nil {
		return nil, err
	}
	return ac.Registry, nil
}

// registryCheck is `rivulet check`'s schema registry line; ok is false when
// the connector does not use the Avro converter.
func registryCheck(ctx context.Context, cfg *config.Config) (r binlog.CheckResult, ok bool) {
	if !cfg.UsesAvro() {
		return r, false
	}
	r.Name = "schema registry"
	urls := strings.Join(cfg.Avro.RegistryURLs, ",")
	reg, err := sink.NewRegistry(sink.RegistryConfig{URLs: cfg.Avro.RegistryURLs, User: cfg.Avro.User,
		Password: cfg.Avro.Password.Reveal(), Timeout: 10 * time.Second})
	if err == nil {
		err = reg.Ping(ctx)
	}
	if err != nil {
		r.Detail = err.Error()
		r.Fix = "check value.converter.schema.registry.url (" + urls + "), its credentials, and that this host can reach the registry"
		return r, true
	}
	r.OK, r.Detail = true, "reachable at "+urls
	return r, true
}
