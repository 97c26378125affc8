package engine

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/rivulet-cdc/rivulet/binlog"
	"github.com/rivulet-cdc/rivulet/config"
	"github.com/rivulet-cdc/rivulet/sink/avro"
)

// AvroConfig returns the Kafka sink's Avro settings when the connector uses
// io.confluent.connect.avro.AvroConverter, else nil (JSON).
func AvroConfig(cfg *config.Config, log *slog.Logger) (*avro.Config, error) {
	if !cfg.UsesAvro() {
		return nil, nil
	}
	rc, err := registryConfig(cfg)
	if err != nil {
		return nil, err
	}
	rc.Logger = log.With("component", "schema-registry")
	reg, err := avro.NewRegistry(rc)
	if err != nil {
		return nil, err
	}
	names, err := avro.ParseNameAdjustment(cmp.Or(cfg.Avro.SchemaNameAdjustmentMode, "none"))
	if err != nil {
		return nil, err
	}
	fields, err := avro.ParseNameAdjustment(cmp.Or(cfg.Avro.FieldNameAdjustmentMode, "none"))
	if err != nil {
		return nil, err
	}
	return &avro.Config{Registry: reg, SchemaNames: names, FieldNames: fields}, nil
}

// avroHeartbeatRegistry returns the registry client of the heartbeat
// records when the connector uses the Avro converter, else nil.
func avroHeartbeatRegistry(cfg *config.Config, log *slog.Logger) (avro.SchemaRegistrar, error) {
	ac, err := AvroConfig(cfg, log)
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
	rc, err := registryConfig(cfg)
	var reg *avro.Registry
	if err == nil {
		rc.Timeout = 10 * time.Second
		reg, err = avro.NewRegistry(rc)
	}
	if err == nil {
		err = reg.Ping(ctx)
	}
	if err != nil {
		r.Detail = err.Error()
		r.Fix = "check value.converter.schema.registry.url (" + urls + "), its credentials, and that this host can reach the registry"
		return r, true
	}
	r.OK, r.Detail = true, "reachable at "+urls+" ("+registryAuth(cfg)+")"
	return r, true
}

// registryConfig is the schema registry client's setting: URLs (without
// credentials), basic or bearer auth, TLS.
func registryConfig(cfg *config.Config) (avro.RegistryConfig, error) {
	a := cfg.Avro
	rc := avro.RegistryConfig{URLs: a.RegistryURLs, User: a.User, Password: a.Password.Reveal(), Bearer: cfg.BearerToken()}
	if a.InheritSASL {
		s := cfg.Kafka.Client(config.RoleProducer).SASL
		rc.User, rc.Password = s.User, s.Password.Reveal()
	}
	if a.Bearer.LogicalCluster != "" || a.Bearer.IdentityPoolID != "" {
		rc.Headers = map[string]string{}
		if a.Bearer.LogicalCluster != "" {
			rc.Headers["target-sr-cluster"] = a.Bearer.LogicalCluster
		}
		if a.Bearer.IdentityPoolID != "" {
			rc.Headers["Confluent-Identity-Pool-Id"] = a.Bearer.IdentityPoolID
		}
	}
	if a.TLS != nil {
		tc, err := a.TLS.Config()
		if err != nil {
			return rc, fmt.Errorf("%w: schema registry TLS: %w", config.ErrInvalid, err)
		}
		rc.TLS = tc
	}
	return rc, nil
}

// registryAuth says how Rivulet authenticates to the registry, without
// credentials.
func registryAuth(cfg *config.Config) string {
	a := cfg.Avro
	var parts []string
	switch {
	case a.Bearer.Source != "":
		parts = append(parts, "bearer token ("+a.Bearer.Source+")")
	case a.InheritSASL:
		parts = append(parts, "basic auth as the Kafka SASL user")
	case a.User != "":
		parts = append(parts, "basic auth as user "+a.User)
	default:
		parts = append(parts, "no authentication")
	}
	if a.TLS != nil {
		parts = append(parts, "TLS with schema.registry.ssl.*")
	}
	return strings.Join(parts, ", ")
}
